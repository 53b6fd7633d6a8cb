"""The horcrux API (see ../shared/reference/ and api/README.md): routes mounted under /horcrux."""

from __future__ import annotations

from fastapi import APIRouter

from . import audit, backups, monitoring, snapshots, unsupported, vms, webhooks

__all__ = ["router"]

router = APIRouter()
for _module in (monitoring, vms, snapshots, backups, audit, webhooks, unsupported):
    router.include_router(_module.router)
