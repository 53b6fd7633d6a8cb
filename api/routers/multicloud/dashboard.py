"""Multicloud /dashboard: stats from the cache, and a sync request to every credential (202)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, WriterDep, require
from daytwo.api.views.multicloud.dashboard import stats
from daytwo.crds.base import RECONCILE_ANNOTATION
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter

from ._shared import billing_documents, credentials, inventory, now
from .schemas import DashboardStats, SyncTriggered, errors

__all__ = ["router"]

router = APIRouter(tags=["multicloud: dashboard"])


@router.get("/dashboard/stats", response_model=DashboardStats, responses=errors(401, 403))
def dashboard_stats(store: StoreDep, user: Annotated[Principal, require("dashboard:read")]) -> dict[str, Any]:
    """Resource counts, costs (with their source), regions, provider health and recent resources."""
    moment = now()
    return stats(
        inventory(store).items,
        billing_documents(store),
        credentials(store),
        moment.date(),
        format_time(moment),
    )


@router.post("/dashboard/sync/trigger", status_code=202, response_model=SyncTriggered, responses=errors(401, 403))
def trigger_sync(
    store: StoreDep, writer: WriterDep, user: Annotated[Principal, require("inventory:write")]
) -> dict[str, Any]:
    """Ask every credential to revalidate and resync now; each echoes ``task_id`` in status.lastHandledReconcileAt."""
    token = uuid.uuid4().hex
    names = [obj["metadata"]["name"] for obj in credentials(store)]
    for name in names:
        writer.annotate("CloudCredential", name, {RECONCILE_ANNOTATION: token})
    message = f"Sync triggered for {len(names)} credential(s)" if names else "No credentials to sync"
    return {"message": message, "task_id": token, "credentials": names}
