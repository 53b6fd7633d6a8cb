"""Prometheus metrics of the facade at /metrics (what the chart's ServiceMonitor scrapes).

Requests are counted and timed by route template (``/api/v1/vms/{vm_id}``, never the raw path), so
the label set stays bounded whatever ids clients send. A pure ASGI middleware (no per-request task
or stream, unlike ``@app.middleware("http")``): it reads the matched route from the scope, which
mounted sub-apps update in place.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["instrument"]


class _Observe:
    """Count and time each HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            if template != "/metrics":
                self.latency.labels(scope["method"], template).observe(time.perf_counter() - started)
                self.requests.labels(scope["method"], template, str(status)).inc()


def instrument(app: FastAPI) -> CollectorRegistry:
    """Mount /metrics on ``app`` with its own registry and count every request; returns the registry."""
    registry = CollectorRegistry()
    process_collector.ProcessCollector(registry=registry)
    platform_collector.PlatformCollector(registry=registry)
    gc_collector.GCCollector(registry=registry)
    requests = Counter(
        "daytwo_api_requests",
        "HTTP requests served by the facade, by method, route template and status code.",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "daytwo_api_request_duration_seconds",
        "Time to answer a request, by method and route template.",
        ["method", "route"],
        registry=registry,
    )
    app.add_middleware(_Observe, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry
