"""SnapshotPolicy decisions with plain data: schedule slots, targets, snapshot names, retention.

No I/O: the handler lists volumes and snapshots, converts them to :class:`VolumeInfo` and
:class:`SnapshotInfo`, and asks this module what to create and what to delete (``sla`` says how
compliant the targets are). Names and metadata are deterministic from the policy and the schedule slot, so a
retried run or a restarted operator recognises the snapshots it already made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from croniter import croniter
from daytwo.crds.snapshotpolicy import OpenStackVolumeTargets, SnapshotRun

from ...shared.snapshots import (
    OWNER_KEY,
    SLOT_KEY,
    PolicyView,
    format_time,
    slot_stamp,
)

__all__ = [
    "SlotDecision",
    "SnapshotInfo",
    "VolumeInfo",
    "current_slot",
    "due_slot",
    "existing_for_slot",
    "in_flight_wait",
    "match_volumes",
    "next_time",
    "on_demand_slot",
    "owned",
    "push_history",
    "retention_deletions",
    "run_id",
    "slot_duplicates",
    "snapshot_metadata",
    "snapshot_name",
]

#: Snapshot states that mean "the snapshot for this slot exists or is on its way".
_PRESENT = frozenset({"available", "creating", "backing-up", "restoring"})


@dataclass(frozen=True)
class VolumeInfo:
    """A volume as the decisions need it."""

    id: str
    name: str
    project_id: str
    project_name: str
    domain_id: str
    domain_name: str
    status: str
    size_gb: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot as the decisions need it."""

    id: str
    name: str
    volume_id: str
    status: str
    created_at: datetime | None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlotDecision:
    """Whether a schedule slot is due now, and when the next one is."""

    due: datetime | None
    missed: datetime | None
    next_time: datetime


def _slots(view: PolicyView, start: datetime) -> croniter:
    return croniter(view.cron, start.astimezone(view.time_zone))


def current_slot(view: PolicyView, now: datetime) -> datetime:
    """The latest slot at or before ``now`` (UTC): the slot a manual run serves."""
    slot: datetime = _slots(view, now + timedelta(seconds=1)).get_prev(datetime)
    return slot.astimezone(UTC)


def next_time(view: PolicyView, now: datetime) -> datetime:
    """The first slot strictly after ``now`` (UTC)."""
    slot: datetime = _slots(view, now).get_next(datetime)
    return slot.astimezone(UTC)


def due_slot(view: PolicyView, now: datetime, last_schedule: datetime | None, created: datetime) -> SlotDecision:
    """The slot to run now, if any: the latest one after the last scheduled run (or creation), run once.

    Slots missed during downtime collapse into the latest; when that one is older than the starting
    deadline it is reported as ``missed`` and skipped, like a CronJob.
    """
    upcoming = next_time(view, now)
    latest = current_slot(view, now)
    floor = last_schedule or created
    if latest <= floor:
        return SlotDecision(None, None, upcoming)
    if view.starting_deadline is not None and now - latest > view.starting_deadline:
        return SlotDecision(None, latest, upcoming)
    return SlotDecision(latest, None, upcoming)


def match_volumes(targets: OpenStackVolumeTargets, volumes: Iterable[VolumeInfo]) -> list[VolumeInfo]:
    """Volumes any selector covers (projects/domains by name or id, metadata subset, explicit ids), by id."""
    projects = set(targets.projects or ())
    domains = set(targets.domains or ())
    wanted_meta = dict(targets.volume_metadata or {})
    ids = set(targets.volume_ids or ())

    def covered(volume: VolumeInfo) -> bool:
        return (
            volume.id in ids
            or bool(projects & {volume.project_id, volume.project_name})
            or bool(domains & {volume.domain_id, volume.domain_name})
            or (bool(wanted_meta) and all(volume.metadata.get(k) == v for k, v in wanted_meta.items()))
        )

    return sorted((v for v in volumes if v.status not in {"deleting", "error_deleting"} and covered(v)), key=_by_id)


def _by_id(volume: VolumeInfo) -> str:
    return volume.id


def on_demand_slot(now: datetime, previous: datetime | None = None) -> datetime:
    """The slot of a run-now or runOnCreate run: the request's second, so each request snapshots anew;
    at least a second after the ``previous`` run's slot, so two quick requests never share one."""
    slot = now.astimezone(UTC).replace(microsecond=0)
    if previous is not None and slot <= previous:
        slot = previous.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    return slot


def snapshot_name(view: PolicyView, volume_id: str, slot: datetime) -> str:
    """``<prefix>-<policy>-<volume short id>-<slot stamp>`` (see :func:`slot_stamp`)."""
    return f"{view.prefix}-{view.name}-{volume_id.replace('-', '')[:8]}-{slot_stamp(slot)}"


def snapshot_metadata(view: PolicyView, slot: datetime) -> dict[str, str]:
    """The template's metadata plus the owner and slot keys this module recognises snapshots by."""
    return {**view.metadata, OWNER_KEY: view.owner, SLOT_KEY: format_time(slot)}


def run_id(view: PolicyView, slot: datetime, trigger: str, token: str | None = None) -> str:
    """Deterministic from the policy, the slot and (for manual runs) the request token."""
    suffix = f"-{hashlib.sha256(token.encode()).hexdigest()[:6]}" if token else ""
    return f"{view.name}-{slot_stamp(slot)}-{trigger}{suffix}"


def owned(view: PolicyView, snapshot: SnapshotInfo) -> bool:
    """Whether this policy created ``snapshot`` (by its owner metadata)."""
    return snapshot.metadata.get(OWNER_KEY) == view.owner


def existing_for_slot(view: PolicyView, slot: datetime, snapshots: Iterable[SnapshotInfo]) -> dict[str, SnapshotInfo]:
    """Per volume id, the snapshot this policy already made for ``slot`` (by metadata or by name)."""
    slot_value = format_time(slot)
    found: dict[str, SnapshotInfo] = {}
    for snapshot in snapshots:
        mine = owned(view, snapshot) and snapshot.metadata.get(SLOT_KEY) == slot_value
        if mine or snapshot.name == snapshot_name(view, snapshot.volume_id, slot):
            current = found.get(snapshot.volume_id)
            if current is None or (current.status not in _PRESENT and snapshot.status in _PRESENT):
                found[snapshot.volume_id] = snapshot
    return found


def _newest_first(snapshot: SnapshotInfo) -> datetime:
    return snapshot.created_at or datetime.min.replace(tzinfo=UTC)


def _age_order(snapshot: SnapshotInfo) -> tuple[datetime, str]:
    """Creation time, then the slot it serves: Proxmox times have one-second precision."""
    return _newest_first(snapshot), snapshot.metadata.get(SLOT_KEY, "")


def _keep_rank(snapshot: SnapshotInfo) -> tuple[int, datetime, str]:
    """Which snapshot of a slot is kept: an available one first, then one on its way, then the oldest."""
    rank = 0 if snapshot.status == "available" else 1 if snapshot.status in _PRESENT else 2
    return rank, _newest_first(snapshot), snapshot.id


def slot_duplicates(view: PolicyView, snapshots: Iterable[SnapshotInfo]) -> list[SnapshotInfo]:
    """This policy's extra snapshots of one slot of one volume, to delete (by id).

    Cinder accepts duplicate snapshot names, so a create whose answer was lost and that was sent again
    (a client timeout, an operator killed mid-request) can leave two snapshots of one slot. One is kept
    (an available one before one still creating, then the oldest); the others are returned once Cinder
    can delete them (``available`` or ``error``), so a later pass removes those still creating.
    """
    groups: dict[tuple[str, str], list[SnapshotInfo]] = {}
    for snapshot in snapshots:
        slot = snapshot.metadata.get(SLOT_KEY)
        if owned(view, snapshot) and slot:
            groups.setdefault((snapshot.volume_id, slot), []).append(snapshot)
    extra: list[SnapshotInfo] = []
    for group in groups.values():
        if len(group) > 1:
            keep = min(group, key=_keep_rank)
            extra.extend(s for s in group if s is not keep and s.status in {"available", "error"})
    return sorted(extra, key=lambda s: s.id)


def in_flight_wait(run: SnapshotRun, holder: str, now: datetime) -> float:
    """Seconds a pass must wait before it lists and creates for ``run``: until ``inFlightUntil`` when
    another operator process set it (a create it sent may still land), else 0."""
    until = run.in_flight_until
    if until is None or run.in_flight_holder == holder:
        return 0.0
    return max(0.0, (until - now).total_seconds())


def retention_deletions(view: PolicyView, snapshots: Iterable[SnapshotInfo], now: datetime) -> list[SnapshotInfo]:
    """Snapshots of one volume retention deletes: this policy's duplicates of a slot
    (:func:`slot_duplicates`), then its ``available`` ones beyond keepLast or older than maxAge, never
    the newest available one."""
    items = list(snapshots)
    duplicates = slot_duplicates(view, items)
    extra = {s.id for s in duplicates}
    good = sorted(
        (s for s in items if owned(view, s) and s.status == "available" and s.id not in extra),
        key=_age_order,
        reverse=True,
    )
    doomed: list[SnapshotInfo] = list(duplicates)
    for index, snapshot in enumerate(good[1:], start=1):
        too_many = view.keep_last is not None and index >= view.keep_last
        too_old = view.max_age is not None and now - _newest_first(snapshot) > view.max_age
        if too_many or too_old:
            doomed.append(snapshot)
    return doomed


def push_history(history: Iterable[SnapshotRun], run: SnapshotRun, limit: int) -> list[SnapshotRun]:
    """``run`` first, then the older runs (another record of the same run id replaced), at most ``limit``."""
    return [run, *(entry for entry in history if entry.id != run.id)][:limit]
