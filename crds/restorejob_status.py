"""RestoreJob status: the plan, the steps, what the job created, the result, and answers to requests."""

from __future__ import annotations

from pydantic import Field

from .base import MAX_STATUS_LIST, CamelModel, StatusBase, Step

__all__ = ["MAX_FREE_IPS", "MAX_RESTORE_POINTS", "RestoreJobStatus"]

#: The plan lists at most this many restore points (newest first) and free addresses per subnet.
MAX_RESTORE_POINTS = 20
MAX_FREE_IPS = 50


class SubnetFreeIps(CamelModel):
    """Free addresses of one subnet (pf9's available-ips view), a bounded sample plus the total."""

    subnet_id: str = Field(description="Subnet id.")
    subnet_name: str | None = Field(None, description="Subnet name.")
    cidr: str | None = Field(None, description="Subnet CIDR.")
    gateway_ip: str | None = Field(None, description="Gateway address.")
    available_ips: list[str] | None = Field(
        None, description=f"The first free addresses (at most {MAX_FREE_IPS}).", max_length=MAX_FREE_IPS
    )
    available_count: int = Field(0, description="How many addresses are free in all.", ge=0)


class PlannedNetwork(CamelModel):
    """One network of the restored VM and the addresses it will get."""

    network_id: str = Field(description="Network id.")
    network_name: str | None = Field(None, description="Network name.")
    original_port_id: str | None = Field(None, description="The source VM's port on this network.")
    original_ips: list[str] | None = Field(None, description="Addresses the source VM has there.", max_length=16)
    planned_ips: list[str] | None = Field(
        None, description="Addresses the restore will request ([] = DHCP).", max_length=16
    )
    available: bool | None = Field(
        None,
        description="Whether the requested addresses are free (in REPLACE mode, addresses of the VM itself count as "
        "free: deleting it releases them).",
    )
    held_by: list[str] | None = Field(None, description="Ports that hold a requested address.", max_length=16)
    security_group_ids: list[str] | None = Field(
        None, description="Security groups of the original port, given to the new one.", max_length=32
    )
    subnets: list[SubnetFreeIps] | None = Field(None, description="Free addresses per subnet.", max_length=8)


class RestorePoint(CamelModel):
    """A snapshot the VM can be restored from."""

    id: str = Field(description="Snapshot id (Cinder) or name (Proxmox).")
    name: str | None = Field(None, description="Snapshot name.")
    created_at: str | None = Field(None, description="When it was taken.")
    size_gb: int | None = Field(None, description="Size.", ge=0)
    status: str | None = Field(None, description="available, creating, error...")


class QuotaCheck(CamelModel):
    """One quota the restore consumes."""

    resource: str = Field(description="instances, cores, ram, volumes, gigabytes.")
    limit: int = Field(description="The limit (-1 = unlimited).")
    in_use: int = Field(description="In use now.")
    needed: int = Field(description="What the restore adds.")
    ok: bool = Field(description="Whether it fits.")


class RestorePlan(CamelModel):
    """What the restore will do, computed before it runs (and again when it starts)."""

    mode: str | None = Field(None, description="NEW or REPLACE.")
    vm_name: str | None = Field(None, description="Source VM name.")
    vm_id: str | None = Field(None, description="Source VM id (Proxmox: vmid).")
    vm_status: str | None = Field(None, description="Source VM status.")
    project_id: str | None = Field(None, description="Project of the VM.")
    project_name: str | None = Field(None, description="Its name.")
    flavor: str | None = Field(None, description="Flavor of the source VM.")
    flavor_id: str | None = Field(None, description="Flavor id the restored VM boots with.")
    availability_zone: str | None = Field(None, description="Availability zone of the source VM.")
    boot_volume_id: str | None = Field(None, description="Source boot volume.")
    volume_type: str | None = Field(None, description="Volume type of the boot volume.")
    restore_point_id: str | None = Field(None, description="The restore point (Cinder snapshot id).")
    restore_point_name: str | None = Field(None, description="Name of the restore point.")
    restore_point_created_at: str | None = Field(None, description="When the restore point was taken.")
    restore_point_size_gb: int | None = Field(None, description="Size of the snapshot.", ge=0)
    restore_points: list[RestorePoint] | None = Field(
        None,
        description=f"Snapshots of the boot volume (Proxmox: of the guest), newest first, at most "
        f"{MAX_RESTORE_POINTS}.",
        max_length=MAX_RESTORE_POINTS,
    )
    new_vm_name: str | None = Field(None, description="Name the restored VM will get.")
    ip_strategy: str | None = Field(None, description="The IP strategy in effect (a retry may override it).")
    networks: list[PlannedNetwork] | None = Field(None, description="Networks and addresses.", max_length=16)
    vm_metadata: dict[str, str] | None = Field(None, description="Metadata copied to the restored VM.")
    quota: list[QuotaCheck] | None = Field(None, description="Quotas the restore consumes.", max_length=10)
    quota_ok: bool | None = Field(None, description="Whether project quota allows the restore.")
    node: str | None = Field(None, description="Proxmox node of the guest.")
    guest_type: str | None = Field(None, description="Proxmox guest type (vm or lxc).")
    warnings: list[str] | None = Field(None, description="Things to know before approving.", max_length=20)


class OriginalPort(CamelModel):
    """A port of the VM a REPLACE restore deletes."""

    port_id: str = Field(description="Port id.")
    network_id: str = Field(description="Network id.")
    ips: list[str] | None = Field(None, description="Its fixed addresses.", max_length=16)
    mac_address: str | None = Field(None, description="Its MAC address.")


class OriginalVm(CamelModel):
    """What a REPLACE restore recorded about the VM before deleting it."""

    vm_id: str = Field(description="Server id.")
    vm_name: str = Field(description="Server name.")
    boot_volume_id: str | None = Field(None, description="Its boot volume (cleanupStorage deletes it).")
    data_volume_ids: list[str] | None = Field(None, description="Other attached volumes (left alone).", max_length=32)
    ports: list[OriginalPort] | None = Field(None, description="Its ports and addresses.", max_length=16)
    recorded_at: str | None = Field(None, description="When this was recorded.")


class CreatedResource(CamelModel):
    """A cloud object the job created; cleanup and resume read this."""

    type: str = Field(description="volume, port, server, proxmox-guest.")
    id: str = Field(description="Cloud id.")
    name: str | None = Field(None, description="Name given to it.")
    step: str | None = Field(None, description="Step that created it.")
    network_id: str | None = Field(None, description="Network of a port.")
    ips: list[str] | None = Field(None, description="Addresses of a port.", max_length=16)
    deleted: bool = Field(False, description="Whether cleanup removed it.")


class RestoreResult(CamelModel):
    """What the restore produced."""

    vm_id: str | None = Field(None, description="The restored VM's id.")
    vm_name: str | None = Field(None, description="Its name.")
    volume_id: str | None = Field(None, description="Its boot volume.")
    ips: list[str] | None = Field(None, description="Its addresses.", max_length=32)
    fell_back: list[str] | None = Field(
        None, description="Networks where TRY_SAME_IPS could not keep the address.", max_length=16
    )
    message: str | None = Field(None, description="Summary.", max_length=4096)


class RetryStatus(CamelModel):
    """The last retry request and what it did (pf9's retry answer)."""

    requested_at: str = Field(description="The spec.retry.requestedAt token this answers.")
    accepted: bool = Field(description="False when the restore was not in a state that can be retried.")
    ip_strategy: str | None = Field(None, description="The IP strategy the retry runs with.")
    resumed_from_step: str | None = Field(None, description="First step run again.")
    reused_resources: dict[str, str] | None = Field(
        None, description="What the retry reuses (volume_id, port_ids, server_id)."
    )
    count: int = Field(0, description="Retries accepted so far.", ge=0)
    handled_at: str | None = Field(None, description="When it was handled.")
    message: str | None = Field(None, description="What happened.", max_length=4096)


class CleanupStatus(CamelModel):
    """The last cleanup (automatic by cleanupPolicy, or requested) and what it removed."""

    requested_at: str = Field(description="spec.cleanup.requestedAt, or 'cleanupPolicy' for the automatic one.")
    state: str = Field(description="Running, Succeeded, Failed (some deletes failed) or Refused.")
    delete_volume: bool | None = Field(None, description="cleanup: whether the job's volume was to be deleted.")
    delete_old_volume: bool | None = Field(
        None, description="cleanupStorage: whether the old boot volume was to be deleted."
    )
    delete_source_snapshot: bool | None = Field(
        None, description="cleanupStorage: whether the source snapshot was to be deleted."
    )
    deleted_servers: list[str] | None = Field(None, description="Servers removed.", max_length=16)
    deleted_ports: list[str] | None = Field(None, description="Ports removed.", max_length=32)
    deleted_volumes: list[str] | None = Field(None, description="Volumes removed.", max_length=16)
    deleted_snapshots: list[str] | None = Field(None, description="Snapshots removed.", max_length=16)
    skipped: list[str] | None = Field(None, description="What was kept, and why.", max_length=32)
    errors: list[str] | None = Field(None, description="Deletes that failed.", max_length=32)
    started_at: str | None = Field(None, description="When it started.")
    finished_at: str | None = Field(None, description="When it finished.")
    message: str | None = Field(None, description="Summary.", max_length=4096)


class InFlightCall(CamelModel):
    """A create sent to the cloud whose answer may not have arrived (the operator may have died meanwhile)."""

    step: str = Field(description="The step that sent it, e.g. CREATE_SERVER.")
    until: str = Field(description="When its client timeout is over: a resuming operator waits until then, then looks.")
    holder: str = Field(description="The operator process that sent it.")


class RestoreJobStatus(StatusBase):
    """Observed state of a RestoreJob."""

    plan: RestorePlan | None = Field(None, description="The plan, computed while execute is false and at the start.")
    original: OriginalVm | None = Field(None, description="REPLACE: the VM as it was before it was deleted.")
    steps: list[Step] | None = Field(None, description="The steps and their states.", max_length=MAX_STATUS_LIST)
    created_resources: list[CreatedResource] | None = Field(
        None, description="Cloud objects this job created.", max_length=MAX_STATUS_LIST
    )
    result: RestoreResult | None = Field(None, description="The restored VM.")
    retry: RetryStatus | None = Field(None, description="The last retry request handled.")
    cleanup: CleanupStatus | None = Field(None, description="The last cleanup of a failed or canceled restore.")
    last_handled_cleanup_at: str | None = Field(
        None, description="The last spec.cleanup.requestedAt the operator handled (run or refused)."
    )
    cleanup_storage: CleanupStatus | None = Field(
        None, description="The last storage cleanup after a completed REPLACE."
    )
    in_flight: InFlightCall | None = Field(
        None,
        description=(
            "Set before a create (volume, port, server) is sent, cleared when it is answered. Nova, Cinder and "
            "Neutron accept duplicate names, so an operator that resumes the step waits until the call's client "
            "timeout is over before it looks for what the call made, instead of sending it again."
        ),
    )
