"""The pmi API (see ../shared/reference/ and api/README.md): routes mounted under /pmi."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from .. import merge_routes
from . import nodes, resources
from ._shared import now

__all__ = ["router"]

router = APIRouter()


class Health(BaseModel):
    """pmi's health answer."""

    status: str
    timestamp: str
    version: str


@router.get("/api/proxmox/health", response_model=Health, tags=["health"], summary="API health (public)")
def health() -> dict[str, Any]:
    """The facade answers: healthy."""
    return {"status": "healthy", "timestamp": now(), "version": "1.0.0"}


merge_routes(router, nodes.router, resources.router)
