"""ProxmoxNode decisions: which power operations to run, and the status an observation gives.

Pure: the handler observes Proxmox through the backend, passes the observation and the object's
status (parsed into :class:`ProxmoxNodeStatus`) in, and writes back the fields that come back changed.
One-off ``spec.actions`` run once per id (recorded in ``status.handledActions``); ``spec.guestPower``
is kept continuously. Every operation is recorded in ``status.inFlight`` before
it is submitted, so a restarted operator finishes it exactly once (see :func:`recover`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from daytwo.crds.base import MAX_STATUS_LIST
from daytwo.crds.proxmoxnode import (
    GuestCounts,
    GuestSummary,
    InFlightOperation,
    NodeCertificate,
    NodeInfo,
    OperationRecord,
    PowerState,
    ProxmoxNodeSpec,
    ProxmoxNodeStatus,
)

from .conditions import ConditionUpdate
from .secretaccess import REFUSAL_REASONS

__all__ = [
    "INVENTORY_FIELDS",
    "INVENTORY_HEARTBEAT",
    "OPERATION_FIELDS",
    "GuestView",
    "NodeReading",
    "Observation",
    "Outcome",
    "after_finish",
    "connection_conditions",
    "expiring_condition",
    "finished_record",
    "observation_status",
    "operations_to_submit",
    "recover",
    "stable_nodes",
    "summary_conditions",
    "with_upid",
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
#: An inventory pass that saw no change still moves status.lastInventoryTime once this much time has passed
#: since the last one (a coarse heartbeat, like a Lease; routine pass times are not status); the operator
#: passes its DAYTWO_STATUS_HEARTBEAT_SECONDS.
INVENTORY_HEARTBEAT = timedelta(hours=1)
#: The status fields an inventory pass sets (see :func:`observation_status`).
INVENTORY_FIELDS = (
    "version",
    "cluster_name",
    "nodes",
    "guest_counts",
    "guests",
    "certificates",
    "last_inventory_time",
)
#: The status fields finishing a power operation sets (see :func:`after_finish`).
OPERATION_FIELDS = ("in_flight", "history", "handled_actions")
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


# Duplicate scan: usage fields named like the guest reading's (Proxmox reports both so); deliberate because
# they come from different calls and mean different things (a node's vs a guest's).
@dataclass(frozen=True)
class NodeReading:
    """One cluster node as GET /nodes reports it (an offline node reads zero usage)."""

    name: str
    online: bool
    cpu: float = 0.0  # fraction of its CPUs
    maxcpu: int = 0
    mem: int = 0
    maxmem: int = 0
    disk: int = 0
    maxdisk: int = 0
    uptime: int = 0  # seconds; grows on a real node, so status keeps the boot time instead


@dataclass(frozen=True)
class Observation:
    """What one inventory pass saw."""

    version: str
    cluster_name: str | None
    nodes: list[NodeReading]
    guests: list[GuestView]
    #: the nodes' certificates; None when they could not be read (the token lacks Sys.Audit)
    certificates: list[NodeCertificate] | None = None


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


def expiring_condition(
    certificates: Sequence[NodeCertificate] | None, now: datetime, warning_days: int
) -> ConditionUpdate | None:
    """Expiring: True while a node certificate ends within ``warning_days`` (a warning: Ready is unaffected);
    None (left as it is) when the certificates could not be read or the warning is off (0 days)."""
    if certificates is None or warning_days <= 0:
        return None
    limit = now + timedelta(days=warning_days)
    soon = sorted((c for c in certificates if c.not_after <= limit), key=lambda c: c.not_after)
    if not soon:
        return ConditionUpdate(
            "Expiring", False, "CertificatesValid", f"no node certificate expires within {warning_days} days"
        )
    first = soon[0]
    ended = first.not_after <= now
    names = ", ".join(f"{c.node}/{c.filename}" for c in soon[:5])
    return ConditionUpdate(
        "Expiring",
        True,
        "CertificateExpired" if ended else "CertificateExpiring",
        f"{names}: {'expired' if ended else 'expires'} {first.not_after.isoformat()}; renew the node certificate "
        "in Proxmox (pvecm updatecerts, or ACME)",
    )


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


def stable_nodes(previous: Sequence[NodeInfo], observed: Sequence[NodeReading], now: datetime) -> list[NodeInfo]:
    """Node entries for status from raw node readings (with ``uptime`` seconds).

    The boot time replaces the ever-growing uptime, and cpu/mem/disk keep their previous values
    while they stay within USAGE_TOLERANCE of capacity: status changes only when something moved.
    """
    before = {node.name: node for node in previous}
    entries = []
    for reading in observed:
        entry = NodeInfo(
            name=reading.name,
            online=reading.online,
            cpu=round(reading.cpu, 4),
            maxcpu=reading.maxcpu,
            mem=reading.mem,
            maxmem=reading.maxmem,
            disk=reading.disk,
            maxdisk=reading.maxdisk,
            booted_at=_second(now - timedelta(seconds=reading.uptime)) if reading.uptime and reading.online else None,
        )
        old = before.get(reading.name)
        if old is not None:
            kept: dict[str, Any] = {}
            for used, capacity in (("cpu", 1), ("mem", reading.maxmem), ("disk", reading.maxdisk)):
                if _within(getattr(old, used), getattr(entry, used), capacity):
                    kept[used] = getattr(old, used)
            if old.booted_at and entry.booted_at and _same_boot(old.booted_at, entry.booted_at):
                kept["booted_at"] = old.booted_at
            entry = entry.model_copy(update=kept)
        entries.append(entry)
    return entries


def _within(old: float | None, new: float | None, capacity: float | None) -> bool:
    if old is None or new is None or not capacity:
        return False
    return abs(new - old) <= USAGE_TOLERANCE * capacity


def _same_boot(old: datetime, new: datetime) -> bool:
    return abs((new - old).total_seconds()) <= BOOT_JITTER_SECONDS


def _second(moment: datetime) -> datetime:
    """``moment`` at second precision, as status times are written."""
    return moment.replace(microsecond=0)


def observation_status(
    observation: Observation,
    now: datetime,
    previous: ProxmoxNodeStatus,
    heartbeat: timedelta = INVENTORY_HEARTBEAT,
) -> ProxmoxNodeStatus:
    """``previous`` with the fields of one inventory pass (:data:`INVENTORY_FIELDS`: bounded guest list,
    counts over all guests, stable node figures). ``lastInventoryTime`` moves only when one of them changed,
    or once ``heartbeat`` has passed since it last moved: an unchanged estate writes no status."""
    guests = sorted(observation.guests, key=lambda guest: guest.vmid)
    observed = previous.model_copy(
        update={
            "version": observation.version,
            "cluster_name": observation.cluster_name,
            "nodes": stable_nodes(previous.nodes or [], observation.nodes[:MAX_STATUS_LIST], now),
            "guest_counts": GuestCounts(
                vms=sum(1 for guest in guests if guest.kind == "vm"),
                containers=sum(1 for guest in guests if guest.kind == "lxc"),
                running=sum(1 for guest in guests if guest.status == "running"),
            ),
            "guests": [
                GuestSummary(vmid=guest.vmid, name=guest.name, node=guest.node, kind=guest.kind, status=guest.status)
                for guest in guests[:MAX_STATUS_LIST]
            ],
            "certificates": (
                sorted(observation.certificates, key=lambda c: (c.node, c.filename))[:MAX_STATUS_LIST]
                if observation.certificates is not None
                else previous.certificates
            ),
        }
    )
    changed = observed.patch_of(*INVENTORY_FIELDS) != previous.patch_of(*INVENTORY_FIELDS)
    last = previous.last_inventory_time
    if changed or last is None or now - last >= heartbeat:
        observed.last_inventory_time = _second(now)
    return observed


def operations_to_submit(
    spec: ProxmoxNodeSpec, status: ProxmoxNodeStatus, guests: list[GuestView], now: datetime
) -> list[InFlightOperation]:
    """New in-flight entries: unhandled one-off actions, then guests off their desired power state.

    An action whose guest does not exist is returned with ``node`` empty; the handler records it as
    failed. Nothing is returned for a guest that already has an operation in flight.
    """
    by_vmid = {guest.vmid: guest for guest in guests}
    in_flight = status.in_flight or []
    busy = {entry.vmid for entry in in_flight}
    taken = {entry.id for entry in in_flight} | set(status.handled_actions or [])
    entries: list[InFlightOperation] = []
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
) -> InFlightOperation:
    return InFlightOperation(
        id=id_,
        vmid=vmid,
        node=guest.node if guest else "",
        kind=guest.kind if guest else "vm",
        operation=operation,
        force=force,
        origin=origin,
        submitted_at=_second(now),
        user=user or None,
    )


def recover(entry: InFlightOperation, guest: GuestView | None, now: datetime) -> bool:
    """For an entry recorded but never given a UPID (the operator died around the submit):
    True when the guest shows the operation took effect, so it must not be submitted again."""
    if guest is None:
        return False
    target = TARGET_STATE.get(str(entry.operation))
    if target is not None:
        return guest.status == target
    return guest.status == "running" and now - timedelta(seconds=guest.uptime) >= entry.submitted_at


def finished_record(entry: InFlightOperation, outcome: Outcome, now: datetime) -> OperationRecord:
    """The history entry of a finished operation (PMI's history shape)."""
    finished = outcome.finished_at or now
    return OperationRecord(
        id=entry.id,
        time=entry.submitted_at,
        node=entry.node or None,
        vmid=entry.vmid,
        kind=entry.kind,
        operation=str(entry.operation),
        status=outcome.status,
        duration_ms=max(0, int((finished - entry.submitted_at).total_seconds() * 1000)),
        upid=entry.upid,
        error=outcome.error,
        user=entry.user,
    )


def after_finish(
    status: ProxmoxNodeStatus, entry: InFlightOperation, record: OperationRecord, action_ids: set[str]
) -> ProxmoxNodeStatus:
    """``status`` after ``entry`` finished (:data:`OPERATION_FIELDS`): out of inFlight, into history, into
    handledActions (pruned to the ids still in spec.actions)."""
    in_flight = [other for other in status.in_flight or [] if other.id != entry.id]
    history = [record, *(status.history or [])][:MAX_STATUS_LIST]
    handled = list(status.handled_actions or [])
    if entry.origin == "action" and entry.id not in handled:
        handled.append(entry.id)
    handled = [action for action in handled if action in action_ids][-MAX_STATUS_LIST:]
    return status.model_copy(update={"in_flight": in_flight, "history": history, "handled_actions": handled})


def with_upid(status: ProxmoxNodeStatus, entry_id: str, upid: str) -> ProxmoxNodeStatus:
    """``status`` with the submitted operation ``entry_id`` carrying its task id."""
    in_flight = [
        other.model_copy(update={"upid": upid}) if other.id == entry_id else other for other in status.in_flight or []
    ]
    return status.model_copy(update={"in_flight": in_flight})
