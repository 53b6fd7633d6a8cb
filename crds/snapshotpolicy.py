"""SnapshotPolicy: scheduled snapshots of OpenStack volumes or Proxmox guests, with retention and SLA."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field

from .base import (
    MAX_STATUS_LIST,
    CamelModel,
    CredentialsRef,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    StatusBase,
    Step,
    cel,
    explained,
    rules,
    with_validations,
)

__all__ = ["DEFINITION", "NAMED_POLICY_SCHEDULES", "SnapshotPolicySpec", "SnapshotPolicyStatus", "named_policy"]

#: The family of pf9 named policies: ``<period>_<keep>`` (``daily_5`` = daily at 00:00, keep 5).
NAMED_POLICY_SCHEDULES: dict[str, str] = {
    "hourly": "0 * * * *",
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 0",
    "monthly": "0 0 1 * *",
}
NAMED_POLICY_PATTERN = r"^(hourly|daily|weekly|monthly)_([1-9][0-9]{0,3})$"
CRON_PATTERN = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$"
DURATION_PATTERN = r"^([0-9]+(s|m|h|d|w))+$"


def named_policy(name: str) -> tuple[str, int]:
    """Return (cron, keepLast) for a pf9 named policy such as ``daily_5``; ValueError if unknown."""
    match = re.match(NAMED_POLICY_PATTERN, name)
    if not match:
        raise ValueError(f"unknown named policy {name!r}: use <hourly|daily|weekly|monthly>_<keep>, e.g. daily_5")
    return NAMED_POLICY_SCHEDULES[match.group(1)], int(match.group(2))


class OpenStackVolumeTargets(CamelModel):
    """Which OpenStack volumes the policy covers; a volume matching any selector is covered."""

    domains: list[str] | None = Field(None, description="Domain names or ids: every volume of their projects.")
    projects: list[str] | None = Field(None, description="Project names or ids: every volume in them.")
    volume_metadata: dict[str, str] | None = Field(
        None,
        description="Volumes whose metadata has all these key/values (pf9 assigns policies this way, "
        "e.g. auto_snapshot: 'true').",
    )
    volume_ids: list[str] | None = Field(None, description="Explicit volume ids.")


class ProxmoxGuestTargets(CamelModel):
    """Which Proxmox guests the policy covers; a guest matching any selector is covered."""

    nodes: list[str] | None = Field(None, description="Every guest on these cluster nodes.")
    vmids: list[int] | None = Field(None, description="Explicit guest ids.")
    tags: list[str] | None = Field(None, description="Guests carrying any of these Proxmox tags.")


class SnapshotTargets(CamelModel):
    """Exactly one of openstack or proxmox."""

    openstack: OpenStackVolumeTargets | None = Field(
        None,
        description="OpenStack volumes (credentialsRef names a CloudCredential).",
        json_schema_extra=rules(
            cel(
                "has(self.domains) || has(self.projects) || has(self.volumeMetadata) || has(self.volumeIds)",
                "targets.openstack needs at least one of domains, projects, volumeMetadata or volumeIds",
            )
        ),
    )
    proxmox: ProxmoxGuestTargets | None = Field(
        None,
        description="Proxmox guests (credentialsRef names a ProxmoxNode).",
        json_schema_extra=rules(
            cel(
                "has(self.nodes) || has(self.vmids) || has(self.tags)",
                "targets.proxmox needs at least one of nodes, vmids or tags",
            )
        ),
    )


class Retention(CamelModel):
    """How many snapshots to keep. Only `available` snapshots count; the last good one is never deleted."""

    keep_last: int | None = Field(None, description="Keep this many newest available snapshots per target.", ge=1)
    max_age: str | None = Field(
        None,
        description="Delete snapshots older than this (e.g. 30d, 12h, 2w).",
        pattern=DURATION_PATTERN,
        json_schema_extra=explained("maxAge must be a duration such as 30d, 12h, 2w or 1d12h"),
    )


class SnapshotTemplate(CamelModel):
    """How snapshots are made and named."""

    name_prefix: str = Field(
        "daytwo",
        description="Snapshot names are <prefix>-<policy>-<scheduled time>.",
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    )
    metadata: dict[str, str] | None = Field(None, description="Extra metadata (OpenStack) added to each snapshot.")
    force: bool = Field(False, description="Snapshot in-use OpenStack volumes (Cinder force=true).")
    include_memory: bool = Field(False, description="Include RAM state in Proxmox VM snapshots (vmstate).")


SPEC_VALIDATIONS = [
    cel(
        "has(self.schedule) != has(self.policyName)", "set exactly one of schedule (cron) or policyName (e.g. daily_5)"
    ),
    cel(
        "!has(self.targets.openstack) || self.credentialsRef.kind == 'CloudCredential'",
        "targets.openstack needs credentialsRef.kind CloudCredential",
    ),
    cel(
        "!has(self.targets.proxmox) || self.credentialsRef.kind == 'ProxmoxNode'",
        "targets.proxmox needs credentialsRef.kind ProxmoxNode",
    ),
    cel(
        "has(self.policyName) || (has(self.retention) && (has(self.retention.keepLast) || has(self.retention.maxAge)))",
        "with schedule, set retention.keepLast or retention.maxAge (policyName implies keepLast)",
    ),
]


class SnapshotPolicySpec(CamelModel):
    """Desired schedule, targets and retention of snapshots."""

    model_config = with_validations(*SPEC_VALIDATIONS)

    credentials_ref: CredentialsRef = Field(description="The CloudCredential (OpenStack) or ProxmoxNode to act with.")
    targets: SnapshotTargets = Field(
        description="What to snapshot.",
        json_schema_extra=rules(
            cel(
                "has(self.openstack) != has(self.proxmox)",
                "set exactly one of targets.openstack or targets.proxmox",
            )
        ),
    )
    schedule: str | None = Field(
        None,
        description="Cron schedule (5 fields or @daily-style macro). Set this or policyName.",
        pattern=CRON_PATTERN,
        max_length=200,
        json_schema_extra=explained(
            "schedule must be a 5-field cron expression such as '0 2 * * *' or a macro such as @daily"
        ),
    )
    policy_name: str | None = Field(
        None,
        description="A pf9 named policy <hourly|daily|weekly|monthly>_<keep>, e.g. daily_5 = every day at "
        "00:00 in timeZone, keep 5. Set this or schedule.",
        pattern=NAMED_POLICY_PATTERN,
        json_schema_extra=explained("policyName must be <hourly|daily|weekly|monthly>_<keep>, e.g. daily_5"),
    )
    time_zone: str = Field("UTC", description="IANA time zone the schedule is read in, e.g. Europe/Berlin.")
    retention: Retention | None = Field(
        None, description="Retention; with policyName, keepLast defaults to the policy's number."
    )
    snapshot: SnapshotTemplate = Field(default_factory=SnapshotTemplate, description="Snapshot naming and options.")
    sla_days: int = Field(2, description="A target is out of SLA when its newest available snapshot is older.", ge=1)
    suspend: bool = Field(False, description="Stop scheduling new runs; a run in progress finishes.")
    run_on_create: bool = Field(False, description="Run once as soon as the policy is created.")
    starting_deadline_seconds: int | None = Field(
        None, description="A missed slot older than this is skipped rather than run late (like CronJob).", ge=0
    )


class RunFailure(CamelModel):
    """One target that failed in a run."""

    target: str = Field(description="Volume id or node/vmid.")
    name: str | None = Field(None, description="Volume or guest name.")
    reason: str = Field(description="CamelCase reason, e.g. Conflict, Unavailable.")
    message: str = Field("", description="What went wrong.", max_length=2048)


class SnapshotRun(CamelModel):
    """One execution of the policy."""

    id: str = Field(description="Run id, deterministic from the policy and the scheduled time.")
    trigger: str = Field(description="scheduled, manual (run-now annotation) or onCreate.")
    scheduled_at: datetime | None = Field(None, description="The schedule slot this run serves.")
    started_at: datetime | None = Field(None, description="When the run started.")
    finished_at: datetime | None = Field(None, description="When the run finished.")
    state: str = Field("Pending", description="Pending, Running, Succeeded, PartiallyFailed or Failed.")
    steps: list[Step] | None = Field(None, description="The run's pipeline steps with their states.", max_length=10)
    created: int = Field(0, description="Snapshots created.", ge=0)
    deleted: int = Field(0, description="Snapshots deleted by retention.", ge=0)
    failed: int = Field(0, description="Targets that failed.", ge=0)
    failures: list[RunFailure] | None = Field(
        None, description=f"Failed targets with reasons (at most {MAX_STATUS_LIST}).", max_length=MAX_STATUS_LIST
    )
    in_flight_until: datetime | None = Field(
        None,
        description=(
            "Set while snapshot creates may be in flight: no create is sent unless its client timeout ends "
            "before this time. An operator that resumes the run waits until then before it re-lists, so a "
            "create whose answer was lost (the operator died) is found instead of being made twice."
        ),
    )
    in_flight_holder: str | None = Field(
        None, description="The operator process that set inFlightUntil (it need not wait for its own creates)."
    )


class TenantCompliance(CamelModel):
    """SLA compliance of one tenant (project)."""

    tenant: str = Field(description="Project name or id.")
    total: int = Field(ge=0, description="Targets of the tenant.")
    compliant: int = Field(ge=0, description="Newest available snapshot within slaDays.")
    warning: int = Field(ge=0, description="Older than slaDays but within twice that.")
    critical: int = Field(ge=0, description="No snapshot, or older than twice slaDays.")
    percentage: float = Field(ge=0, le=100, description="compliant / total * 100.")


class OutOfSla(CamelModel):
    """One target outside its SLA."""

    id: str = Field(description="Volume id or node/vmid.")
    name: str | None = Field(None, description="Volume or guest name.")
    tenant: str | None = Field(None, description="Project name or id.")
    severity: str = Field(description="warning or critical.")
    last_snapshot_at: datetime | None = Field(None, description="Newest available snapshot, if any.")


class SlaStatus(CamelModel):
    """SLA compliance computed after each run."""

    evaluated_at: datetime | None = Field(None, description="When compliance was computed.")
    tenants: list[TenantCompliance] | None = Field(None, description="Per tenant.", max_length=MAX_STATUS_LIST)
    out_of_sla: list[OutOfSla] | None = Field(
        None,
        description=f"Targets out of SLA (at most {MAX_STATUS_LIST}; see outOfSlaTotal).",
        max_length=MAX_STATUS_LIST,
    )
    out_of_sla_total: int = Field(0, description="All targets out of SLA, including those not listed.", ge=0)


class SnapshotPolicyStatus(StatusBase):
    """Observed state of a SnapshotPolicy."""

    next_schedule_time: datetime | None = Field(None, description="The next slot the schedule will run.")
    last_schedule_time: datetime | None = Field(None, description="The last slot that started a run.")
    last_successful_time: datetime | None = Field(None, description="When a run last succeeded fully.")
    matched_targets: int | None = Field(None, description="Targets the selectors matched at the last run.", ge=0)
    current_run: SnapshotRun | None = Field(None, description="The run in progress, if any.")
    last_run: SnapshotRun | None = Field(None, description="The last finished run.")
    history: list[SnapshotRun] | None = Field(
        None, description=f"Finished runs, newest first (at most {MAX_STATUS_LIST}).", max_length=MAX_STATUS_LIST
    )
    sla: SlaStatus | None = Field(None, description="SLA compliance of the targets.")


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="SnapshotPolicy",
        plural="snapshotpolicies",
        short_name="d2sp",
        printer_columns=[
            PrinterColumn(name="Schedule", json_path=".spec.schedule"),
            PrinterColumn(name="Policy", json_path=".spec.policyName"),
            PrinterColumn(name="Targets", type="integer", json_path=".status.matchedTargets"),
            PrinterColumn(name="Last Success", type="date", json_path=".status.lastSuccessfulTime"),
            PrinterColumn(name="Next", type="date", json_path=".status.nextScheduleTime", priority=1),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
            PrinterColumn(name="Reason", json_path='.status.conditions[?(@.type=="Ready")].reason', priority=1),
        ],
    ),
    description="Scheduled snapshots of OpenStack volumes or Proxmox guests with retention, SLA compliance and "
    "run-now (annotation daytwo.io/reconcile-requested-at).",
    spec=SnapshotPolicySpec,
    status=SnapshotPolicyStatus,
)
