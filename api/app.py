"""The FastAPI application: health now; the five documented APIs mount their routers here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from kubernetes import client

from .kube import api_client
from .metrics import instrument

__all__ = ["create_app"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.kube = api_client()
    yield
    app.state.kube.close()


def create_app() -> FastAPI:
    """Build the facade application; OpenAPI is served at /docs and /openapi.json."""
    app = FastAPI(
        title="daytwo facade",
        version="0.1.0",
        description="REST APIs of existing day-2 dashboards, served from daytwo custom resources.",
        lifespan=_lifespan,
    )
    instrument(app)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, Any]:
        """Liveness and Kubernetes reachability (public; platform9's /health shape plus `kubernetes`)."""
        kubernetes = "reachable"
        try:
            version_api = client.VersionApi(app.state.kube)
            await asyncio.wait_for(asyncio.to_thread(version_api.get_code), timeout=5)
        except Exception:
            kubernetes = "unreachable"
        return {
            "status": "ok" if kubernetes == "reachable" else "degraded",
            "service": "daytwo-api",
            "kubernetes": kubernetes,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    return app
