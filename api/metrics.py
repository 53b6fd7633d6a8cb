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

__all__ = ["Metrics", "instrument"]


class Metrics:
    """The facade's registry and request metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self.requests = Counter(
            "daytwo_api_requests",
            "HTTP requests served by the facade, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "daytwo_api_request_duration_seconds",
            "Time to answer a request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Count one finished request by the route template the router left in ``scope``."""
        template = getattr(scope.get("route"), "path", None) or "unmatched"
        if template != "/metrics":
            self.latency.labels(scope["method"], template).observe(seconds)
            self.requests.labels(scope["method"], template, str(status)).inc()

    def mount(self, app: FastAPI) -> None:
        """Serve the registry at ``/metrics`` on ``app``."""

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _Observe:
    """Count and time each HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

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
            self.metrics.observe(scope, status, time.perf_counter() - started)


def instrument(app: FastAPI) -> CollectorRegistry:
    """Mount /metrics on ``app`` with its own registry and count every request; returns the registry."""
    metrics = Metrics()
    app.add_middleware(_Observe, metrics=metrics)
    metrics.mount(app)
    return metrics.registry
