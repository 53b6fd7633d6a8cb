"""The status records a SnapshotPolicy run writes, as the ``crds`` models: its steps and SLA compliance."""

from __future__ import annotations

from datetime import datetime

from daytwo.crds.base import Step, StepState
from daytwo.crds.snapshotpolicy import OutOfSla, SlaStatus, TenantCompliance

from ...reconcile.snapshotpolicy.sla import SlaResult

__all__ = ["STEPS", "run_steps", "sla_status"]

STEPS = ("ResolveTargets", "CreateSnapshots", "Retention", "Compliance")


def run_steps(done: int, now: datetime) -> list[Step]:
    """The run's steps: the first ``done`` Succeeded (finished ``now``), the next Running, the rest Pending."""
    steps = []
    for index, name in enumerate(STEPS):
        state = StepState.SUCCEEDED if index < done else StepState.RUNNING if index == done else StepState.PENDING
        steps.append(Step(name=name, state=state, finished_at=now if index < done else None))
    return steps


def sla_status(result: SlaResult, evaluated: datetime) -> SlaStatus:
    """``status.sla`` from the compliance the decisions computed."""
    return SlaStatus(
        evaluated_at=evaluated,
        tenants=[
            TenantCompliance(
                tenant=t.tenant,
                total=t.total,
                compliant=t.compliant,
                warning=t.warning,
                critical=t.critical,
                percentage=t.percentage,
            )
            for t in result.tenants
        ],
        out_of_sla=[
            OutOfSla(id=e.id, name=e.name, tenant=e.tenant, severity=e.severity, last_snapshot_at=e.last_snapshot_at)
            for e in result.out_of_sla
        ],
        out_of_sla_total=result.out_of_sla_total,
    )
