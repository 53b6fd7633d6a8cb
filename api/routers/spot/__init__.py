"""The spot API (see ../shared/reference/ and api/README.md): routes mounted under /spot."""

from __future__ import annotations

from fastapi import APIRouter

from .. import merge_routes
from . import gpu, migrations, unsupported

__all__ = ["router"]

router = APIRouter()
merge_routes(router, gpu.router, migrations.router, unsupported.router)
