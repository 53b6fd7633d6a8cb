"""Prometheus metrics of the facade at /metrics (what the chart's ServiceMonitor scrapes).

Requests are counted and timed by route template (``/api/v1/vms/{vm_id}``, never the raw path), so
the label set stays bounded whatever ids clients send.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
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

__all__ = ["instrument"]


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

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        if template != "/metrics":
            latency.labels(request.method, template).observe(time.perf_counter() - started)
            requests.labels(request.method, template, str(response.status_code)).inc()
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry
