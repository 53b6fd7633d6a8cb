"""SnapshotPolicy SLA compliance: per tenant, the targets whose newest available snapshot is within slaDays.

No I/O; the handler lists the snapshots and writes the result to ``status.sla``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ...shared.snapshots import PolicyView
from .decisions import SnapshotInfo, VolumeInfo

__all__ = ["OutOfSlaEntry", "SlaResult", "TenantSla", "compliance"]


@dataclass(frozen=True)
class TenantSla:
    """SLA counts of one tenant."""

    tenant: str
    total: int
    compliant: int
    warning: int
    critical: int

    @property
    def percentage(self) -> float:
        """compliant / total * 100, one decimal (100 for a tenant without targets)."""
        return round(100.0 * self.compliant / self.total, 1) if self.total else 100.0


@dataclass(frozen=True)
class OutOfSlaEntry:
    """A target outside its SLA."""

    id: str
    name: str
    tenant: str
    severity: str
    last_snapshot_at: datetime | None


@dataclass(frozen=True)
class SlaResult:
    """Per-tenant counts and the (bounded) targets out of SLA, worst first."""

    tenants: list[TenantSla]
    out_of_sla: list[OutOfSlaEntry]
    out_of_sla_total: int


def compliance(
    view: PolicyView, targets: Iterable[VolumeInfo], snapshots: Iterable[SnapshotInfo], now: datetime, limit: int
) -> SlaResult:
    """Compliant: any available snapshot of the volume within slaDays; warning: within twice that;
    critical: older, or none."""
    newest: dict[str, datetime] = {}
    for snapshot in snapshots:
        if snapshot.status != "available" or snapshot.created_at is None:
            continue
        if snapshot.volume_id not in newest or snapshot.created_at > newest[snapshot.volume_id]:
            newest[snapshot.volume_id] = snapshot.created_at
    sla = timedelta(days=view.sla_days)
    counts: dict[str, list[int]] = {}
    outside: list[OutOfSlaEntry] = []
    for volume in targets:
        tenant = volume.project_name or volume.project_id
        row = counts.setdefault(tenant, [0, 0, 0, 0])
        row[0] += 1
        last = newest.get(volume.id)
        if last is not None and now - last <= sla:
            row[1] += 1
            continue
        severity = "warning" if last is not None and now - last <= 2 * sla else "critical"
        row[2 if severity == "warning" else 3] += 1
        outside.append(OutOfSlaEntry(volume.id, volume.name, tenant, severity, last))
    outside.sort(key=lambda e: (e.severity != "critical", e.last_snapshot_at or datetime.min.replace(tzinfo=UTC), e.id))
    tenants = [TenantSla(tenant, *row) for tenant, row in sorted(counts.items())]
    return SlaResult(tenants[:limit], outside[:limit], len(outside))
