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
    """The AggregateMigration to create (``generateName``: Kubernetes picks a unique name)."""
    purpose = "preview" if dry_run else "execute"
    spec: dict[str, Any] = {
        "credentialsRef": {"kind": "CloudCredential", "name": credential},
        "host": host,
        "sourceAggregate": source,
        "targetAggregate": target,
        "dryRun": dry_run,
        "requestedBy": user,
    }
    if force:
        spec["force"] = True
    return {
        "metadata": {
            "generateName": f"spot-{purpose}-{_slug(host)}-",
            "labels": {FACADE_LABEL: "daytwo-api", PURPOSE_LABEL: purpose},
        },
        "spec": spec,
    }


def _condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == type_), None)


def _ready(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    ready = _condition(obj, "Ready")
    if ready is None:
        return None
    return {"status": ready.get("status"), "reason": ready.get("reason"), "message": ready.get("message")}


def preview_outcome(obj: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """("ready", data) once the operator wrote the plan, ("failed", data) when it cannot plan (e.g. the
    credential is missing: Stalled without a plan), else ("pending", data with the job id)."""
    status = obj.get("status") or {}
    plan = status.get("plan") or {}
    name = str((obj.get("metadata") or {}).get("name", ""))
    checks = {c.get("name"): bool(c.get("ok")) for c in plan.get("checks") or []}
    if plan:
        return "ready", {
            "commands": list(plan.get("commands") or []),
            "validation": {
                "source_exists": checks.get("SourceExists", False),
                "target_exists": checks.get("TargetExists", False),
                "host_in_source": checks.get("HostInSource", False),
            },
            "checks": [
                {"name": c.get("name"), "ok": bool(c.get("ok")), "message": c.get("message") or ""}
                for c in plan.get("checks") or []
            ],
            "running_vms": int(plan.get("runningVms") or 0),
            "availability_zone_before": plan.get("availabilityZoneBefore"),
            "availability_zone_after": plan.get("availabilityZoneAfter"),
            "ready": _ready(obj),
            "migration": name,
        }
    stalled = _condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return "failed", {"migration": name, "ready": _ready(obj)}
    return "pending", {"migration": name, "job_id": name, "ready": _ready(obj)}


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def seconds(milliseconds: int | None) -> str | None:
    """The spot manager's duration text (``2.3s``)."""
    return None if milliseconds is None else f"{milliseconds / 1000:.1f}s"


def migration_view(obj: Mapping[str, Any]) -> dict[str, Any]:
    """One migration as execute-migration and ``/api/migrations/{name}`` show it."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    name = str((obj.get("metadata") or {}).get("name", ""))
    log = status.get("commandLog") or []
    executed = [e.get("command") for e in log if e.get("status") == "success"]
    durations = [int(e["durationMs"]) for e in log if isinstance(e.get("durationMs"), int)]
    return {
        "migration": name,
        "job_id": name,
        "host": spec.get("host"),
        "source_aggregate": spec.get("sourceAggregate"),
        "target_aggregate": spec.get("targetAggregate"),
        "dry_run": bool(spec.get("dryRun")),
        "requested_by": spec.get("requestedBy"),
        "phase": status.get("phase") or "Pending",
        "ready": _ready(obj),
        "commands": list((status.get("plan") or {}).get("commands") or []),
        "commands_executed": executed,
        "steps": [
            {"name": s.get("name"), "state": s.get("state"), "message": s.get("message")}
            for s in status.get("steps") or []
        ],
        "execution_time": seconds(sum(durations)) if durations else None,
    }


def _cleared(obj: Mapping[str, Any]) -> datetime | None:
    return _parse(((obj.get("metadata") or {}).get("annotations") or {}).get(CLEARED_ANNOTATION))


def _visible(obj: Mapping[str, Any]) -> list[tuple[datetime, Mapping[str, Any]]]:
    cleared = _cleared(obj)
    entries = []
    for entry in (obj.get("status") or {}).get("commandLog") or []:
        when = _parse(entry.get("timestamp"))
        if when is not None and (cleared is None or when > cleared):
            entries.append((when, entry))
    return entries


def command_log_view(migrations: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """/api/command-log: the visible command log entries of every migration, oldest first."""
    rows: list[tuple[datetime, str, dict[str, Any]]] = []
    for obj in migrations:
        name = str((obj.get("metadata") or {}).get("name", ""))
        for when, entry in _visible(obj):
            duration = entry.get("durationMs")
            rows.append(
                (
                    when,
                    name,
                    {
                        "timestamp": str(entry.get("timestamp")),
                        "command": entry.get("command"),
                        "status": entry.get("status"),
                        "execution_time": seconds(duration if isinstance(duration, int) else None),
                        "user": entry.get("user") or "system",
                        "output": entry.get("output"),
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
            newest = max(when for when, _ in visible)
            marks[str(obj["metadata"]["name"])] = newest.isoformat().replace("+00:00", "Z")
    return marks
