"""SnapshotPolicy decisions, pure: schedule, targets and retention (``decisions``), SLA compliance
(``sla``), Proxmox guests in the same terms (``guests``) and the ``<policy>-targets`` ConfigMap
(``targets``). The handler (``handlers.snapshotpolicy``) does the I/O."""

from __future__ import annotations

from .decisions import (
    SlotDecision,
    SnapshotInfo,
    VolumeInfo,
    current_slot,
    due_slot,
    existing_for_slot,
    in_flight_wait,
    match_volumes,
    next_time,
    on_demand_slot,
    owned,
    push_history,
    retention_deletions,
    run_id,
    slot_duplicates,
    snapshot_metadata,
    snapshot_name,
)
from .sla import OutOfSlaEntry, SlaResult, TenantSla, compliance

__all__ = [
    "OutOfSlaEntry",
    "SlaResult",
    "SlotDecision",
    "SnapshotInfo",
    "TenantSla",
    "VolumeInfo",
    "compliance",
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
