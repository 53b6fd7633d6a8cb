"""daytwo lifecycle events under horcrux's webhook event names, computed from object changes (pure).

:func:`changes` compares the previous and the current version of one object the store reported and
returns the events that change means:

==================  =================================================================================
ProxmoxNode         a new ``status.history`` record: start -> ``vm.started``, shutdown/stop ->
                    ``vm.stopped``, reboot -> ``vm.restarted``; a failed one -> ``vm.failed``;
                    a guest appearing in / leaving ``status.guests`` -> ``vm.created`` / ``vm.deleted``
SnapshotPolicy      a new ``status.currentRun`` -> ``backup.started``; a new ``status.lastRun`` ->
                    ``backup.completed`` + ``snapshot.created`` (Succeeded) or ``backup.failed``
RestoreJob          ``status.phase`` -> ``restore.started`` / ``restore.completed`` / ``restore.failed``
AggregateMigration  ``status.phase`` -> ``migration.started`` / ``migration.completed`` / ``migration.failed``
==================  =================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DOCUMENTED", "EVENTS", "Event", "changes", "phase_event"]

#: The event names horcrux documents.
DOCUMENTED = (
    "vm.created",
    "vm.started",
    "vm.stopped",
    "vm.deleted",
    "vm.failed",
    "backup.started",
    "backup.completed",
    "backup.failed",
    "migration.started",
    "migration.completed",
    "migration.failed",
    "alert.triggered",
    "alert.resolved",
)
#: Everything a webhook may subscribe to: the documented names plus daytwo's own.
EVENTS = frozenset(
    (*DOCUMENTED, "vm.restarted", "snapshot.created", "restore.started", "restore.completed", "restore.failed")
)
_POWER = {"start": "vm.started", "shutdown": "vm.stopped", "stop": "vm.stopped", "reboot": "vm.restarted"}


@dataclass(frozen=True)
class Event:
    """One event: its name and its ``data`` payload."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


def _status(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (obj or {}).get("status") or {}


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _proxmox(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Event]:
    old, new = _status(before), _status(after)
    seen = {record.get("id") for record in old.get("history") or []}
    cr = _name(after)
    events: list[Event] = []
    for record in reversed(new.get("history") or []):  # oldest first
        if record.get("id") in seen or before is None:
            continue
        operation = str(record.get("operation"))
        name = "vm.failed" if record.get("status") == "error" else _POWER.get(operation)
        if name:
            events.append(
                Event(
                    name,
                    {
                        "vm_id": str(record.get("vmid")),
                        "node": record.get("node"),
                        "proxmox_node": cr,
                        "operation": operation,
                        "status": record.get("status"),
                        "error": record.get("error"),
                        "user": record.get("user"),
                        "operation_id": record.get("id"),
                    },
                )
            )
    if before is not None and old.get("guests") is not None:
        before_ids = {g.get("vmid"): g for g in old.get("guests") or []}
        after_ids = {g.get("vmid"): g for g in new.get("guests") or []}
        full = len(after_ids) < 50 and len(before_ids) < 50  # a bounded list hides guests beyond 50
        if full:
            for vmid in sorted(set(after_ids) - set(before_ids)):
                guest = after_ids[vmid]
                events.append(Event("vm.created", {"vm_id": str(vmid), "name": guest.get("name"), "proxmox_node": cr}))
            for vmid in sorted(set(before_ids) - set(after_ids)):
                guest = before_ids[vmid]
                events.append(Event("vm.deleted", {"vm_id": str(vmid), "name": guest.get("name"), "proxmox_node": cr}))
    return events


def _run_data(policy: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "job_id": _name(policy),
        "run_id": run.get("id"),
        "trigger": run.get("trigger"),
        "state": run.get("state"),
        "created": run.get("created", 0),
        "deleted": run.get("deleted", 0),
        "failed": run.get("failed", 0),
        "started_at": run.get("startedAt"),
        "finished_at": run.get("finishedAt"),
        "failures": [
            {"target": f.get("target"), "reason": f.get("reason"), "message": f.get("message")}
            for f in run.get("failures") or []
        ],
    }


def _snapshots(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Event]:
    old, new = _status(before), _status(after)
    events: list[Event] = []
    current = new.get("currentRun")
    if (
        current
        and current.get("id") != (old.get("currentRun") or {}).get("id")
        and current.get("id") != (old.get("lastRun") or {}).get("id")
    ):
        events.append(Event("backup.started", _run_data(after, current)))
    last = new.get("lastRun")
    if last and last.get("id") != (old.get("lastRun") or {}).get("id"):
        data = _run_data(after, last)
        if last.get("state") == "Succeeded":
            events += [Event("backup.completed", data), Event("snapshot.created", data)]
        elif last.get("state") == "PartiallyFailed":
            events += [Event("backup.failed", data), Event("snapshot.created", data)]
        else:
            events.append(Event("backup.failed", data))
    return events


def phase_event(prefix: str, phase: str | None) -> str | None:
    """``<prefix>.started|completed|failed`` for a job phase word; None for planning/waiting phases."""
    word = (phase or "").lower()
    if any(part in word for part in ("fail", "rolledback", "rolled", "cancel")):
        return f"{prefix}.failed"
    if any(part in word for part in ("succeed", "complet", "done")):
        return f"{prefix}.completed"
    if any(part in word for part in ("run", "execut", "progress", "restoring", "migrating")):
        return f"{prefix}.started"
    return None


def _phase(prefix: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Event]:
    old, new = _status(before).get("phase"), _status(after).get("phase")
    if old == new:
        return []
    name = phase_event(prefix, new)
    if name is None or name == phase_event(prefix, old):
        return []
    spec = after.get("spec") or {}
    data = {"job_id": _name(after), "phase": new, "previous_phase": old}
    if prefix == "restore":
        source = spec.get("source") or {}
        target = source.get("proxmox") or source.get("openstack") or {}
        data.update(vm_id=str(target.get("vmid") or target.get("vmId") or ""), mode=spec.get("mode"))
        result = _status(after).get("result") or {}
        if result:
            data["result"] = {"vm_id": result.get("vmId"), "vm_name": result.get("vmName")}
    return [Event(name, data)]


def changes(kind: str, event_type: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Event]:
    """The lifecycle events one store change means (none for an object seen for the first time)."""
    if event_type == "DELETED" or before is None:
        return []  # an object seen for the first time has no past to compare with: no stale events
    if kind == "ProxmoxNode":
        return _proxmox(before, after)
    if kind == "SnapshotPolicy":
        return _snapshots(before, after)
    if kind == "RestoreJob":
        return _phase("restore", before, after)
    if kind == "AggregateMigration":
        return _phase("migration", before, after)
    return []
