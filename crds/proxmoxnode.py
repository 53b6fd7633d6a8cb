"""ProxmoxNode: a Proxmox VE endpoint with an API token Secret, guest inventory and power operations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .base import (
    MAX_STATUS_LIST,
    CamelModel,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    SecretKeyRef,
    StatusBase,
    cel,
    with_validations,
)
from .secrets import SecretBinding

__all__ = [
    "DEFINITION",
    "GuestCounts",
    "GuestKind",
    "GuestSummary",
    "InFlightOperation",
    "NodeCertificate",
    "NodeInfo",
    "OperationRecord",
    "PowerAction",
    "ProxmoxNodeSpec",
    "ProxmoxNodeStatus",
]


class TokenSecretRef(CamelModel):
    """The Secret holding the API token (id like user@pve!daytwo, and its secret)."""

    name: str = Field(description="Secret name in this namespace.", min_length=1, max_length=253)
    token_id_key: str = Field("tokenId", description="Key holding the token id (user@realm!name).")
    token_secret_key: str = Field("tokenSecret", description="Key holding the token secret (a UUID).")


class ProxmoxTLS(CamelModel):
    """Certificate verification; on by default."""

    model_config = with_validations(
        cel(
            "!(self.insecureSkipVerify && has(self.caSecretRef))",
            "set either caSecretRef or insecureSkipVerify, not both",
        ),
    )

    ca_secret_ref: SecretKeyRef | None = Field(None, description="CA bundle (PEM) to verify the node's certificate.")
    insecure_skip_verify: bool = Field(
        False, description="Do not verify the certificate (reported as a warning condition). Avoid."
    )


class PowerState(StrEnum):
    """Declarative power state of a guest."""

    RUNNING = "running"
    STOPPED = "stopped"


class GuestKind(StrEnum):
    """qemu VM or LXC container."""

    VM = "vm"
    LXC = "lxc"


class PowerOperation(StrEnum):
    """One-off operations. stop is a hard power-off; shutdown is graceful (force = forceStop after timeout)."""

    START = "start"
    SHUTDOWN = "shutdown"
    STOP = "stop"
    REBOOT = "reboot"


class DesiredGuestPower(CamelModel):
    """Keep a guest running or stopped."""

    vmid: int = Field(description="Guest id.", ge=100, le=999999999)
    state: PowerState = Field(description="running or stopped.")


class PowerAction(CamelModel):
    """A one-off operation, done exactly once per id and recorded in status.handledActions."""

    id: str = Field(
        description="Request id, unique in this list; a new id asks again.",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    )
    vmid: int = Field(description="Guest id.", ge=100, le=999999999)
    operation: PowerOperation = Field(description="start, shutdown (graceful), stop (hard off) or reboot.")
    force: bool = Field(False, description="shutdown: forceStop after the timeout; stop/reboot: skip the lock check.")
    requested_by: str | None = Field(None, description="Who asked (recorded in history).", max_length=256)


class ProxmoxNodeSpec(CamelModel):
    """Where the Proxmox VE API is, how to authenticate, and what the guests should do."""

    host: str = Field(description="Host name or IP of a cluster node's API.", min_length=1, max_length=253)
    port: int = Field(8006, description="API port.", ge=1, le=65535)
    token_secret_ref: TokenSecretRef = Field(description="API token Secret.")
    tls: ProxmoxTLS = Field(default_factory=ProxmoxTLS, description="Certificate verification.")
    timeout_seconds: int = Field(10, description="Per-call timeout.", ge=1, le=300)
    inventory_interval_seconds: int = Field(
        60, description="How often to refresh status and inventory.", ge=10, le=86400
    )
    suspend: bool = Field(False, description="Stop refreshing and acting.")
    guest_power: list[DesiredGuestPower] | None = Field(
        None,
        description="Desired power state per guest, kept continuously.",
        max_length=1000,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["vmid"]},
    )
    actions: list[PowerAction] | None = Field(
        None,
        description="One-off power operations; each id is handled once (GitOps-safe: re-applying changes nothing).",
        max_length=MAX_STATUS_LIST,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"]},
    )


class NodeInfo(CamelModel):
    """One cluster node, as PMI reports it."""

    name: str = Field(description="Node name.")
    online: bool = Field(description="Whether the node is up.")
    cpu: float | None = Field(
        None, description="CPU usage 0..1; refreshed when it moves by more than 5% (keeps status quiet for GitOps)."
    )
    maxcpu: int | None = Field(None, description="CPUs.")
    mem: int | None = Field(None, description="Memory used, bytes; refreshed when it moves by more than 5% of maxmem.")
    maxmem: int | None = Field(None, description="Memory total, bytes.")
    disk: int | None = Field(
        None, description="Root disk used, bytes; refreshed when it moves by more than 5% of maxdisk."
    )
    maxdisk: int | None = Field(None, description="Root disk total, bytes.")
    booted_at: datetime | None = Field(
        None, description="When the node booted (now minus its uptime); stable, unlike the uptime."
    )


class NodeCertificate(CamelModel):
    """One Proxmox node certificate (GET /nodes/{node}/certificates/info), read on each inventory pass."""

    node: str = Field(description="Cluster node.")
    filename: str = Field(description="Certificate file on the node, e.g. pve-ssl.pem.")
    subject: str = Field(description="Subject, as Proxmox prints it.")
    issuer: str = Field(description="Issuer, as Proxmox prints it.")
    not_before: datetime = Field(description="Start of validity.")
    not_after: datetime = Field(description="End of validity (Expiring=True within DAYTWO_CERT_EXPIRY_WARNING_DAYS).")
    fingerprint: str = Field(description="SHA-256 fingerprint (colon-separated hex).")


class GuestSummary(CamelModel):
    """One guest (bounded list; the facade reads the full inventory live)."""

    vmid: int = Field(description="Guest id.")
    name: str | None = Field(None, description="Guest name.")
    node: str = Field(description="Node it runs on.")
    kind: GuestKind = Field(description="vm or lxc.")
    status: str = Field(description="running, stopped, ...")


class GuestCounts(CamelModel):
    """Counts over the whole inventory."""

    vms: int = Field(0, ge=0, description="qemu VMs.")
    containers: int = Field(0, ge=0, description="LXC containers.")
    running: int = Field(0, ge=0, description="Running guests.")


class OperationRecord(CamelModel):
    """One power operation, as PMI's history shows it."""

    id: str = Field(description="Action id (or desired-state id).")
    time: datetime = Field(description="When it started.")
    node: str | None = Field(None, description="Node.")
    vmid: int = Field(description="Guest id.")
    kind: GuestKind | None = Field(None, description="vm or lxc.")
    operation: str = Field(description="start, shutdown, stop, reboot.")
    status: str = Field(description="success, error or running.")
    duration_ms: int | None = Field(None, ge=0, description="How long it took.")
    upid: str | None = Field(None, description="Proxmox task id.")
    error: str | None = Field(None, description="exitstatus or error.", max_length=2048)
    user: str | None = Field(None, description="Who asked.")


class InFlightOperation(CamelModel):
    """A power operation recorded before it is submitted, so a restarted operator finishes it exactly once."""

    id: str = Field(description="Action id, or power-<vmid>-<state> for spec.guestPower.")
    vmid: int = Field(description="Guest id.")
    node: str = Field(description="Node of the guest.")
    kind: GuestKind = Field(description="vm or lxc.")
    operation: PowerOperation = Field(description="start, shutdown, stop or reboot.")
    force: bool = Field(False, description="As requested.")
    origin: str = Field(description="action (spec.actions) or desired (spec.guestPower).")
    submitted_at: datetime = Field(description="When the operator decided to submit it.")
    upid: str | None = Field(None, description="Proxmox task id, once submitted.")
    user: str | None = Field(None, description="Who asked.")


class ProxmoxNodeStatus(StatusBase):
    """Observed state of a ProxmoxNode."""

    version: str | None = Field(None, description="Proxmox VE version.")
    cluster_name: str | None = Field(None, description="Cluster name, when clustered.")
    nodes: list[NodeInfo] | None = Field(None, description="Cluster nodes.", max_length=MAX_STATUS_LIST)
    guest_counts: GuestCounts | None = Field(None, description="Guests by kind and running.")
    guests: list[GuestSummary] | None = Field(
        None, description=f"Guests (at most {MAX_STATUS_LIST}; see guestCounts).", max_length=MAX_STATUS_LIST
    )
    last_inventory_time: datetime | None = Field(
        None,
        description="Last inventory pass that saw a change in version, nodes or guests; an unchanged estate moves it "
        "only every DAYTWO_STATUS_HEARTBEAT_SECONDS (an operator setting, default 1 hour: a coarse heartbeat, so "
        "passes in between write no status).",
    )
    in_flight: list[InFlightOperation] | None = Field(
        None, description="Power operations submitted and not finished yet.", max_length=MAX_STATUS_LIST
    )
    handled_actions: list[str] | None = Field(
        None, description="Ids of spec.actions already handled.", max_length=MAX_STATUS_LIST
    )
    history: list[OperationRecord] | None = Field(
        None, description=f"Operations, newest first (at most {MAX_STATUS_LIST}).", max_length=MAX_STATUS_LIST
    )
    secret_binding: SecretBinding | None = Field(
        None, description="The token Secret version last sent and the endpoint it went to (see README, security)."
    )
    certificates: list[NodeCertificate] | None = Field(
        None,
        description=f"The nodes' certificates (at most {MAX_STATUS_LIST}); absent when the token may not read them.",
        max_length=MAX_STATUS_LIST,
    )


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="ProxmoxNode",
        plural="proxmoxnodes",
        short_name="d2pn",
        printer_columns=[
            PrinterColumn(name="Host", json_path=".spec.host"),
            PrinterColumn(name="Version", json_path=".status.version"),
            PrinterColumn(name="VMs", type="integer", json_path=".status.guestCounts.vms"),
            PrinterColumn(name="Running", type="integer", json_path=".status.guestCounts.running"),
            PrinterColumn(name="Connected", json_path='.status.conditions[?(@.type=="Connected")].status'),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
            PrinterColumn(name="Reason", json_path='.status.conditions[?(@.type=="Ready")].reason', priority=1),
        ],
    ),
    description="A Proxmox VE endpoint and its API token Secret: connection health, guest inventory, power operations "
    "and their history.",
    spec=ProxmoxNodeSpec,
    status=ProxmoxNodeStatus,
)
