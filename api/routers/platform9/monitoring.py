"""pf9 /health, /metrics (JSON, or Prometheus text on ``Accept: text/plain``), /api/metrics and /api/logs.

The request figures are this process's platform9 requests, counted by :class:`TimedRoute` (the route
class of every platform9 router); sessions = distinct bearer tokens seen in 15 minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from daytwo.api.deps import Principal, get_services, require
from daytwo.api.errors import ApiError
from daytwo.api.views.platform9 import models
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from ._shared import ERRORS, not_implemented

__all__ = ["STATS", "RequestStats", "TimedRoute", "router"]

SESSION_WINDOW = 900.0


class RequestStats:
    """Counters behind pf9's /metrics: requests, errors (status >= 500 or an exception), time, sessions."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.requests = 0
        self.errors = 0
        self.seconds = 0.0
        self._sessions: dict[int, float] = {}
        self._lock = threading.Lock()

    def observe(self, seconds: float, failed: bool, session: str | None) -> None:
        """Count one finished request."""
        now = time.monotonic()
        with self._lock:
            self.requests += 1
            self.errors += int(failed)
            self.seconds += seconds
            if session:
                self._sessions[hash(session)] = now
                if len(self._sessions) > 10_000:
                    self._prune(now)

    def _prune(self, now: float) -> None:
        self._sessions = {k: t for k, t in self._sessions.items() if now - t < SESSION_WINDOW}

    def snapshot(self) -> dict[str, Any]:
        """pf9's metrics JSON."""
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            return {
                "uptime_seconds": int(now - self.started),
                "request_count": self.requests,
                "avg_response_time_ms": round(self.seconds * 1000.0 / self.requests, 2) if self.requests else 0.0,
                "error_rate": round(self.errors / self.requests, 4) if self.requests else 0.0,
                "active_sessions": len(self._sessions),
            }


STATS = RequestStats()


class TimedRoute(APIRoute):
    """An APIRoute that counts and times its requests into :data:`STATS` (one coroutine frame: cheap).

    Every platform9 router uses it (``APIRouter(route_class=TimedRoute)``); a yield dependency would
    cost an exit stack per request on the hot paths.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The normal handler, timed; exceptions count as errors when they are 5xx or not ApiErrors."""
        handler = super().get_route_handler()

        async def timed(request: Request) -> Response:
            started = time.perf_counter()
            failed = False
            try:
                response = await handler(request)
                failed = response.status_code >= 500
                return response
            except ApiError as error:
                failed = error.status_code >= 500
                raise
            except Exception as error:
                failed = getattr(error, "status_code", 500) >= 500
                raise
            finally:
                STATS.observe(time.perf_counter() - started, failed, request.headers.get("authorization"))

        return timed


router = APIRouter(tags=["monitoring"], route_class=TimedRoute, responses=ERRORS)


def prometheus_text(metrics: dict[str, Any], kinds: dict[str, Any]) -> str:
    """The metrics JSON (and cached object counts) in the Prometheus text format."""
    lines = []
    for name, help_text, kind in (
        ("uptime_seconds", "Seconds since the facade started.", "gauge"),
        ("request_count", "platform9 requests served.", "counter"),
        ("avg_response_time_ms", "Mean platform9 response time in milliseconds.", "gauge"),
        ("error_rate", "Share of platform9 requests that failed with a server error.", "gauge"),
        ("active_sessions", "Distinct bearer tokens seen in the last 15 minutes.", "gauge"),
    ):
        metric = f"pf9_{name}" + ("_total" if kind == "counter" else "")
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}", f"{metric} {metrics[name]}"]
    lines += ["# HELP pf9_cached_objects Objects in the facade's cache by kind.", "# TYPE pf9_cached_objects gauge"]
    lines += [f'pf9_cached_objects{{kind="{kind}"}} {state.get("objects", 0)}' for kind, state in sorted(kinds.items())]
    return "\n".join(lines) + "\n"


@router.get("/health", response_model=models.Health, summary="API health (public)")
def health(request: Request) -> dict[str, Any]:
    """Always answers; ``cache_synced`` says whether every kind has been listed."""
    services = getattr(request.app.state, "daytwo", None)
    synced = bool(services and services.store.synced())
    return {
        "status": "ok" if synced else "degraded",
        "service": "pf9-mgmt-api",
        "timestamp": format_time(datetime.now(UTC)),
        "cache_synced": synced,
    }


@router.get(
    "/metrics",
    response_model=models.Metrics,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Performance metrics (public)",
)
def metrics(request: Request) -> Any:
    """JSON as pf9 documents it; Prometheus text when the client asks for ``text/plain``."""
    data = STATS.snapshot()
    accept = request.headers.get("accept", "")
    if "text/plain" in accept and "application/json" not in accept:
        kinds = get_services(request).store.status() if getattr(request.app.state, "daytwo", None) else {}
        return Response(prometheus_text(data, kinds), media_type="text/plain; version=0.0.4; charset=utf-8")
    return data


@router.get("/api/metrics", response_model=models.Metrics, summary="Performance metrics")
def api_metrics(user: Principal = require("metrics:read")) -> dict[str, Any]:
    """The same figures, for authenticated dashboards."""
    return STATS.snapshot()


@router.get("/api/logs", summary="System logs (not supported)")
def logs(user: Principal = require("audit:read")) -> None:
    """Logs go to stdout (kubectl logs / the cluster's log stack), not to an API."""
    raise not_implemented(
        "Reading logs through the API", "the facade logs to stdout; use kubectl logs or your log stack"
    )
