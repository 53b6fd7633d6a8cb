"""Request bodies and response schemas of the spot API (the reference's shapes, plus daytwo's additions)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AggregatesData",
    "Block",
    "Cleared",
    "ContractAggregate",
    "Envelope",
    "ErrorBody",
    "GpuType",
    "HostVms",
    "LogEntry",
    "Migration",
    "MigrationRequest",
    "Preview",
    "PreviewPending",
    "Target",
    "TargetRequest",
    "errors",
]

T = TypeVar("T")
_NAME = Field(min_length=1, max_length=255)


class Envelope(BaseModel, Generic[T]):
    """``{"status": "success", "data": ..., "message": ...}``."""

    status: Literal["success"] = "success"
    data: T
    message: str | None = None


class ErrorBody(BaseModel):
    """The spot manager's error envelope (api/errors.py renders it), with daytwo's request id."""

    status: Literal["error"]
    error: str
    details: Any = None
    request_id: str
    code: str | None = None


def errors(**described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries in the error envelope: ``errors(e404="Unknown host")``."""
    return {int(key[1:]): {"model": ErrorBody, "description": text} for key, text in described.items()}


class Cleared(BaseModel):
    """clear-log: what was hidden."""

    status: Literal["success"] = "success"
    message: str
    data: dict[str, list[str]] | None = None


class PoolNames(BaseModel):
    """Aggregate names per pool."""

    ondemand: list[str]
    spot: list[str]
    runpod: list[str]
    contracts: list[str]


class GpuType(BaseModel):
    """One GPU type."""

    name: str
    display_name: str
    aggregates: PoolNames


class GpuSummary(BaseModel):
    """GPUs used against capacity."""

    gpu_used: int
    gpu_capacity: int
    gpu_usage_ratio: str
    gpu_usage_percentage: float


class Host(BaseModel):
    """A host of an aggregate (tenant/owner_group come from NetBox: null in daytwo)."""

    hostname: str
    status: str
    vm_count: int
    gpu_used: int
    gpu_capacity: int
    has_vms: bool
    tenant: str | None
    owner_group: str | None
    aggregate: str


class Variant(BaseModel):
    """One aggregate of a pool (e.g. L40-n3 and L40-n3-NVLink are ondemand variants)."""

    name: str
    host_count: int
    gpu_summary: GpuSummary


class Block(BaseModel):
    """One pool of a GPU type: primary aggregate name, hosts (union of variants), usage."""

    name: str
    hosts: list[Host]
    gpu_summary: GpuSummary
    variants: list[Variant]


class Overview(BaseModel):
    """Usage over every host of the GPU type."""

    gpu_usage_ratio: str
    gpu_usage_percentage: float


class AggregatesData(BaseModel):
    """/api/aggregates/{gpu_type}: a pool is null when the type has no aggregate in it."""

    ondemand: Block | None
    spot: Block | None
    runpod: Block | None
    gpu_overview: Overview


class TenantInfo(BaseModel):
    """Who a contract aggregate is for."""

    primary_tenant: str | None
    owner_group: str | None


class ContractAggregate(BaseModel):
    """One contract aggregate."""

    aggregate: str
    hosts: list[Host]
    gpu_summary: GpuSummary
    tenant_info: TenantInfo


class Vm(BaseModel):
    """A server on a host."""

    id: str
    name: str
    status: str
    flavor: str
    tenant: str | None
    created: str | None
    gpus: int


class HostVms(BaseModel):
    """/api/host-vms/{hostname}."""

    hostname: str
    vms: list[Vm]
    total_vms: int


class TargetRequest(BaseModel):
    """Body of get-target-aggregate; without gpu_type the host's own GPU aggregates say it."""

    model_config = ConfigDict(strict=True)

    hostname: str = _NAME
    gpu_type: str | None = Field(None, min_length=1, max_length=64)


class Target(BaseModel):
    """Where a host should go."""

    hostname: str
    gpu_type: str | None
    current_aggregates: list[str]
    running_vms: int
    recommended_aggregate: str | None
    reasoning: str


class MigrationRequest(BaseModel):
    """Body of preview-/execute-migration."""

    model_config = ConfigDict(strict=True)

    host: str = _NAME
    source_aggregate: str = _NAME
    target_aggregate: str = _NAME
    force: bool = Field(False, description="Move a host with running VMs out of a spot/runpod aggregate anyway.")


class Ready(BaseModel):
    """The migration's Ready condition."""

    status: str | None
    reason: str | None
    message: str | None


class Validation(BaseModel):
    """The reference's validation flags."""

    source_exists: bool
    target_exists: bool
    host_in_source: bool


class Check(BaseModel):
    """One preflight check of the operator."""

    name: str | None
    ok: bool
    message: str


class Preview(BaseModel):
    """The plan of a dry-run AggregateMigration."""

    commands: list[str]
    validation: Validation
    checks: list[Check]
    running_vms: int
    availability_zone_before: str | None
    availability_zone_after: str | None
    ready: Ready | None
    migration: str


class PreviewPending(BaseModel):
    """202: the plan is not ready yet; poll /api/migrations/{job_id}."""

    migration: str
    job_id: str
    ready: Ready | None


class Step(BaseModel):
    """One step of an executing migration."""

    name: str | None
    state: str | None
    message: str | None


class Migration(BaseModel):
    """An AggregateMigration as the spot API shows it (execute-migration, /api/migrations/{name})."""

    migration: str
    job_id: str
    host: str | None
    source_aggregate: str | None
    target_aggregate: str | None
    dry_run: bool
    requested_by: str | None
    phase: str
    ready: Ready | None
    commands: list[str]
    commands_executed: list[str | None]
    steps: list[Step]
    execution_time: str | None


class LogEntry(BaseModel):
    """One command log entry."""

    timestamp: str
    command: str | None
    status: str | None
    execution_time: str | None
    user: str
    output: str | None
    migration: str
