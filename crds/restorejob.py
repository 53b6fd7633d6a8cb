"""RestoreJob: plan, approve and execute a VM restore from a snapshot, step by step and resumable."""

from __future__ import annotations

from enum import StrEnum

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
    unchanged,
    with_validations,
)

__all__ = ["CONFIRM_PREFIX", "DEFINITION", "RestoreJobSpec", "RestoreJobStatus"]

#: REPLACE restores must carry ``confirm: "DELETE AND RESTORE <vm name>"``.
CONFIRM_PREFIX = "DELETE AND RESTORE "


class RestoreMode(StrEnum):
    """NEW restores side by side; REPLACE deletes the VM and restores in its place."""

    NEW = "NEW"
    REPLACE = "REPLACE"


class IpStrategy(StrEnum):
    """How the restored VM gets its addresses (pf9's strategies)."""

    NEW_IPS = "NEW_IPS"
    TRY_SAME_IPS = "TRY_SAME_IPS"
    SAME_IPS_OR_FAIL = "SAME_IPS_OR_FAIL"
    MANUAL_IP = "MANUAL_IP"


class CleanupPolicy(StrEnum):
    """What happens to what a failed or canceled job created."""

    RETAIN = "Retain"
    DELETE_PORTS = "DeletePorts"
    DELETE_PORTS_AND_VOLUME = "DeletePortsAndVolume"


class OpenStackRestoreSource(CamelModel):
    """An OpenStack boot-from-volume VM and a Cinder snapshot of its boot volume."""

    project: str = Field(description="Project name or id the VM lives in.", min_length=1, max_length=255)
    vm_id: str = Field(description="Server id.", min_length=1, max_length=64)
    restore_point_id: str = Field(description="Cinder snapshot id of the boot volume.", min_length=1, max_length=64)


class ProxmoxRestoreSource(CamelModel):
    """A Proxmox guest and one of its snapshots."""

    node: str = Field(description="Cluster node of the guest.", min_length=1, max_length=64)
    vmid: int = Field(description="Guest id.", ge=100, le=999999999)
    snapshot: str = Field(description="Snapshot name.", min_length=1, max_length=40)


class RestoreSource(CamelModel):
    """Exactly one of openstack or proxmox."""

    openstack: OpenStackRestoreSource | None = Field(None, description="Restore an OpenStack VM.")
    proxmox: ProxmoxRestoreSource | None = Field(None, description="Restore a Proxmox guest.")


class ManualIp(CamelModel):
    """An address to use on one network with MANUAL_IP."""

    network_id: str = Field(description="Network id.", min_length=1, max_length=64)
    ip: str = Field(description="IPv4 or IPv6 address.", min_length=2, max_length=45)


SPEC_VALIDATIONS = [
    cel(
        "has(self.source.openstack) != has(self.source.proxmox)",
        "set exactly one of source.openstack or source.proxmox",
    ),
    cel(
        "!has(self.source.openstack) || self.credentialsRef.kind == 'CloudCredential'",
        "source.openstack needs credentialsRef.kind CloudCredential",
    ),
    cel(
        "!has(self.source.proxmox) || self.credentialsRef.kind == 'ProxmoxNode'",
        "source.proxmox needs credentialsRef.kind ProxmoxNode",
    ),
    cel(
        f"self.mode != 'REPLACE' || (has(self.confirm) && self.confirm.startsWith('{CONFIRM_PREFIX}') "
        f"&& size(self.confirm) > {len(CONFIRM_PREFIX)})",
        f"mode REPLACE deletes the VM: set confirm to exactly '{CONFIRM_PREFIX}<vm name>'",
        reason="FieldValueRequired",
    ),
    cel(
        "self.ipStrategy != 'MANUAL_IP' || (has(self.manualIps) && size(self.manualIps) > 0)",
        "ipStrategy MANUAL_IP needs manualIps (networkId and ip per network)",
    ),
    cel("!has(self.newVmName) || self.mode == 'NEW'", "newVmName only applies to mode NEW"),
    cel("!oldSelf.execute || self.execute", "execute cannot be turned off once the restore started; set cancel: true"),
    cel("!oldSelf.cancel || self.cancel", "cancel is one way: a canceled restore cannot be resumed"),
    cel(
        "!oldSelf.execute || ("
        + unchanged(
            "source", "mode", "ipStrategy", "dryRun", "credentialsRef", optional=("confirm", "newVmName", "manualIps")
        )
        + ")",
        "the spec is immutable once execute is true; only cancel may change (create a new RestoreJob instead)",
    ),
]


class RestoreJobSpec(CamelModel):
    """What to restore, how, and whether to run it."""

    model_config = with_validations(*SPEC_VALIDATIONS)

    credentials_ref: CredentialsRef = Field(description="The CloudCredential (OpenStack) or ProxmoxNode to act with.")
    source: RestoreSource = Field(description="The VM and restore point.")
    mode: RestoreMode = Field(RestoreMode.NEW, description="NEW (side by side) or REPLACE (destructive).")
    new_vm_name: str | None = Field(
        None,
        description="Name of the restored VM in mode NEW; generated from the source when unset.",
        min_length=1,
        max_length=63,
    )
    confirm: str | None = Field(
        None,
        description="For REPLACE: exactly 'DELETE AND RESTORE <vm name>', checked again against the VM's real name.",
        max_length=300,
    )
    ip_strategy: IpStrategy = Field(
        IpStrategy.NEW_IPS, description="NEW_IPS, TRY_SAME_IPS (fall back to new), SAME_IPS_OR_FAIL or MANUAL_IP."
    )
    manual_ips: list[ManualIp] | None = Field(None, description="Addresses per network for MANUAL_IP.", max_length=16)
    execute: bool = Field(False, description="false: plan only. true: run the plan (the approval).")
    cancel: bool = Field(False, description="Stop a running restore (one way).")
    dry_run: bool = Field(False, description="Validate and plan every step but change nothing.")
    cleanup_policy: CleanupPolicy = Field(
        CleanupPolicy.RETAIN,
        description="After a failure or cancel: Retain what was created, DeletePorts, or DeletePortsAndVolume. "
        "Nothing attached or in use is ever deleted.",
    )


class PlannedNetwork(CamelModel):
    """One network of the restored VM and the addresses it will get."""

    network_id: str = Field(description="Network id.")
    network_name: str | None = Field(None, description="Network name.")
    original_ips: list[str] | None = Field(None, description="Addresses the source VM has there.", max_length=16)
    planned_ips: list[str] | None = Field(
        None, description="Addresses the restore will request ([] = DHCP).", max_length=16
    )
    available: bool | None = Field(None, description="Whether the original addresses are free.")


class RestorePlan(CamelModel):
    """What the restore will do, computed before it runs."""

    vm_name: str | None = Field(None, description="Source VM name.")
    vm_id: str | None = Field(None, description="Source VM id.")
    flavor: str | None = Field(None, description="Flavor of the source VM.")
    boot_volume_id: str | None = Field(None, description="Source boot volume.")
    restore_point_size_gb: int | None = Field(None, description="Size of the snapshot.", ge=0)
    new_vm_name: str | None = Field(None, description="Name the restored VM will get.")
    networks: list[PlannedNetwork] | None = Field(None, description="Networks and addresses.", max_length=16)
    quota_ok: bool | None = Field(None, description="Whether project quota allows the restore.")
    warnings: list[str] | None = Field(None, description="Things to know before approving.", max_length=20)


class CreatedResource(CamelModel):
    """A cloud object the job created; cleanup and resume read this."""

    type: str = Field(description="volume, port, server, proxmox-guest.")
    id: str = Field(description="Cloud id.")
    name: str | None = Field(None, description="Name given to it.")
    step: str | None = Field(None, description="Step that created it.")
    deleted: bool = Field(False, description="Whether cleanup removed it.")


class RestoreResult(CamelModel):
    """What the restore produced."""

    vm_id: str | None = Field(None, description="The restored VM's id.")
    vm_name: str | None = Field(None, description="Its name.")
    ips: list[str] | None = Field(None, description="Its addresses.", max_length=32)


class RestoreJobStatus(StatusBase):
    """Observed state of a RestoreJob."""

    plan: RestorePlan | None = Field(None, description="The plan, computed while execute is false.")
    steps: list[Step] | None = Field(None, description="The steps and their states.", max_length=MAX_STATUS_LIST)
    created_resources: list[CreatedResource] | None = Field(
        None, description="Cloud objects this job created.", max_length=MAX_STATUS_LIST
    )
    result: RestoreResult | None = Field(None, description="The restored VM.")


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="RestoreJob",
        plural="restorejobs",
        short_name="d2rj",
        printer_columns=[
            PrinterColumn(name="Mode", json_path=".spec.mode"),
            PrinterColumn(name="Execute", type="boolean", json_path=".spec.execute"),
            PrinterColumn(name="Phase", json_path=".status.phase"),
            PrinterColumn(name="New VM", json_path=".status.result.vmId", priority=1),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
            PrinterColumn(name="Reason", json_path='.status.conditions[?(@.type=="Ready")].reason', priority=1),
        ],
    ),
    description="Plan (execute: false), approve (execute: true) and run a VM restore from a snapshot, step by step; "
    "cancel, retry and cleanup.",
    spec=RestoreJobSpec,
    status=RestoreJobStatus,
)
