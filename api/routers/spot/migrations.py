"""Spot migration routes: preview and execute as AggregateMigration objects, poll, command log, clear log.

Writes go through the caller's KubeWriter (impersonation), so Kubernetes RBAC has the last word.
Preview creates a dry-run AggregateMigration, waits (at most ``DAYTWO_API_SPOT_PREVIEW_WAIT_SECONDS``)
for the operator's plan in the cache, answers it and deletes the dry run; when the plan takes longer
it answers 202 with the job id (the object's name) and leaves it for ``GET /api/migrations/{name}``.
Execute creates an executing migration and answers 202 with its name at once.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, WriterDep, require
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import Writer
from daytwo.api.views.spot.migrations import (
    CLEARED_ANNOTATION,
    command_log_view,
    log_marks,
    migration_manifest,
    migration_view,
    preview_outcome,
)
from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from .common import SpotSettings, SpotSettingsDep, credential_name, ok
from .models import Cleared, Envelope, LogEntry, Migration, MigrationRequest, Preview, PreviewPending, errors

__all__ = ["router"]

MigrationWriter = Annotated[Principal, require("migrations:write")]
MigrationReader = Annotated[Principal, require("migrations:read")]

log = logging.getLogger("daytwo.api.spot")
router = APIRouter(tags=["spot: migrations"])
KIND = "AggregateMigration"
POLL_SECONDS = 0.1
WRITE_ERRORS = errors(
    e400="The body is not JSON",
    e401="Not authenticated",
    e403="The role (or Kubernetes RBAC) does not allow it",
    e409="Kubernetes refused the write (conflict)",
    e422="Invalid request (the apiserver's validation message, verbatim)",
    e503="No usable OpenStack CloudCredential",
)
READ_ERRORS = errors(e401="Not authenticated", e403="The role lacks migrations:read", e422="Invalid request")


def _create(
    writer: Writer, store: StoreDep, settings: SpotSettings, body: MigrationRequest, user: Principal, *, dry_run: bool
) -> dict[str, Any]:
    name = credential_name(store, settings)
    manifest = migration_manifest(
        body.host,
        body.source_aggregate,
        body.target_aggregate,
        name,
        dry_run=dry_run,
        user=user.username,
        force=body.force,
    )
    return writer.create(KIND, manifest)


def _delete_quietly(writer: Writer, name: str) -> None:
    """Remove a finished dry run (a caller without delete rights leaves it; it does nothing)."""
    try:
        writer.delete(KIND, name)
    except ApiError as error:
        log.info("dry-run AggregateMigration %s left in place: %s", name, error.message)


@router.post(
    "/api/preview-migration",
    response_model=Envelope[Preview],
    responses={**WRITE_ERRORS, 202: {"model": Envelope[PreviewPending], "description": "Plan not ready yet"}},
)
def preview(
    body: MigrationRequest, store: StoreDep, settings: SpotSettingsDep, writer: WriterDep, user: MigrationWriter
) -> Any:
    """The commands and checks of a host move, computed by the operator against live Nova (no change)."""
    created = _create(writer, store, settings, body, user, dry_run=True)
    name = str(created["metadata"]["name"])
    deadline = time.monotonic() + settings.api_spot_preview_wait_seconds
    state, data = preview_outcome(created)
    while True:
        obj = store.get(KIND, name)
        if obj is not None:
            state, data = preview_outcome(obj)
        if state != "pending" or time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    if state == "pending":
        message = f"The plan is not ready yet; poll /api/migrations/{name}"
        return JSONResponse(ok(data, message), status_code=202)
    _delete_quietly(writer, name)
    if state == "failed":
        ready = data.get("ready") or {}
        raise ApiError(
            503, f"The migration cannot be planned: {ready.get('message') or ready.get('reason')}", details=ready
        )
    return ok(data, "Preview ready" if all(data["validation"].values()) else "Preview ready; validation failed")


@router.post(
    "/api/execute-migration",
    response_model=Envelope[Migration],
    status_code=202,
    responses=WRITE_ERRORS,
)
def execute(
    body: MigrationRequest, store: StoreDep, settings: SpotSettingsDep, writer: WriterDep, user: MigrationWriter
) -> dict[str, Any]:
    """Start the move (add to the target, then remove from the source); poll /api/migrations/{job_id}."""
    created = _create(writer, store, settings, body, user, dry_run=False)
    view = migration_view(created)
    return ok(view, f"Migration accepted; poll /api/migrations/{view['job_id']}")


@router.get(
    "/api/migrations/{name}",
    response_model=Envelope[Migration],
    responses={**READ_ERRORS, **errors(e404="No such migration")},
)
def migration(
    store: StoreDep,
    name: Annotated[str, Path(min_length=1, max_length=253, description="The job id execute-migration returned.")],
    user: MigrationReader,
) -> dict[str, Any]:
    """One AggregateMigration's progress: phase, steps, executed commands (daytwo's polling endpoint)."""
    obj = store.get(KIND, name)
    if obj is None:
        raise ApiError(404, f"No migration {name!r}", "NOT_FOUND")
    return ok(migration_view(obj))


@router.get(
    "/api/command-log",
    response_model=Envelope[list[LogEntry]],
    responses=READ_ERRORS,
)
def command_log(store: StoreDep, user: MigrationReader) -> dict[str, Any]:
    """Executed aggregate commands of every migration, oldest first (entries hidden by clear-log left out)."""
    return ok(command_log_view(store.list(KIND)))


@router.post("/api/clear-log", response_model=Cleared, responses=WRITE_ERRORS)
def clear_log(store: StoreDep, writer: WriterDep, user: MigrationWriter) -> dict[str, Any]:
    """Hide the current command log: annotate each migration with the time of its newest shown entry.

    Nothing is deleted; the full log stays in each AggregateMigration's status.
    """
    marks = log_marks(store.list(KIND))
    for name, mark in marks.items():
        writer.annotate(KIND, name, {CLEARED_ANNOTATION: mark})
    return {
        "status": "success",
        "message": "Command log cleared successfully",
        "data": {"migrations": sorted(marks)},
    }
