"""Response and request models of the horcrux API (its documented shapes, plus daytwo's extra fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Accepted",
    "AuditEvent",
    "Backup",
    "BackupCreate",
    "BackupJob",
    "BackupJobCreate",
    "ClusterNode",
    "Health",
    "Message",
    "MetricHistory",
    "NodeStats",
    "PowerAnswer",
    "RestoreAnswer",
    "RestoreBody",
    "Snapshot",
    "SnapshotCreate",
    "SnapshotCreated",
    "SnapshotTree",
    "StopBody",
    "TestResult",
    "Vm",
    "VmStats",
    "Webhook",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDelivery",
    "WebhookUpdate",
]

NAME = r"^[A-Za-z0-9_-]+$"


class Health(BaseModel):
    """GET /api/health."""

    status: str
    version: str
    timestamp: str


class Message(BaseModel):
    """A plain message answer."""

    message: str


class Disk(BaseModel):
    """One disk of a VM."""

    path: str
    size: int
    format: str


class Vm(BaseModel):
    """A VM from the guest inventory; figures daytwo does not know are null (memory, cpus, disk_size, uptime
    and tags too while only the ProxmoxNode's bounded status lists the guest)."""

    id: str
    name: str
    hypervisor: str
    status: str
    memory: int | None = Field(description="MiB")
    cpus: int | None
    disk_size: int | None = Field(description="Bytes")
    architecture: str | None
    disks: list[Disk]
    created_at: str | None
    uptime_seconds: int | None
    node: str = Field(description="Proxmox node the guest runs on")
    proxmox_node: str = Field(description="The daytwo ProxmoxNode reporting it")
    tags: list[str] | None = Field(description="Proxmox tags")
    template: bool | None = Field(description="A Proxmox template")


class StopBody(BaseModel):
    """POST /api/vms/{id}/stop."""

    model_config = ConfigDict(extra="ignore")

    force: bool = False
    timeout: int = Field(60, ge=1, le=3600)


class PowerAnswer(BaseModel):
    """A power request: the state asked for and the operation (job) id to follow."""

    id: str
    status: str
    message: str
    job_id: str
    pid: int | None = None


class SnapshotCreate(BaseModel):
    """POST /api/vms/{id}/snapshots."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=40, pattern=NAME, description="Letters, digits, - and _")
    description: str | None = Field(None, max_length=1000)
    include_memory: bool = False


class SnapshotCreated(BaseModel):
    """The on-demand snapshot request (202: ``id`` is the SnapshotPolicy doing it)."""

    id: str
    vm_id: str
    name: str
    created_at: str
    message: str
    job_id: str


class DiskSnapshot(BaseModel):
    """One disk's snapshot."""

    disk_path: str
    snapshot_name: str
    size: int


class Snapshot(BaseModel):
    """A snapshot of a VM."""

    id: str
    vm_id: str
    name: str
    description: str | None
    created_at: str | None
    include_memory: bool
    disk_snapshots: list[DiskSnapshot]
    parent_snapshot: str | None
    status: str = Field(description="creating, pending, running, completed or failed")
    snapshot_name: str | None = Field(description="The Proxmox snapshot name")
    policy: str = Field(description="The SnapshotPolicy that made it")


class TreeNode(BaseModel):
    """One node of the snapshot tree."""

    id: str
    name: str
    created_at: str | None
    children: list[TreeNode]


class SnapshotTree(BaseModel):
    """GET /api/vms/{id}/snapshots/tree."""

    vm_id: str
    snapshots: list[TreeNode]


class RestoreBody(BaseModel):
    """POST .../restore: NEW (default, side by side) or REPLACE (admin + confirmation string)."""

    model_config = ConfigDict(extra="ignore")

    restore_memory: bool = True
    mode: str = Field("NEW", pattern="^(NEW|REPLACE)$")
    confirm: str | None = Field(None, max_length=300, description="REPLACE: 'DELETE AND RESTORE <vm name>'")
    new_vm_name: str | None = Field(None, min_length=1, max_length=63)


class RestoreAnswer(BaseModel):
    """A restore request: the RestoreJob (job id) doing it."""

    message: str
    snapshot_id: str
    vm_status: str
    job_id: str


class Backup(BaseModel):
    """One backup: a run of a backup job for one VM."""

    id: str
    vm_id: str
    vm_name: str | None
    type: str
    status: str
    size: int | None
    path: str | None
    created_at: str | None
    completed_at: str | None
    compression: str | None
    job_id: str


class BackupCreate(BaseModel):
    """POST /api/backups: an on-demand snapshot of one VM."""

    model_config = ConfigDict(extra="ignore")

    vm_id: str = Field(pattern=r"^[0-9]+$")
    type: str = Field("full", pattern="^(full|incremental)$")
    compression: str = Field("gzip", pattern="^(gzip|bzip2|xz|none)$")
    description: str | None = Field(None, max_length=1000)


class Accepted(BaseModel):
    """A long operation was requested: its job id (a daytwo object name)."""

    id: str
    vm_id: str | None = None
    status: str
    message: str
    job_id: str
    backups_created: int | None = None


class BackupJob(BaseModel):
    """A scheduled backup job (a SnapshotPolicy with Proxmox targets)."""

    id: str
    name: str
    schedule: str
    vm_ids: list[str]
    retention_days: int | None
    keep_last: int | None
    enabled: bool
    last_run: str | None
    next_run: str | None
    proxmox_node: str | None


class BackupJobCreate(BaseModel):
    """POST /api/backup-jobs."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")
    schedule: str = Field(min_length=1, max_length=200)
    vm_ids: list[str] = Field(min_length=1, max_length=1000)
    type: str = Field("full", pattern="^(full|incremental)$")
    compression: str = Field("gzip", pattern="^(gzip|bzip2|xz|none)$")
    retention_days: int | None = Field(None, ge=1, le=36500)
    keep_last: int | None = Field(None, ge=1, le=1000)
    enabled: bool = True


class NodeStats(BaseModel):
    """GET /api/monitoring/node."""

    hostname: str
    cpu_usage: float
    cpu_cores: int
    memory_total: int
    memory_used: int
    memory_usage: float
    disk_total: int
    disk_used: int
    disk_usage: float
    network_rx_bytes: int | None
    network_tx_bytes: int | None
    uptime_seconds: int
    load_average: list[float]


class VmStats(BaseModel):
    """GET /api/monitoring/vms/{id}: usage at the last inventory pass (null while only the ProxmoxNode's bounded
    status lists the guest; disk I/O counters are not collected)."""

    vm_id: str
    status: str
    cpu_usage: float | None
    memory_used: int | None
    memory_total: int | None
    memory_usage: float | None
    disk_read_bytes: int | None
    disk_write_bytes: int | None
    network_rx_bytes: int | None
    network_tx_bytes: int | None
    uptime_seconds: int | None
    disk_used: int | None = Field(description="Bytes (0 when Proxmox cannot see inside a VM)")
    disk_total: int | None = Field(description="Bytes")
    disk_usage: float | None = Field(description="Percent")


class Sample(BaseModel):
    """One sample of a metric."""

    timestamp: str
    value: float


class MetricHistory(BaseModel):
    """GET /api/monitoring/history/{metric}: cluster totals sampled at each inventory pass (at most 1440 per
    ProxmoxNode), averaged per ``interval``; cpu/memory/disk in percent, network as byte counters."""

    metric: str
    start: str | None
    end: str | None
    interval: int
    data: list[Sample]


class ClusterNode(BaseModel):
    """GET /api/cluster/nodes."""

    name: str
    address: str
    architecture: str | None
    status: str
    cpu_cores: int
    memory_total: int
    vms_running: int
    joined_at: str | None
    proxmox_node: str


class AuditEvent(BaseModel):
    """GET /api/audit/events."""

    id: str
    timestamp: str
    user: str
    action: str
    resource: str
    result: str
    ip_address: str | None
    user_agent: str | None


class Webhook(BaseModel):
    """A webhook (the secret is never returned)."""

    id: str
    name: str
    url: str
    events: list[str]
    enabled: bool
    created_at: str | None
    has_secret: bool


class WebhookCreate(BaseModel):
    """POST /api/webhooks."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://\S+$")
    events: list[str] = Field(min_length=1, max_length=50)
    enabled: bool = True
    secret: str | None = Field(None, min_length=1, max_length=1024, description="HMAC-SHA256 key (write-only)")


class WebhookUpdate(BaseModel):
    """POST /api/webhooks/{id}: any subset."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=200)
    url: str | None = Field(None, min_length=8, max_length=2048, pattern=r"^https?://\S+$")
    events: list[str] | None = Field(None, min_length=1, max_length=50)
    enabled: bool | None = None
    secret: str | None = Field(None, min_length=1, max_length=1024)


class WebhookCreated(BaseModel):
    """POST /api/webhooks answer."""

    id: str
    message: str


class TestResult(BaseModel):
    """POST /api/webhooks/{id}/test."""

    status: str
    response_code: int | None
    response_time_ms: int | None
    error: str | None = None


class WebhookDelivery(BaseModel):
    """One delivery."""

    id: str
    webhook_id: str
    event: str
    status: str
    response_code: int | None
    delivered_at: str | None
    retries: int
    response_time_ms: int | None
    error: str | None
