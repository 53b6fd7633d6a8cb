"""ProxmoxNode decisions: which power operations to run, and the status an observation gives.

Pure: the handler observes Proxmox through the backend, passes plain data in, and carries out
what comes back. One-off ``spec.actions`` run once per id (recorded in ``status.handledActions``);
``spec.guestPower`` is kept continuously. Every operation is recorded in ``status.inFlight`` before
it is submitted, so a restarted operator finishes it exactly once (see :func:`recover`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from daytwo.crds.base import MAX_STATUS_LIST
from daytwo.crds.proxmoxnode import PowerState, ProxmoxNodeSpec

from ..shared.times import format_time, parse_time
from .conditions import ConditionUpdate
from .secretaccess import REFUSAL_REASONS

__all__ = [
    "GuestView",
    "Observation",
    "Outcome",
    "after_finish",
    "connection_conditions",
    "finished_record",
    "observation_status",
    "operations_to_submit",
    "recover",
    "stable_nodes",
    "summary_conditions",
]

#: Condition reasons for Connected=False, by the backend error's reason.
CONNECTION_REASONS = {
    "Unavailable": "Unreachable",
    "Timeout": "Unreachable",
    "AuthFailed": "AuthenticationFailed",
    "PermissionDenied": "PermissionDenied",
    "CredentialsNotFound": "CredentialsNotFound",
    "SecretNotFound": "CredentialsNotFound",
    "KeyMissing": "CredentialsNotFound",
    "TLSVerificationFailed": "TLSVerificationFailed",
}
#: Reasons a person has to fix; the others heal by themselves.
TERMINAL_REASONS = {
    "AuthenticationFailed",
    "PermissionDenied",
    "CredentialsNotFound",
    "TLSVerificationFailed",
    *REFUSAL_REASONS,
}
#: Node usage moves every second; status keeps the last figure until it moves by more than this share
#: of capacity, so an idle cluster writes no status (Argo CD and Flux see no churn).
USAGE_TOLERANCE = 0.05
#: Uptime-derived boot times jitter by a second or two between polls; within this they are the same boot.
BOOT_JITTER_SECONDS = 120
#: What a power operation leads to, for recovery after a restart.
TARGET_STATE = {"start": "running", "stop": "stopped", "shutdown": "stopped"}


@dataclass(frozen=True)
class GuestView:
    """One guest as the reconciler needs it (usage as /cluster/resources gives it, for the guest inventory)."""

    vmid: int
    name: str
    node: str
    kind: str  # vm | lxc
    status: str  # running | stopped | ...
    uptime: int = 0
    template: bool = False
    tags: tuple[str, ...] = ()
    cpus: int = 0
    cpu: float = 0.0  # fraction of its CPUs
    mem: int = 0
    maxmem: int = 0
    disk: int = 0
    maxdisk: int = 0
    netin: int = 0
    netout: int = 0


@dataclass(frozen=True)
class Observation:
    """What one inventory pass saw."""

    version: str
    cluster_name: str | None
    nodes: list[dict[str, Any]]
    guests: list[GuestView]


@dataclass(frozen=True)
class Outcome:
    """How a submitted operation ended."""

    status: str  # success | error
    error: str | None = None
    finished_at: datetime | None = None


def connection_conditions(reason: str | None, message: str, insecure: bool) -> list[ConditionUpdate]:
    """Connected (and TLSVerified) from the last contact: ``reason`` None means the API answered."""
    updates = []
    if reason is None:
        updates.append(ConditionUpdate("Connected", True, "Connected", message))
    else:
        mapped = CONNECTION_REASONS.get(reason, reason)
        updates.append(ConditionUpdate("Connected", False, mapped, message))
    if insecure:
        updates.append(
            ConditionUpdate(
                "TLSVerified",
                False,
                "InsecureSkipVerify",
                "certificate verification is off (spec.tls.insecureSkipVerify); set spec.tls.caSecretRef instead",
            )
        )
    else:
        updates.append(ConditionUpdate("TLSVerified", True, "Verified", "the API certificate is verified"))
    return updates


def summary_conditions(connected: ConditionUpdate, inventory: ConditionUpdate, in_flight: int) -> list[ConditionUpdate]:
    """Ready, Reconciling and Stalled from Connected and InventorySynced."""
    ready = connected.status and inventory.status
    cause = connected if not connected.status else inventory
    updates = [
        ConditionUpdate("Ready", True, "Ready", "connected and inventory synced")
        if ready
        else ConditionUpdate("Ready", False, cause.reason, cause.message),
        ConditionUpdate(
            "Reconciling", in_flight > 0, "OperationsInProgress", f"{in_flight} power operation(s) running"
        ),
        ConditionUpdate("Stalled", not ready and cause.reason in TERMINAL_REASONS, cause.reason, cause.message),
    ]
    return updates


def stable_nodes(previous: list[dict[str, Any]], observed: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Node entries for status from raw node readings (with ``uptime`` seconds).

    The boot time replaces the ever-growing uptime, and cpu/mem/disk keep their previous values
    while they stay within USAGE_TOLERANCE of capacity: status changes only when something moved.
    """
    before = {node["name"]: node for node in previous}
    entries = []
    for reading in observed:
        entry = {key: value for key, value in reading.items() if key != "uptime" and value is not None}
        if reading.get("uptime") and reading.get("online"):
            entry["bootedAt"] = format_time(now - timedelta(seconds=int(reading["uptime"])))
        old = before.get(reading["name"])
        if old is not None:
            for used, capacity in (("cpu", 1), ("mem", reading.get("maxmem")), ("disk", reading.get("maxdisk"))):
                if _within(old.get(used), entry.get(used), capacity):
                    entry[used] = old[used]
            if old.get("bootedAt") and entry.get("bootedAt") and _same_boot(old["bootedAt"], entry["bootedAt"]):
                entry["bootedAt"] = old["bootedAt"]
        entries.append(entry)
    return entries


def _within(old: float | None, new: float | None, capacity: float | None) -> bool:
    if old is None or new is None or not capacity:
        return False
    return abs(new - old) <= USAGE_TOLERANCE * capacity


def _same_boot(old: str, new: str) -> bool:
    return abs((_parse(new) - _parse(old)).total_seconds()) <= BOOT_JITTER_SECONDS


def observation_status(observation: Observation, now: datetime, previous_nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The status fields one inventory pass sets (bounded guest list, counts over all guests)."""
    guests = sorted(observation.guests, key=lambda guest: guest.vmid)
    return {
        "version": observation.version,
        "clusterName": observation.cluster_name,
        "nodes": stable_nodes(previous_nodes, observation.nodes[:MAX_STATUS_LIST], now),
        "guestCounts": {
            "vms": sum(1 for guest in guests if guest.kind == "vm"),
            "containers": sum(1 for guest in guests if guest.kind == "lxc"),
            "running": sum(1 for guest in guests if guest.status == "running"),
        },
        "guests": [
            {"vmid": guest.vmid, "name": guest.name, "node": guest.node, "kind": guest.kind, "status": guest.status}
            for guest in guests[:MAX_STATUS_LIST]
        ],
        "lastInventoryTime": format_time(now),
    }


def operations_to_submit(
    spec: ProxmoxNodeSpec, status: dict[str, Any], guests: list[GuestView], now: datetime
) -> list[dict[str, Any]]:
    """New in-flight entries: unhandled one-off actions, then guests off their desired power state.

    An action whose guest does not exist is returned with ``node`` empty; the handler records it as
    failed. Nothing is returned for a guest that already has an operation in flight.
    """
    by_vmid = {guest.vmid: guest for guest in guests}
    in_flight = status.get("inFlight") or []
    busy = {entry["vmid"] for entry in in_flight}
    taken = {entry["id"] for entry in in_flight} | set(status.get("handledActions") or [])
    entries: list[dict[str, Any]] = []
    for action in spec.actions or []:
        if action.id in taken or action.vmid in busy:
            continue
        guest = by_vmid.get(action.vmid)
        entries.append(
            _entry(
                action.id,
                action.vmid,
                guest,
                str(action.operation),
                action.force,
                "action",
                now,
                action.requested_by,
            )
        )
        busy.add(action.vmid)
    for desired in spec.guest_power or []:
        guest = by_vmid.get(desired.vmid)
        if guest is None or guest.vmid in busy or guest.status == desired.state:
            continue
        operation = "start" if desired.state == PowerState.RUNNING else "shutdown"
        entries.append(
            _entry(
                f"power-{guest.vmid}-{desired.state}",
                guest.vmid,
                guest,
                operation,
                operation == "shutdown",
                "desired",
                now,
                None,
            )
        )
        busy.add(guest.vmid)
    return entries


def _entry(
    id_: str,
    vmid: int,
    guest: GuestView | None,
    operation: str,
    force: bool,
    origin: str,
    now: datetime,
    user: str | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": id_,
        "vmid": vmid,
        "node": guest.node if guest else "",
        "kind": guest.kind if guest else "vm",
        "operation": operation,
        "force": force,
        "origin": origin,
        "submittedAt": format_time(now),
    }
    if user:
        entry["user"] = user
    return entry


def recover(entry: dict[str, Any], guest: GuestView | None, now: datetime) -> bool:
    """For an entry recorded but never given a UPID (the operator died around the submit):
    True when the guest shows the operation took effect, so it must not be submitted again."""
    if guest is None:
        return False
    target = TARGET_STATE.get(entry["operation"])
    if target is not None:
        return guest.status == target
    submitted = _parse(entry["submittedAt"])
    return guest.status == "running" and now - timedelta(seconds=guest.uptime) >= submitted


def finished_record(entry: dict[str, Any], outcome: Outcome, now: datetime) -> dict[str, Any]:
    """The history entry of a finished operation (PMI's history shape)."""
    submitted = _parse(entry["submittedAt"])
    finished = outcome.finished_at or now
    record: dict[str, Any] = {
        "id": entry["id"],
        "time": entry["submittedAt"],
        "node": entry.get("node") or None,
        "vmid": entry["vmid"],
        "kind": entry.get("kind"),
        "operation": entry["operation"],
        "status": outcome.status,
        "durationMs": max(0, int((finished - submitted).total_seconds() * 1000)),
        "upid": entry.get("upid"),
        "error": outcome.error,
        "user": entry.get("user"),
    }
    return {key: value for key, value in record.items() if value is not None}


def after_finish(
    status: dict[str, Any], entry: dict[str, Any], record: dict[str, Any], action_ids: set[str]
) -> dict[str, Any]:
    """Status fields after ``entry`` finished: out of inFlight, into history, into handledActions."""
    in_flight = [other for other in status.get("inFlight") or [] if other["id"] != entry["id"]]
    history = [record, *(status.get("history") or [])][:MAX_STATUS_LIST]
    handled = list(status.get("handledActions") or [])
    if entry["origin"] == "action" and entry["id"] not in handled:
        handled.append(entry["id"])
    handled = [action for action in handled if action in action_ids][-MAX_STATUS_LIST:]
    return {"inFlight": in_flight, "history": history, "handledActions": handled}


def _parse(text: str) -> datetime:
    parsed = parse_time(text)
    if parsed is None:
        raise ValueError("a status time is empty")
    return parsed
