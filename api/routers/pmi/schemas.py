"""Response and request models of the pmi API (its documented shapes; OpenAPI and validation)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Connected",
    "History",
    "NodeCreate",
    "NodeId",
    "NodeUpdate",
    "NodeView",
    "Operation",
    "OperationAccepted",
    "PowerBody",
    "Resource",
    "Resources",
]


class NodeView(BaseModel):
    """One configured Proxmox node (a ProxmoxNode) with usage summed over its cluster."""

    id: str
    name: str
    host: str
    port: int
    status: str = Field(description="online, offline, connected or error")
    version: str | None
    is_connected: bool
    cpu_usage: float
    cpu_count: int
    memory_usage: int
    memory_total: int
    memory_percentage: float
    disk_usage: int
    disk_total: int
    disk_percentage: float
    uptime: int
    last_connected: str | None
    last_updated: str | None
    ssl_verify: bool
    timeout: int


class NodeCreate(BaseModel):
    """POST /nodes and /test-connection: where the node is and its API token (write-only)."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200, description="Display name")
    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$", description="IP or host name")
    port: int = Field(8006, ge=1, le=65535)
    api_token_id: str = Field(min_length=3, max_length=256, pattern=r"^\S+@\S+!\S+$", description="user@realm!token")
    api_token_secret: str = Field(min_length=1, max_length=256, description="Token secret (never returned)")
    ssl_verify: bool = Field(
        True,
        description="Verify the node's certificate (daytwo default true; pmi documents false). Set false explicitly "
        "for a self-signed node: the token is then sent to whoever answers at host:port.",
    )
    timeout: int = Field(30, ge=1, le=300, description="Seconds")


class NodeUpdate(BaseModel):
    """PUT /nodes/{id}: any subset of NodeCreate's fields; changing host, port or ssl_verify needs api_token_secret."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=200)
    host: str | None = Field(None, min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    port: int | None = Field(None, ge=1, le=65535)
    api_token_id: str | None = Field(None, min_length=3, max_length=256, pattern=r"^\S+@\S+!\S+$")
    api_token_secret: str | None = Field(None, min_length=1, max_length=256)
    ssl_verify: bool | None = None
    timeout: int | None = Field(None, ge=1, le=300)


class NodeId(BaseModel):
    """The id of a created node (the ProxmoxNode name)."""

    node_id: str


class Connected(BaseModel):
    """Outcome of a connection test (``connected`` None: not known yet, poll ``job_id``)."""

    connected: bool | None
    version: str | None = None
    job_id: str | None = None
    reason: str | None = None


class Resource(BaseModel):
    """A VM or container with its usage at the last inventory pass (null while only the ProxmoxNode's status
    lists it: the operator has not written its guest inventory yet)."""

    vmid: int
    name: str
    node: str | None
    type: str = Field(description="qemu or lxc")
    status: str
    uptime: int | None = Field(description="Seconds")
    cpu_usage: float | None = Field(description="Percent of the guest's CPUs")
    cpu_count: int | None = Field(description="CPUs of the guest")
    memory_usage: int | None = Field(description="Bytes used")
    memory_total: int | None = Field(description="Bytes")
    memory_percentage: float | None
    disk_usage: int | None = Field(description="Bytes used (0 when Proxmox cannot see inside a VM)")
    disk_total: int | None = Field(description="Bytes")
    disk_percentage: float | None
    network_in: int | None = Field(description="Bytes received since the guest started")
    network_out: int | None = Field(description="Bytes sent since the guest started")
    tags: list[str] | None = Field(description="Proxmox tags (null while unknown)")
    last_updated: str | None = Field(description="When the operator took the inventory")


class Resources(BaseModel):
    """VMs and containers of a node: every guest from the guest inventory (``source`` inventory), or at most
    50 from the ProxmoxNode's status until the operator has written it (``source`` status; usage null)."""

    vms: list[Resource]
    containers: list[Resource]
    total_vms: int
    total_containers: int
    truncated: bool = Field(description="Some guests are not listed (status fallback, or an inventory mid-write)")
    source: str = Field(description="inventory (guest inventory ConfigMaps) or status (bounded status.guests)")
    synced_at: str | None = Field(description="When the listed inventory was taken")


class PowerBody(BaseModel):
    """Optional body of stop/restart."""

    model_config = ConfigDict(extra="ignore")

    force: bool = False


class OperationAccepted(BaseModel):
    """A power request: the operation id (poll /history) and where it stands."""

    operation_id: str
    status: str
    node_id: str


class Operation(BaseModel):
    """One operation of the history."""

    id: str
    timestamp: str | None
    node: str
    node_id: str
    resource_type: str
    resource_id: int
    resource_name: str | None
    operation: str
    status: str
    duration: float | None
    user: str | None
    error_message: str | None
    details: dict[str, Any]


class History(BaseModel):
    """A page of operations with the filters applied."""

    operations: list[Operation]
    total: int
    limit: int
    offset: int
    filters: dict[str, str | None]
