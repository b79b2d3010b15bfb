"""The load generator: asyncio HTTP clients (httpx, and the leaner ones in bench.rawhttp) in their own OS process.

`run(job)` is the entry point of that process (see `bench.runner.LoadGen`); a job is a plain dict
and so is its result, so both cross the process boundary by pickling. Nothing here imports the
platform: the generator only speaks HTTP to the gateway (or to the baseline apps).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.rawhttp import RawConnection, RawPool, SseStream

LIMIT_SLACK = 16
POLL_PAGE = 20   # inbox items per poll in the pipeline job


def run(job: dict) -> dict:
    """Run one job to completion in this (load generator) process and return its figures."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is pinned, the stdlib loop works too
        pass
    cpu0 = time.process_time()
    result = asyncio.run(_JOBS[job["kind"]](job))
    result["loadgen_cpu_s"] = round(time.process_time() - cpu0, 3)
    result["loadgen_pid"] = os.getpid()
    return result


def percentiles(latencies_s: list[float]) -> dict[str, float]:
    """p50/p90/p99/max of latencies (seconds in, milliseconds out); zeros when empty."""
    if not latencies_s:
        return {"p50_ms": 0.0, "p90_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "n": 0}
    xs = sorted(latencies_s)

    def at(q: float) -> float:
        return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 2)

    return {"p50_ms": at(0.50), "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": round(xs[-1] * 1000, 2),
            "n": len(xs)}


def _client(base_url: str, connections: int, timeout: float = 30.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout)


def _body(template: dict | None, n: int) -> dict | None:
    """The request body of request n: the template with "{n}" in its description filled in."""
    if template is None:
        return None
    body = dict(template)
    if "description" in body:
        body["description"] = body["description"].replace("{n}", str(n))
    return body


async def _closed(job: dict) -> dict:
    """Closed loop: `connections` workers each send the next request when the previous returns.

    Requests go round-robin over job["requests"] ([method, path, json-template-or-None]); a warm-up
    of job["warmup_s"] runs first and is not counted.
    """
    requests = job["requests"]
    headers = job.get("headers", {})
    counter = itertools.count()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    recording = False
    stop_at = 0.0
    warm = {"ok": 0}

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            n = next(counter)
            method, path, template = requests[n % len(requests)]
            extra = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"} if method == "POST" else {}
            t0 = time.perf_counter()
            try:
                r = await client.request(method, path, json=_body(template, n), headers={**headers, **extra})
                code = str(r.status_code)
            except httpx.HTTPError as exc:
                code = type(exc).__name__
                if len(errors) < 5:
                    errors.append(repr(exc))
            if not recording and code.startswith("2"):
                warm["ok"] += 1
            if recording:
                if code.startswith("2"):
                    latencies.append(time.perf_counter() - t0)
                statuses[code] = statuses.get(code, 0) + 1

    async def raw_worker(conn: RawConnection) -> None:
        while time.monotonic() < stop_at:
            n = next(counter)
            method, path, template = requests[n % len(requests)]
            extra = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"} if method == "POST" else {}
            t0 = time.perf_counter()
            try:
                code = str(await conn.request(method, path, _body(template, n), {**headers, **extra}))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                code = type(exc).__name__
                if len(errors) < 5:
                    errors.append(repr(exc))
                await conn.close()
            if not recording and code.startswith("2"):
                warm["ok"] += 1
            if recording:
                if code.startswith("2"):
                    latencies.append(time.perf_counter() - t0)
                statuses[code] = statuses.get(code, 0) + 1

    if job.get("client", "raw") == "raw":
        conns = [RawConnection(job["base_url"]) for _ in range(job["connections"])]
        if job.get("warmup_s", 0) > 0:
            stop_at = time.monotonic() + job["warmup_s"]
            await asyncio.gather(*(raw_worker(c) for c in conns))
        recording = True
        t0 = time.monotonic()
        stop_at = t0 + job["duration_s"]
        await asyncio.gather(*(raw_worker(c) for c in conns))
        elapsed = time.monotonic() - t0
        await asyncio.gather(*(c.close() for c in conns))
    else:
        async with _client(job["base_url"], job["connections"] + LIMIT_SLACK) as client:
            if job.get("warmup_s", 0) > 0:
                stop_at = time.monotonic() + job["warmup_s"]
                await asyncio.gather(*(worker(client) for _ in range(job["connections"])))
            recording = True
            t0 = time.monotonic()
            stop_at = t0 + job["duration_s"]
            await asyncio.gather(*(worker(client) for _ in range(job["connections"])))
            elapsed = time.monotonic() - t0
    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    return {"requests": sum(statuses.values()), "ok": ok, "statuses": statuses, "errors": errors,
            "elapsed_s": round(elapsed, 3), "rps": round(ok / elapsed, 1) if elapsed else 0.0,
            "latency": percentiles(latencies), "connections": job["connections"], "warmup_ok": warm["ok"], "client": job.get("client", "raw")}


async def _pipeline(job: dict) -> dict:
    """Open loop at job["rate"] reports/s for job["duration_s"] while a watcher follows the inbox.

    For each report: the wall time of the POST's response, and the first time the watcher saw the
    resident's `report_submitted` and `report_assigned` inbox items. job["watch"] picks the watcher:
    "sse" (default) reads the GET /api/v1/events stream, which costs the system nothing while idle
    and delivers items that commit out of id order; "poll" pages GET /api/v1/notifications every
    job["poll_interval_s"]. After the load the watcher keeps going until every report's items are
    seen or job["drain_timeout_s"] passes.
    """
    watch = job.get("watch", "sse")
    headers, template = job["headers"], job["body"]
    responded: dict[str, float] = {}
    post_latencies: list[float] = []
    statuses: dict[str, int] = {}
    seen: dict[str, dict[str, float]] = {"report_submitted": {}, "report_assigned": {}}
    polls = {"n": 0, "errors": 0, "pages": 0, "latencies": []}
    sse = {"events": 0, "reconnects": 0, "errors": 0}
    errors: list[str] = []
    done = asyncio.Event()

    def sighted(item: dict, at: float) -> None:
        """The first time an inbox item of a watched type for a report was seen."""
        kind = seen.get(item["type"])
        if kind is not None and item["report_id"] and item["report_id"] not in kind:
            kind[item["report_id"]] = at

    async def post(pool: RawPool, n: int) -> None:
        t0 = time.perf_counter()
        try:
            status, data = await pool.exchange("POST", "/api/v1/reports", _body(template, n),
                                               {**headers, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"})
            code = str(status)
            if status == 201:
                responded[json.loads(data)["id"]] = time.time()
                post_latencies.append(time.perf_counter() - t0)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            code = type(exc).__name__
            if len(errors) < 5:
                errors.append(repr(exc))
        statuses[code] = statuses.get(code, 0) + 1

    async def poller(pool: RawPool) -> None:
        newest = ""   # the newest inbox id seen so far (ids are time-ordered UUIDv7)
        while not done.is_set():
            t0 = time.perf_counter()
            try:
                # newest first; page back until we reach what the previous poll saw (bounded), so a
                # slow poll during a burst does not let items scroll out of one page unseen
                cursor, top = "", ""
                for _page in range(20):
                    # a small first page (the resident gets a few items per 25 ms; a 100-item page
                    # 40 times a second cost the system more than the reports themselves), then
                    # full pages while catching up (up to 20 x 100 items behind)
                    params = {"limit": 100, "cursor": cursor} if cursor else {"limit": POLL_PAGE}
                    t1 = time.perf_counter()
                    status, data = await pool.exchange("GET", f"/api/v1/notifications?{urlencode(params)}",
                                                       None, headers)
                    now = time.time()
                    polls["latencies"].append(time.perf_counter() - t1)
                    page = json.loads(data) if status == 200 else {}
                    items = page.get("items", [])
                    for item in items:
                        top = max(top, item["id"])
                        sighted(item, now)
                    cursor = page.get("next_cursor") or ""
                    if not items or not cursor or not newest or items[-1]["id"] <= newest:
                        break
                    polls["pages"] += 1
                newest = max(newest, top)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, KeyError):
                polls["errors"] += 1
            polls["n"] += 1
            await asyncio.sleep(max(0.0, job["poll_interval_s"] - (time.perf_counter() - t0)))

    async def streamer(stream: SseStream, ready: asyncio.Event) -> None:
        """Follow the event stream until cancelled, reconnecting (Last-Event-ID) after the server's
        retry delay whenever it drops; `ready` once the first block (the stream position) arrived."""
        while True:
            try:
                await stream.open()
                while True:
                    event = await stream.next_event()
                    ready.set()
                    if event.event != "notification":
                        continue
                    sse["events"] += 1
                    sighted(json.loads(event.data), event.at)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, KeyError) as exc:
                sse["errors"] += 1
                if len(errors) < 5:
                    errors.append(f"event stream: {exc!r}")
            await asyncio.sleep(stream.retry_s)
            sse["reconnects"] += 1

    # raw keep-alive connections, like the closed loop: httpx used ~40% of a core at 100 reports/s
    pool, poll_pool = RawPool(job["base_url"], job["max_in_flight"]), RawPool(job["base_url"], 1)
    stream = SseStream(job["base_url"], "/api/v1/events", headers)
    try:
        if watch == "sse":
            ready = asyncio.Event()
            watch_task = asyncio.create_task(streamer(stream, ready))
            # no POST before the stream has its position: every item made after it is delivered
            started = asyncio.create_task(ready.wait())
            await asyncio.wait([watch_task, started], timeout=job["drain_timeout_s"],
                               return_when=asyncio.FIRST_COMPLETED)
            started.cancel()
            if not ready.is_set():
                crash = watch_task.exception() if watch_task.done() else None
                watch_task.cancel()
                raise RuntimeError(f"the event stream did not start: {errors}") from crash
        else:
            watch_task = asyncio.create_task(poller(poll_pool))
        in_flight: set[asyncio.Task] = set()
        total = int(job["rate"] * job["duration_s"])
        t_start = time.monotonic()
        late, not_sent = 0, 0
        for n in range(total):
            due = t_start + n / job["rate"]
            if time.monotonic() > t_start + job["duration_s"] + 1.0:   # the system fell behind: stop on time
                not_sent = total - n
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(in_flight) >= job["max_in_flight"]:
                late += 1
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.create_task(post(pool, n))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight)
        load_elapsed = time.monotonic() - t_start
        deadline = time.monotonic() + job["drain_timeout_s"]
        while time.monotonic() < deadline:
            if all(set(responded) <= set(kind) for kind in seen.values()):
                break
            await asyncio.sleep(0.05)
        done.set()
        if watch == "sse":
            watch_task.cancel()   # it waits on the socket; the poller stops at `done`
        await asyncio.wait([watch_task])
        if not watch_task.cancelled():
            watch_task.result()
    finally:
        await asyncio.gather(pool.close(), poll_pool.close(), stream.close())
    lat = {}
    for kind, first_seen in seen.items():
        lat[kind] = percentiles([max(0.0, first_seen[i] - t) for i, t in responded.items() if i in first_seen])
        lat[kind]["missing"] = sum(1 for i in responded if i not in first_seen)
    return {"submitted": len(responded), "statuses": statuses, "errors": errors, "load_elapsed_s": round(load_elapsed, 3),
            "achieved_rate": round(len(responded) / load_elapsed, 1) if load_elapsed else 0.0,
            "late_sends": late, "post_latency": percentiles(post_latencies), "inbox": lat,
            "watch": watch, **({"sse": sse} if watch == "sse" else {
                "polls": {"n": polls["n"], "errors": polls["errors"], "extra_pages": polls["pages"],
                          "latency": percentiles(polls["latencies"])}}),
            "not_sent": not_sent,
            "responded": responded}


async def _broadcast(job: dict) -> dict:
    """Publish a city-wide announcement, then probe the inbox endpoint until the fan-out is done.

    Time to done: from the publish response to the first poll of GET /api/v1/announcements showing
    fanout_status "done" with job["expect_recipients"] recipients (every inbox row written).
    """
    probe_latencies: list[float] = []
    probe_status: dict[str, int] = {}
    finished = asyncio.Event()
    state: dict[str, Any] = {"recipients": 0, "status": "", "polls": 0}

    async def probe(client: httpx.AsyncClient) -> None:
        while not finished.is_set():
            t0 = time.perf_counter()
            try:
                r = await client.get("/api/v1/notifications", params={"limit": 20}, headers=job["resident_headers"])
                code = str(r.status_code)
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            if code == "200":
                probe_latencies.append(time.perf_counter() - t0)
            probe_status[code] = probe_status.get(code, 0) + 1
            await asyncio.sleep(job.get("probe_pause_s", 0.0))

    async with _client(job["base_url"], job["probe_connections"] + 4 + LIMIT_SLACK) as client:
        probes = [asyncio.create_task(probe(client)) for _ in range(job["probe_connections"])]
        await asyncio.sleep(job.get("before_s", 1.0))   # the inbox endpoint before the fan-out, as a reference
        before = percentiles(probe_latencies)
        probe_latencies.clear()
        r = await client.post("/api/v1/announcements", headers={**job["operator_headers"],
                                                                   "Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
                              json={"title": {"vi": "Cảnh báo triều cường", "en": "High tide warning"},
                                    "body": {"vi": "Triều cường đạt đỉnh lúc 17:00, hạn chế đi lại.",
                                             "en": "High tide peaks at 17:00; avoid travel."}, "urgent": True})
        r.raise_for_status()
        t_pub = time.monotonic()
        ann_id = r.json()["id"]
        deadline = t_pub + job["timeout_s"]
        done_after = None
        while time.monotonic() < deadline:
            resp = await client.get("/api/v1/announcements", params={"limit": 5})
            state["polls"] += 1
            item = next((a for a in resp.json()["items"] if a["id"] == ann_id), None)
            if item:
                state["recipients"], state["status"] = item["recipients"], item["fanout_status"]
                if item["fanout_status"] == "done":
                    done_after = time.monotonic() - t_pub
                    break
            await asyncio.sleep(job.get("status_poll_s", 0.1))
        finished.set()
        await asyncio.gather(*probes)
    return {"announcement_id": ann_id, "fanout_s": round(done_after, 3) if done_after is not None else None,
            "recipients": state["recipients"], "fanout_status": state["status"],
            "expect_recipients": job["expect_recipients"], "inbox_during": percentiles(probe_latencies),
            "inbox_before": before, "probe_statuses": probe_status, "probe_connections": job["probe_connections"]}


_JOBS = {"closed": _closed, "pipeline": _pipeline, "broadcast": _broadcast}
