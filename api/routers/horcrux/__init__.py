"""The horcrux API (see ../shared/reference/ and api/README.md): routes mounted under /horcrux."""

from __future__ import annotations

from fastapi import APIRouter

from .. import merge_routes
from . import (
    alerts,
    audit,
    backups,
    monitoring,
    observability,
    snapshots,
    tls,
    unsupported,
    users,
    vault,
    vms,
    webhooks,
)

__all__ = ["router"]

router = APIRouter()
merge_routes(
    router,
    *(
        m.router
        for m in (
            monitoring,
            vms,
            snapshots,
            backups,
            audit,
            webhooks,
            alerts,
            users,
            observability,
            tls,
            vault,
            unsupported,
        )
    ),
)
