"""Prometheus metrics of the HTTP edge: request rate, errors and latency per route template."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"  # unknown URLs share one label so scanners cannot blow up the series count
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class EdgeMetrics:
    """One registry per app (several apps may live in one test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("gateway_http_requests_total", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.errors = Counter("gateway_http_errors_total", "HTTP answers with status >= 500 (server errors)",
                              ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("gateway_http_request_duration_seconds", "Time to answer an HTTP request",
                                 ["method", "route"], buckets=BUCKETS, registry=self.registry)
        self.in_flight = Gauge("gateway_http_requests_in_flight", "HTTP requests being answered",
                               registry=self.registry)


def route_template(scope: Scope) -> str:
    """The matched route's path template (/api/v1/reports/{report_id}), else 'unmatched'."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    # Requests answered before routing (429, 413) still count against their route.
    for candidate in getattr(scope.get("app"), "routes", ()):
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return getattr(candidate, "path", UNMATCHED)
    return UNMATCHED


class MetricsMiddleware:
    """Counts every answer by method, route template and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: EdgeMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, started_at = 500, time.perf_counter()

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, tracking_send)
        finally:
            self.metrics.in_flight.dec()
            route, method = route_template(scope), scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            if status >= 500:
                self.metrics.errors.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started_at)
