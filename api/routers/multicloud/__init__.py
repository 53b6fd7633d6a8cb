"""The multicloud API (see ../shared/reference/ and api/README.md): routes mounted under /multicloud.

/auth/* comes from api/auth/routes.py; this package serves /credentials, /inventory, /billing,
/dashboard and the Terraform /resources (501).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import billing, credentials, dashboard, inventory, resources

__all__ = ["router"]

router = APIRouter()
# One flat route table (the route-table tests and OpenAPI walk APIRoute objects directly).
for _part in (credentials, inventory, billing, dashboard, resources):
    router.routes.extend(_part.router.routes)
