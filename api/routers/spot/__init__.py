"""The spot API (see ../shared/reference/ and api/README.md): routes mounted under /spot."""

from __future__ import annotations

from fastapi import APIRouter

from . import gpu, migrations, unsupported

__all__ = ["router"]

router = APIRouter()
# One flat route table (the route-table tests and OpenAPI walk APIRoute objects directly).
for _part in (gpu, migrations, unsupported):
    router.routes.extend(_part.router.routes)
