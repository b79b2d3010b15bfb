"""Rate limits per client IP, per account and (stricter) per IP on /api/v1/auth/*; 429 with Retry-After.

The `limits` library does the counting (memory by default, Redis when GATEWAY_RATE_STORAGE_URL says so).
It has no token-bucket strategy, so each limit is a list such as "20/second;600/minute": the short
window is the burst, the long one the sustained rate (a token bucket's two numbers), each counted
with the sliding-window-counter strategy (two counters per key and window: O(1) per hit, where the
moving window keeps a list of every hit and, in memory, sweeps each list on a thread per request).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import verify_once
from gateway.config import GatewaySettings
from gateway.errors import problem

log = logging.getLogger(__name__)
EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
AUTH_PREFIX = "/api/v1/auth/"


@dataclass
class Rules:
    """The parsed limits of each kind."""

    ip: list[RateLimitItem]
    account: list[RateLimitItem]
    auth: list[RateLimitItem]


def storage_url(url: str) -> str:
    """memory:// or redis://... -> the asyncio flavour limits wants (async+memory://, async+redis://)."""
    return url if url.startswith("async+") else f"async+{url}"


class EdgeLimiter:
    """Counts hits per (kind, key) and says how long to wait once a limit is used up."""

    def __init__(self, settings: GatewaySettings):
        self.rules = Rules(ip=parse_many(settings.rate_ip), account=parse_many(settings.rate_account),
                           auth=parse_many(settings.rate_auth))
        self.strategy = SlidingWindowCounterRateLimiter(storage_from_string(storage_url(settings.rate_storage_url)))

    async def retry_after(self, kind: str, key: str, items: list[RateLimitItem]) -> int | None:
        """Take one hit from every limit of `kind` for `key`; seconds to wait if one is used up, else None."""
        for item in items:
            if not await self.strategy.hit(item, kind, key):
                stats = await self.strategy.get_window_stats(item, kind, key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None


async def account_of(scope: Scope) -> str | None:
    """The verified subject of the bearer token, if any (a forged token must not spend someone's budget)."""
    header = Headers(scope=scope).get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    try:
        # The outcome is kept in the request's state: the route's auth dependency does not verify again.
        principal = await verify_once(scope, header[7:].strip())
    except Exception:  # noqa: BLE001 - any failure means "no account"; the route answers 401 itself
        return None
    return principal.user_id or None


class RateLimitMiddleware:
    """Answers 429 problem+json with Retry-After before the request reaches a route or a backend."""

    def __init__(self, app: ASGIApp, limiter: EdgeLimiter):
        self.app, self.limiter = app, limiter

    async def checks(self, scope: Scope) -> list[tuple[str, str, list[RateLimitItem]]]:
        """(kind, key, limits) that apply to this request."""
        ip = (scope.get("client") or ("unknown", 0))[0]
        rules = self.limiter.rules
        out = [("ip", ip, rules.ip)]
        if scope["path"].startswith(AUTH_PREFIX):
            out.append(("auth", ip, rules.auth))
        if account := await account_of(scope):
            out.append(("account", account, rules.account))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        wait = None
        try:
            for kind, key, items in await self.checks(scope):
                if (wait := await self.limiter.retry_after(kind, key, items)) is not None:
                    break
        except Exception as exc:  # noqa: BLE001 - a limiter store that is down must not take the API down
            log.warning("rate limiter unavailable; request let through", extra={"error_type": type(exc).__name__})
            wait = None
        if wait is None:
            await self.app(scope, receive, send)
            return
        await problem(Request(scope), 429, "rate_limited", headers={"Retry-After": str(wait)})(scope, receive, send)
