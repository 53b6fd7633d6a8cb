"""Prometheus metrics of the facade at /metrics (what the chart's ServiceMonitor scrapes).

Requests are counted and timed by route template (``/horcrux/api/vms/{vmid}``, never the raw path),
so the label set stays bounded whatever ids clients send; a path no route matches counts as
``unmatched`` and a method outside :data:`METHODS` as ``other``, so neither random paths nor random
method names (``FOO /x``) create series. The front door (api/app.py) calls :meth:`Metrics.observe`
once per request with the scope the matched route left behind.
"""

from __future__ import annotations

from typing import Any

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
from starlette.types import Scope

__all__ = ["METHODS", "Metrics", "method_label"]

#: The HTTP methods counted under their own name; any other is ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """The ``method`` label of a request: its method if standard, else ``other`` (a bounded label set)."""
    return method if method in METHODS else "other"


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

        #: labelled children by (method, template, status): ``labels()`` per request costs more than the count
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Count one finished request by the route template the router left in ``scope``.

        The template is prefixed with the mount's path (``root_path``), as the client sees it.
        """
        route = getattr(scope.get("route"), "path", None)
        template = f"{scope.get('root_path', '')}{route}" if route else "unmatched"
        if template == "/metrics":
            return
        method = method_label(scope["method"])
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.latency.labels(method, template),
                self.requests.labels(method, template, str(status)),
            )
            self._children[key] = children
        children[0].observe(seconds)
        children[1].inc()

    def mount(self, app: FastAPI) -> None:
        """Serve the registry at ``/metrics`` on ``app``."""

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
