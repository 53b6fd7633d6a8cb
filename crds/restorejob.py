"""RestoreJob: plan, approve and execute a VM restore from a snapshot, step by step and resumable.

Requests that act on a restore after it started (retry, cleanup, cleanup-storage) are spec fields
carrying a ``requestedAt`` token, like Flux's ``reconcile.fluxcd.io/requestedAt``: setting a new
value asks once, and the operator echoes the token into the matching status record when it has
handled it. They are fields, not annotations, so the apiserver validates their options (CEL and
enums) exactly as it validates the rest of the spec, and they are the only fields besides ``cancel``
that may change once ``execute`` is true.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from .base import (
    CamelModel,
    CredentialsRef,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    cel,
    unchanged,
    with_validations,
)
from .restorejob_status import MAX_FREE_IPS, MAX_RESTORE_POINTS, RestoreJobStatus

__all__ = [
    "CONFIRM_PREFIX",
    "DEFINITION",
    "MAX_FREE_IPS",
    "MAX_RESTORE_POINTS",
    "CleanupPolicy",
    "IpStrategy",
    "RestoreJobSpec",
    "RestoreJobStatus",
    "RestoreMode",
]

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


class RetryIpStrategy(StrEnum):
    """The strategies a retry may switch to (pf9's ip_strategy_override)."""

    NEW_IPS = "NEW_IPS"
    TRY_SAME_IPS = "TRY_SAME_IPS"
    SAME_IPS_OR_FAIL = "SAME_IPS_OR_FAIL"


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


def _token() -> Any:
    """The ``requestedAt`` field every request carries."""
    return Field(
        description="Any new value (a timestamp, say) asks once; the operator echoes it in status when handled.",
        min_length=1,
        max_length=128,
    )


class RetryRequest(CamelModel):
    """Resume a failed restore from its failed step, reusing what it created (pf9's retry)."""

    requested_at: str = _token()
    ip_strategy: RetryIpStrategy | None = Field(
        None, description="Switch to this IP strategy for the retry (e.g. SAME_IPS_OR_FAIL -> TRY_SAME_IPS)."
    )


class CleanupRequest(CamelModel):
    """Remove what a failed or canceled restore left behind: its server, unattached ports, optionally its volume."""

    requested_at: str = _token()
    delete_volume: bool = Field(False, description="Also delete the volume it created (only when not attached).")


class CleanupStorageRequest(CamelModel):
    """After a completed REPLACE: delete the old boot volume (when detached) and optionally the restore point."""

    requested_at: str = _token()
    delete_old_volume: bool = Field(True, description="Delete the replaced VM's old boot volume when detached.")
    delete_source_snapshot: bool = Field(
        False, description="Delete the snapshot the restore used, when it is available."
    )


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
    cel(
        "(!has(self.retry) && !has(self.cleanup) && !has(self.cleanupStorage)) || self.execute",
        "retry, cleanup and cleanupStorage act on an executed restore: set execute: true first",
    ),
    cel("!oldSelf.execute || self.execute", "execute cannot be turned off once the restore started; set cancel: true"),
    cel("!oldSelf.cancel || self.cancel", "cancel is one way: a canceled restore cannot be resumed"),
    cel(
        "!oldSelf.execute || ("
        + unchanged(
            "source",
            "mode",
            "ipStrategy",
            "dryRun",
            "credentialsRef",
            "cleanupPolicy",
            optional=("confirm", "newVmName", "manualIps"),
        )
        + ")",
        "the spec is immutable once execute is true; only cancel, retry, cleanup and cleanupStorage may change "
        "(create a new RestoreJob instead)",
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
    manual_ips: list[ManualIp] | None = Field(
        None,
        description="One address per network for MANUAL_IP (networks without one get a new address).",
        max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["networkId"]},
    )
    execute: bool = Field(False, description="false: plan only. true: run the plan (the approval).")
    cancel: bool = Field(False, description="Stop a running restore (one way).")
    dry_run: bool = Field(
        False, description="Validate live state and record every step as skipped (what it would do); change nothing."
    )
    cleanup_policy: CleanupPolicy = Field(
        CleanupPolicy.RETAIN,
        description="After a failure or cancel: Retain what was created, DeletePorts (the job's server and unattached "
        "ports; with the operator's restore cleanup_volumes setting also its volume), or DeletePortsAndVolume. "
        "Nothing attached to another server or in use is ever deleted.",
    )
    retry: RetryRequest | None = Field(
        None, description="Retry a failed restore from its failed step (set a new requestedAt to ask again)."
    )
    cleanup: CleanupRequest | None = Field(
        None, description="Clean up after a failed or canceled restore (set a new requestedAt to ask again)."
    )
    cleanup_storage: CleanupStorageRequest | None = Field(
        None, description="Delete storage a completed REPLACE left behind (set a new requestedAt to ask again)."
    )


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="RestoreJob",
        plural="restorejobs",
        short_name="d2rj",
        printer_columns=[
            PrinterColumn(name="Mode", json_path=".spec.mode"),
            PrinterColumn(name="Execute", type="boolean", json_path=".spec.execute"),
            PrinterColumn(name="Phase", json_path=".status.phase"),
            PrinterColumn(name="Step", json_path='.status.steps[?(@.state=="Running")].name', priority=1),
            PrinterColumn(name="New VM", json_path=".status.result.vmId", priority=1),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
            PrinterColumn(name="Reason", json_path='.status.conditions[?(@.type=="Ready")].reason', priority=1),
        ],
    ),
    description="Plan (execute: false), approve (execute: true) and run a VM restore from a snapshot, step by step; "
    "cancel, retry and cleanup. status.phase mirrors pf9's job status: PLANNED, PENDING, RUNNING, COMPLETED, FAILED, "
    "CANCELED.",
    spec=RestoreJobSpec,
    status=RestoreJobStatus,
)
