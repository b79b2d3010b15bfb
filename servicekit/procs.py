"""Child processes for the dev supervisor: output capture, one-shot steps, restart with back-off."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import TextIO

log = logging.getLogger(__name__)

_COLOURS = ("36", "33", "35", "32", "34", "31", "96", "93")
_LINE_LIMIT = 1 << 20


class StepFailed(RuntimeError):
    """A setup step (migrate, seed) exited non-zero; the message carries its output."""


class LogSink:
    """Append each child's lines to <log_dir>/<name>.log and, optionally, to stdout with a prefix."""

    def __init__(self, log_dir: Path, console: bool = False, width: int = 10) -> None:
        self.log_dir = log_dir
        self.console = console
        self.width = width
        self._files: dict[str, TextIO] = {}
        self._colour = console and sys.stdout.isatty()

    def path(self, name: str) -> Path:
        """Return the log file of one child."""
        return self.log_dir / f"{name}.log"

    def write(self, name: str, line: str) -> None:
        """Record one line of output (without its newline) from the named child."""
        file = self._files.get(name)
        if file is None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            file = self._files[name] = open(self.path(name), "a", encoding="utf-8", buffering=1)
        file.write(line + "\n")
        if self.console:
            print(f"{self._prefix(name)} | {line}", flush=True)

    def tail(self, name: str, lines: int = 20) -> list[str]:
        """Return the last lines of a child's log file (empty if there is none)."""
        try:
            with open(self.path(name), encoding="utf-8", errors="replace") as file:
                return [line.rstrip("\n") for line in deque(file, maxlen=lines)]
        except FileNotFoundError:
            return []

    def close(self) -> None:
        """Close every open log file."""
        for file in self._files.values():
            file.close()
        self._files.clear()

    def _prefix(self, name: str) -> str:
        padded = name.ljust(self.width)
        if not self._colour:
            return padded
        colour = _COLOURS[sum(map(ord, name)) % len(_COLOURS)]
        return f"\033[{colour}m{padded}\033[0m"


class Backoff:
    """Restart delays: 0.5 s doubling up to 30 s, back to 0.5 s once a run has lasted 60 s."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0, stable_after: float = 60.0) -> None:
        self.initial, self.cap, self.stable_after = initial, cap, stable_after
        self._next = initial

    def delay(self, uptime: float) -> float:
        """Return the delay before the next restart of a child that ran for uptime seconds."""
        if uptime >= self.stable_after:
            self._next = self.initial
        delay, self._next = self._next, min(self._next * 2, self.cap)
        return delay


async def _spawn(argv: list[str], env: dict[str, str], cwd: Path | None) -> asyncio.subprocess.Process:
    """Start argv in its own session (terminal Ctrl-C reaches only the supervisor)."""
    return await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True, limit=_LINE_LIMIT)


async def _pump(reader: asyncio.StreamReader, name: str, sink: LogSink, keep: list[str] | None = None) -> None:
    """Copy a child's output into the sink line by line until EOF."""
    while True:
        try:
            raw = await reader.readline()
        except ValueError:  # a line longer than the limit: pass it on in pieces
            raw = await reader.read(_LINE_LIMIT)
        if not raw:
            return
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        sink.write(name, line)
        if keep is not None:
            keep.append(line)


def _signal_group(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Send sig to the child's process group (its session), ignoring a child that is already gone."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


async def terminate(proc: asyncio.subprocess.Process, timeout: float) -> int:
    """SIGTERM the child's group, wait up to timeout seconds, then SIGKILL; return the exit code."""
    if proc.returncode is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            return await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            _signal_group(proc, signal.SIGKILL)
    return await proc.wait()


async def run_step(name: str, argv: list[str], env: dict[str, str], sink: LogSink, cwd: Path | None = None) -> None:
    """Run one setup step to completion; raise StepFailed with its output if it exits non-zero."""
    proc = await _spawn(argv, env, cwd)
    output: list[str] = []
    try:
        await _pump(proc.stdout, name, sink, output)
        code = await proc.wait()
    except BaseException:
        await terminate(proc, timeout=5)
        # Read the pipe to EOF so the transport closes while the loop still runs.
        with suppress(TimeoutError, ValueError):
            await asyncio.wait_for(proc.stdout.read(), 2)
        raise
    if code != 0:
        text = "\n".join(output[-200:])
        raise StepFailed(f"{name}: {' '.join(argv)} exited with code {code}:\n{text}")


async def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Wait until host:port accepts TCP connections; raise TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{host}:{port} did not accept connections within {timeout:.0f} s") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
        return


class Child:
    """One long-running child: started once, restarted with back-off when it exits on its own."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], sink: LogSink, *,
                 cwd: Path | None = None, stop_timeout: float = 10.0, backoff: Backoff | None = None) -> None:
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.sink = sink
        self.stop_timeout = stop_timeout
        self.backoff = backoff or Backoff()
        self.restarts = 0
        self.last_exit_code: int | None = None  # of the latest process that exited, None while none has
        self.proc: asyncio.subprocess.Process | None = None
        self._pump_task: asyncio.Task | None = None
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()

    @property
    def pid(self) -> int | None:
        """Return the pid of the current process, if any."""
        return self.proc.pid if self.proc else None

    async def start(self) -> None:
        """Start the process and the task that watches and restarts it."""
        await self._launch()
        self._task = asyncio.create_task(self._supervise(), name=f"supervise-{self.name}")

    async def stop(self) -> None:
        """Stop restarting, terminate the process (SIGTERM, then SIGKILL) and wait for it."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        elif self.proc is not None:
            await terminate(self.proc, self.stop_timeout)

    async def _launch(self) -> None:
        self.proc = await _spawn(self.argv, self.env, self.cwd)
        self._pump_task = asyncio.create_task(_pump(self.proc.stdout, self.name, self.sink))

    async def _supervise(self) -> None:
        while True:
            started = time.monotonic()
            code = self.last_exit_code = await self._wait_exit_or_stop()
            if self._stopping.is_set():
                return
            self.restarts += 1
            delay = self.backoff.delay(time.monotonic() - started)
            self._announce(f"{self.name} exited with code {code}; restarting in {delay:.1f} s (restart #{self.restarts})")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            await self._relaunch()

    async def _relaunch(self) -> None:
        try:
            await self._launch()
        except OSError as exc:  # the old, exited process stays current, so the next round backs off again
            self._announce(f"{self.name} could not be started: {exc}")

    async def _wait_exit_or_stop(self) -> int:
        exited = asyncio.create_task(self.proc.wait())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        code = await terminate(self.proc, self.stop_timeout)
        await self._drain_output()
        return code

    async def _drain_output(self) -> None:
        # A grandchild outside the process group could hold the pipe open; do not wait for it forever.
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._pump_task), 2.0)
        self._pump_task.cancel()

    def _announce(self, message: str) -> None:
        log.warning(message)
        self.sink.write("supervisor", message)
