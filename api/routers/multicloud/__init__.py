"""The multicloud API (see ../shared/reference/ and api/README.md): routes mounted under /multicloud.

/auth/* comes from api/auth/routes.py; this package serves /credentials, /inventory, /billing,
/dashboard, /resources (CloudResources) and the deployment-logs WebSocket.
"""

from __future__ import annotations

from fastapi import APIRouter

from .. import merge_routes
from . import billing, credentials, dashboard, deployments, inventory, resources

__all__ = ["router"]

router = APIRouter()
merge_routes(router, *(m.router for m in (credentials, inventory, billing, dashboard, resources, deployments)))
