"""Response models of the platform9 routes (OpenAPI schemas; unit tests validate every view against them).

Models are open to extra keys only where pf9 documents free-form content (user preferences).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Assignment",
    "AssignmentList",
    "CleanupAccepted",
    "Compliance",
    "CoverageRisks",
    "ErrorBody",
    "Health",
    "ItemList",
    "Metrics",
    "PolicyList",
    "PolicySet",
    "RestoreConfig",
    "RestoreJob",
    "RestoreJobList",
    "RestorePoints",
    "RetryAccepted",
    "RunList",
    "RunNowAccepted",
    "RunNowStatus",
    "ServerPage",
    "SlaDashboard",
    "SnapshotRun",
]


class ErrorBody(BaseModel):
    """pf9's error envelope: ``detail`` is a message (a list of problems for request validation)."""

    detail: Any
    request_id: str


class Health(BaseModel):
    """/health."""

    status: str
    service: str
    timestamp: str
    cache_synced: bool


class Metrics(BaseModel):
    """/metrics and /api/metrics (JSON)."""

    uptime_seconds: int
    request_count: int
    avg_response_time_ms: float
    error_rate: float
    active_sessions: int


class Retention(BaseModel):
    """A policy's retention."""

    keep_last: int | None
    max_age: str | None


class PolicySet(BaseModel):
    """One SnapshotPolicy as a pf9 policy set."""

    id: str
    name: str
    policies: list[str]
    schedule: str | None
    time_zone: str
    retention: Retention
    sla_days: int
    suspended: bool
    credential: str | None
    target_type: str | None
    targets: dict[str, Any]
    matched_targets: int | None
    next_run_at: str | None
    last_run_at: str | None
    last_success_at: str | None
    ready: bool
    reason: str | None
    message: str | None


class PolicyList(BaseModel):
    """/snapshot-policies."""

    policies: list[PolicySet]
    total: int


class Assignment(BaseModel):
    """One (policy, volume) assignment."""

    id: str
    volume_id: str
    volume_name: str | None
    tenant_name: str | None
    size_gb: int | None
    policy_set_id: str
    policy_name: str | None
    explicit: bool


class AssignmentList(BaseModel):
    """/snapshot-assignments."""

    assignments: list[Assignment]
    total: int


class RunFailure(BaseModel):
    """A target that failed in a run."""

    target: str | None
    name: str | None
    reason: str | None
    message: str | None


class SnapshotRun(BaseModel):
    """One run of a policy."""

    id: str
    policy_set_id: str
    trigger: str | None
    status: str
    state: str
    scheduled_at: str | None
    started_at: str | None
    finished_at: str | None
    snapshots_created: int
    snapshots_deleted: int
    failed: int
    failures: list[RunFailure]


class RunList(BaseModel):
    """/snapshot-runs."""

    runs: list[SnapshotRun]
    total: int


class RunNowAccepted(BaseModel):
    """202 of /snapshot/run-now."""

    job_id: str
    status: str
    message: str
    policies: list[str]


class PipelineStep(BaseModel):
    """One step of the on-demand pipeline."""

    key: str
    label: str
    status: str


class RunNowStatus(BaseModel):
    """/snapshot/run-now/status."""

    job_id: str | None
    status: str
    triggered_by: str | None
    started_at: str | None
    finished_at: str | None
    steps: list[PipelineStep]
    policies: list[str]


class VolumeWarning(BaseModel):
    """A volume outside its SLA."""

    volume_id: str
    volume_name: str | None
    policy: str
    severity: str
    last_snapshot: str | None
    message: str


class TenantSla(BaseModel):
    """One tenant in the SLA dashboards."""

    tenant_id: str
    tenant_name: str
    domain_name: str | None
    total_volumes: int
    compliant: int
    warning: int
    critical: int
    compliance_percentage: float
    warnings: list[VolumeWarning]


class SlaDashboard(BaseModel):
    """/dashboard/snapshot-sla-compliance."""

    overall_compliance: float
    tenants: list[TenantSla]


class PolicyCompliance(BaseModel):
    """One policy's SLA numbers."""

    policy_set_id: str
    policy: str
    sla_days: int
    evaluated_at: str | None
    total_volumes: int
    compliant: int
    compliance_percentage: float
    out_of_sla_total: int


class Compliance(BaseModel):
    """/snapshot/compliance."""

    sla_days: int
    overall_compliance: float
    total_volumes: int
    compliant: int
    warning: int
    critical: int
    tenants: list[TenantSla]
    policies: list[PolicyCompliance]


class RiskVolume(BaseModel):
    """A volume no policy covers."""

    volume_id: str
    volume_name: str
    size_gb: int
    tenant_name: str | None
    risk_score: int
    recommendation: str


class CoverageRisks(BaseModel):
    """/dashboard/coverage-risks."""

    total_at_risk: int
    total_volumes: int
    risk_percentage: float
    volumes: list[RiskVolume]


class RestoreConfig(BaseModel):
    """/restore/config."""

    enabled: bool
    dry_run: bool
    cleanup_volumes: bool


class PlannedNetwork(BaseModel):
    """A network of the restored VM (plus the operator's extra fields: ports, free IPs per subnet...)."""

    model_config = ConfigDict(extra="allow")

    network_id: str | None = None
    network_name: str | None = None
    original_ips: list[str]
    planned_ips: list[str]
    available: bool | None = None


class RestorePlan(BaseModel):
    """The plan the operator computed (status.plan in snake_case; the fields below are always present)."""

    model_config = ConfigDict(extra="allow")

    vm_name: str | None
    vm_id: str | None
    flavor: str | None
    boot_volume_id: str | None
    restore_point_size_gb: int | None
    new_vm_name: str | None
    networks: list[PlannedNetwork]
    quota_ok: bool | None
    warnings: list[str]
    restore_points: list[dict[str, Any]]


class RestoreStep(BaseModel):
    """One step of a restore job."""

    step_name: str | None
    status: str
    attempts: int
    started_at: str | None
    finished_at: str | None
    message: str | None


class CreatedResource(BaseModel):
    """A cloud object a restore job created."""

    model_config = ConfigDict(extra="allow")

    type: str | None = None
    id: str | None = None
    name: str | None
    step: str | None
    deleted: bool


class RestoreResult(BaseModel):
    """The restored VM."""

    model_config = ConfigDict(extra="allow")

    vm_id: str | None = None
    vm_name: str | None = None
    ips: list[str]


class RestoreJob(BaseModel):
    """A RestoreJob as pf9's restore job object."""

    id: str
    job_id: str
    status: str
    project_id: str | None
    vm_id: str | None
    vm_name: str | None
    restore_point_id: str | None
    mode: str
    ip_strategy: str
    new_vm_name: str | None
    dry_run: bool
    cleanup_policy: str
    credential: str | None
    requested_by: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    plan_json: RestorePlan | None
    steps: list[RestoreStep]
    created_resources: list[CreatedResource]
    result_json: RestoreResult | None
    error_message: str | None
    message: str | None
    retry: dict[str, Any] | None
    cleanup: dict[str, Any] | None
    cleanup_storage: dict[str, Any] | None


class RestoreJobList(BaseModel):
    """/restore/jobs."""

    jobs: list[RestoreJob]
    total: int


class RetryAccepted(BaseModel):
    """202 of /restore/jobs/{job_id}/retry (the same job resumes: job_id == original_job_id)."""

    job_id: str
    original_job_id: str
    status: str
    resumed_from_step: str | None
    reused_resources: dict[str, str]
    ip_strategy: str
    message: str


class CleanupAccepted(BaseModel):
    """202 of /restore/jobs/{job_id}/cleanup and /cleanup-storage."""

    job_id: str
    requested_at: str
    cleaned: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    message: str


class RestorePoints(BaseModel):
    """/restore/vm/{vm_id}/restore-points and /restore/snapshots (from restore plans)."""

    vm_id: str | None = None
    restore_points: list[dict[str, Any]]
    total: int


class ItemList(BaseModel):
    """A list of infrastructure rows with its total (shape of each row: see the route's description)."""

    items: list[dict[str, Any]]
    total: int


class ServerPage(BaseModel):
    """/servers (paginated)."""

    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int


class Preferences(BaseModel):
    """Free-form user preferences (pf9 stores any keys)."""

    model_config = ConfigDict(extra="allow")
