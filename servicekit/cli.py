"""The command line every service shares: `python -m services.<svc> [serve [--setup]|setup|migrate|seed|...]`.

`setup` migrates the service's database to head and then seeds it, in one process and, on
PostgreSQL, under an advisory lock (replicas starting together take turns). `serve --setup` does
the same before serving, so the dev supervisor starts one interpreter per service instead of three.
A failed setup exits with EXIT_SETUP_FAILED, which the supervisor reports at once instead of
waiting for health. Only the standard library is imported here; Alembic only when a command needs it.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

EXIT_SETUP_FAILED = 78  # sysexits.h EX_CONFIG


class Settings(Protocol):
    """What the shared commands need of a service's Settings."""

    database_url: str


@dataclass(frozen=True)
class Extra:
    """A service-specific sub-command: `await run(settings, *args)`; an int result is the exit status."""

    run: Callable[..., Awaitable[int | None]]
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceCli:
    """One service's sub-commands around its serve and (optional) seed coroutine functions."""

    name: str
    settings: Callable[[], Settings]
    serve: Callable[[Settings], Awaitable[None]]
    migrations: Path
    seed: Callable[[Settings], Awaitable[None]] | None = None
    extras: Mapping[str, Extra] = field(default_factory=dict)

    def usage(self) -> str:
        """The one-line usage message."""
        words = ["serve [--setup]", "setup", "migrate", "seed"]
        words += [" ".join((name, *extra.args)) for name, extra in self.extras.items()]
        return f"usage: python -m services.{self.name} [{'|'.join(words)}]"

    async def setup(self, settings: Settings) -> None:
        """Migrate to head, then seed; on PostgreSQL one process at a time."""
        from servicekit import migrate  # SQLAlchemy here, Alembic inside upgrade: setup only

        async with migrate.exclusive(settings.database_url, self.name):
            # Alembic's env.py runs its own event loop, so it runs in a worker thread.
            await asyncio.to_thread(migrate.upgrade, self.migrations, settings.database_url)
            if self.seed is not None:
                await self.seed(settings)

    def main(self, argv: list[str]) -> None:
        """Build the settings once and run the sub-command named in argv (default: serve)."""
        command, args = (argv[0], argv[1:]) if argv else ("serve", [])
        if command in ("-h", "--help"):
            print(self.usage())
            return
        runner = self._runner(command, args)
        if runner is None:
            raise SystemExit(f"{self.usage()}\nnot {' '.join(argv)!r}")
        result = asyncio.run(runner(self.settings()))
        if isinstance(result, int):
            raise SystemExit(result)

    def _runner(self, command: str, args: list[str]) -> Callable[[Settings], Awaitable[int | None]] | None:
        """The coroutine function running command with args, or None when they are not valid."""
        if command == "serve" and args in ([], ["--setup"]):
            return self._serve_after_setup if args else self.serve
        if command == "setup" and not args:
            return self._checked_setup
        if command == "migrate" and not args:
            return self._migrate
        if command == "seed" and not args:
            return self.seed or _nothing
        extra = self.extras.get(command)
        if extra is not None and len(args) == len(extra.args):
            return lambda settings: extra.run(settings, *args)
        return None

    async def _checked_setup(self, settings: Settings) -> int | None:
        """Run setup; on failure print why and return EXIT_SETUP_FAILED."""
        try:
            await self.setup(settings)
        except Exception:  # noqa: BLE001 - reported on stderr, the exit status tells the supervisor
            traceback.print_exc()
            print(f"{self.name}: setup failed", file=sys.stderr, flush=True)
            return EXIT_SETUP_FAILED
        return None

    async def _serve_after_setup(self, settings: Settings) -> int | None:
        """Setup, then serve in the same process (and event loop)."""
        failed = await self._checked_setup(settings)
        if failed is not None:
            return failed
        await self.serve(settings)
        return None

    async def _migrate(self, settings: Settings) -> None:
        """Migrate only (no seed), under the same lock as setup."""
        from servicekit import migrate

        async with migrate.exclusive(settings.database_url, self.name):
            await asyncio.to_thread(migrate.upgrade, self.migrations, settings.database_url)


async def _nothing(settings: Settings) -> None:
    """The seed of a service without reference data."""
