"""Spot manager migrations as AggregateMigration objects: the manifest to create, preview, status, command log.

preview-migration creates an AggregateMigration with ``dryRun: true`` and answers from its
``status.plan``; execute-migration creates one with ``dryRun: false`` (202, job id = its name) that
``GET /api/migrations/{name}`` polls. The command log is every migration's ``status.commandLog``;
clear-log hides entries up to a migration's annotation ``daytwo.io/command-log-cleared-at`` (nothing
is deleted: ``kubectl get d2am -o yaml`` keeps the full history).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from daytwo.api.views.statuses import migration_status, raw_condition
from daytwo.crds.aggregatemigration import AggregateMigrationSpec, AggregateMigrationStatus, CommandLogEntry
from daytwo.operator.shared.times import parse_time

__all__ = [
    "CLEARED_ANNOTATION",
    "FACADE_LABEL",
    "PURPOSE_LABEL",
    "command_log_view",
    "log_marks",
    "migration_manifest",
    "migration_view",
    "preview_outcome",
    "seconds",
]

CLEARED_ANNOTATION = "daytwo.io/command-log-cleared-at"
FACADE_LABEL = "daytwo.io/created-by"
PURPOSE_LABEL = "daytwo.io/spot-purpose"
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def _slug(host: str) -> str:
    """A DNS-1123 label fragment of a host name (lower case, dashes, at most 40 characters)."""
    return _NOT_DNS.sub("-", host.lower()).strip("-")[:40].strip("-") or "host"


def migration_manifest(
    host: str, source: str, target: str, credential: str, *, dry_run: bool, user: str, force: bool = False
) -> dict[str, Any]:
    """The AggregateMigration to create (``generateName``: Kubernetes picks a unique name).

    The spec is built by its model and carries only what the request sets: every other field keeps the
    model's default (applied by the apiserver), so defaults live in one place.
    """
    purpose = "preview" if dry_run else "execute"
    fields: dict[str, Any] = {
        "credentialsRef": {"kind": "CloudCredential", "name": credential},
        "host": host,
        "sourceAggregate": source,
        "targetAggregate": target,
        "dryRun": dry_run,
        "requestedBy": user,
    }
    if force:
        fields["force"] = True
    spec = AggregateMigrationSpec.model_validate(fields)
    return {
        "metadata": {
            "generateName": f"spot-{purpose}-{_slug(host)}-",
            "labels": {FACADE_LABEL: "daytwo-api", PURPOSE_LABEL: purpose},
        },
        "spec": spec.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json"),
    }


def _status(obj: Mapping[str, Any]) -> AggregateMigrationStatus:
    """The status parsed by the model; conditions are read as written (only Ready and Stalled, loosely)."""
    return migration_status(obj, conditions=False)


def _ready(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    ready = raw_condition(obj, "Ready")
    if ready is None:
        return None
    return {"status": ready.get("status"), "reason": ready.get("reason"), "message": ready.get("message")}


def preview_outcome(obj: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """("ready", data) once the operator wrote the plan, ("failed", data) when it cannot plan (e.g. the
    credential is missing: Stalled without a plan), else ("pending", data with the job id)."""
    plan = _status(obj).plan
    name = str((obj.get("metadata") or {}).get("name", ""))
    if plan is not None:
        checks = {c.name: c.ok for c in plan.checks or []}
        return "ready", {
            "commands": list(plan.commands or []),
            "validation": {
                "source_exists": checks.get("SourceExists", False),
                "target_exists": checks.get("TargetExists", False),
                "host_in_source": checks.get("HostInSource", False),
            },
            "checks": [{"name": c.name, "ok": c.ok, "message": c.message} for c in plan.checks or []],
            "running_vms": plan.running_vms or 0,
            "availability_zone_before": plan.availability_zone_before,
            "availability_zone_after": plan.availability_zone_after,
            "ready": _ready(obj),
            "migration": name,
        }
    stalled = raw_condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return "failed", {"migration": name, "ready": _ready(obj)}
    return "pending", {"migration": name, "job_id": name, "ready": _ready(obj)}


def _parse(value: str | None) -> datetime | None:
    """A time a person may have written (the clear-log annotation); None when absent or not a time."""
    try:
        return parse_time(value)
    except ValueError:
        return None


def seconds(milliseconds: int | None) -> str | None:
    """The spot manager's duration text (``2.3s``)."""
    return None if milliseconds is None else f"{milliseconds / 1000:.1f}s"


def migration_view(obj: Mapping[str, Any]) -> dict[str, Any]:
    """One migration as execute-migration and ``/api/migrations/{name}`` show it."""
    spec, status = AggregateMigrationSpec.model_validate(obj["spec"]), _status(obj)
    name = str((obj.get("metadata") or {}).get("name", ""))
    log = status.command_log or []
    durations = [e.duration_ms for e in log if e.duration_ms is not None]
    return {
        "migration": name,
        "job_id": name,
        "host": spec.host,
        "source_aggregate": spec.source_aggregate,
        "target_aggregate": spec.target_aggregate,
        "dry_run": spec.dry_run,
        "requested_by": spec.requested_by,
        "phase": status.phase or "Pending",
        "ready": _ready(obj),
        "commands": list((status.plan.commands if status.plan else None) or []),
        "commands_executed": [e.command for e in log if e.status == "success"],
        "steps": [{"name": s.name, "state": s.state, "message": s.message} for s in status.steps or []],
        "execution_time": seconds(sum(durations)) if durations else None,
    }


def _cleared(obj: Mapping[str, Any]) -> datetime | None:
    return _parse(((obj.get("metadata") or {}).get("annotations") or {}).get(CLEARED_ANNOTATION))


def _visible(obj: Mapping[str, Any]) -> list[CommandLogEntry]:
    cleared = _cleared(obj)
    return [entry for entry in _status(obj).command_log or [] if cleared is None or entry.timestamp > cleared]


def command_log_view(migrations: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """/api/command-log: the visible command log entries of every migration, oldest first."""
    rows: list[tuple[datetime, str, dict[str, Any]]] = []
    for obj in migrations:
        name = str((obj.get("metadata") or {}).get("name", ""))
        for entry in _visible(obj):
            rows.append(
                (
                    entry.timestamp,
                    name,
                    {
                        "timestamp": _text(entry.timestamp),
                        "command": entry.command,
                        "status": entry.status,
                        "execution_time": seconds(entry.duration_ms),
                        "user": entry.user or "system",
                        "output": entry.output,
                        "migration": name,
                    },
                )
            )
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row for _, _, row in rows]


def log_marks(migrations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """clear-log: migration name -> the annotation value that hides its visible entries (their newest
    timestamp, so entries written later still show). Migrations with nothing visible are left alone."""
    marks = {}
    for obj in migrations:
        visible = _visible(obj)
        if visible:
            marks[str(obj["metadata"]["name"])] = _text(max(entry.timestamp for entry in visible))
    return marks


def _text(moment: datetime) -> str:
    """A log time as written: RFC 3339 UTC, sub-second precision kept (a clear-log mark truncated to
    seconds would show the entry it hides again)."""
    return moment.isoformat().replace("+00:00", "Z")
