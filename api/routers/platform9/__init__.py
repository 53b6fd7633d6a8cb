"""The platform9 API (see ../shared/reference/ and api/README.md): routes mounted under /platform9.

Each module is one area; every route counts into /metrics through :class:`monitoring.TimedRoute`.
"""

from __future__ import annotations

from fastapi import APIRouter

from .. import merge_routes
from . import dashboard, drift, history, infrastructure, monitoring, restore, settings, snapshots, tenant_health

__all__ = ["router"]

router = APIRouter()
# drift first: its two hot routes (event page, one event) are matched before the others
_MODULES = (drift, monitoring, snapshots, restore, dashboard, tenant_health, history, infrastructure, settings)
merge_routes(router, *(module.router for module in _MODULES))
