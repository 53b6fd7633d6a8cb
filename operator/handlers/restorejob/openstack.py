"""The steps of an OpenStack boot-from-volume restore, each safe to run again after a crash.

Every create looks for what this job made first (the volume, ports and server carry
``daytwo.io/owner`` and ``daytwo.io/job-uid`` as Cinder/Nova metadata and Neutron tags, and
deterministic names), so a step recorded Running whose result was never recorded finds its object
instead of making a second one. Deletes check the object first, so they are idempotent. A step
returns None when it is done, or the seconds until it should be looked at again.

Nova, Cinder and Neutron accept duplicate names, and a create whose answer was lost may land after a
restarted operator looked: so each create is recorded in ``status.inFlight`` (until its client
timeout is over, and by which process) before it is sent. A process that resumes the step waits until
then before it looks; if duplicates exist anyway, the step keeps one (the recorded one, else the
oldest) and deletes the others it owns.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.base import StepState
from daytwo.crds.restorejob_status import (
    CreatedResource,
    InFlightCall,
    OriginalPort,
    OriginalVm,
    PlannedNetwork,
    RestoreResult,
)

from ...backends.openstack import AddressInUse, OpenStackConnectionParams, Port, RestoreBackend, Server, ServerSpec
from ...errors import NotFound
from ...reconcile.restorejob.openstack import adopt, in_flight_wait, plan_openstack
from ...reconcile.restorejob.plan import Plan, Request
from ...reconcile.restorejob.steps import (
    CLEANUP_OLD_PORTS,
    CREATE_PORTS,
    CREATE_SERVER,
    CREATE_VOLUME,
    DELETE_VM,
    FINALIZE,
    RECORD_ORIGINAL,
    VALIDATE,
    VERIFY_IPS,
    WAIT_SERVER,
    WAIT_VM_DELETED,
    WAIT_VOLUME,
)
from ...shared.times import format_time
from .context import JobContext, StepFailed
from .engine import StepEngine, StepFn
from .observe import JOB_UID_KEY, OWNER_KEY, observe, scoped_backend

__all__ = ["OpenStackEngine"]

_GONE = ("deleting", "error_deleting")
_MAX_META = 255
#: This operator process, as ``status.inFlight.holder`` names it.
HOLDER = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
#: Seconds past the client timeout a create may still be sent (the client repeats a create only after a
#: 429/503 answer, after a few seconds of backoff).
CREATE_MARGIN_SECONDS = 10.0


def _ips(port: Port) -> list[str]:
    return [f.ip_address for f in port.fixed_ips if f.ip_address]


def _satisfies(strategy: str, wanted: Sequence[str], have: Sequence[str]) -> bool:
    """Whether an existing port of ours still fits the IP strategy (a retry may have switched it)."""
    return strategy not in ("SAME_IPS_OR_FAIL", "MANUAL_IP") or set(wanted) <= set(have)


class OpenStackEngine(StepEngine):
    """Plan and steps of one OpenStack RestoreJob; ``admin`` reads as the credential, creates are
    made through a backend scoped to the VM's project."""

    def __init__(self, ctx: JobContext, admin: RestoreBackend, params: OpenStackConnectionParams) -> None:
        self.ctx, self.admin, self.params = ctx, admin, params

    def step_table(self) -> Mapping[str, StepFn]:
        """REPLACE records, deletes and clears the VM first; both modes then rebuild it from the restore point."""
        return {
            VALIDATE: self.validate,
            RECORD_ORIGINAL: self.record_original,
            DELETE_VM: self.delete_vm,
            WAIT_VM_DELETED: self.wait_vm_deleted,
            CLEANUP_OLD_PORTS: self.cleanup_old_ports,
            CREATE_VOLUME: self.create_volume,
            WAIT_VOLUME: self.wait_volume,
            CREATE_PORTS: self.create_ports,
            CREATE_SERVER: self.create_server,
            WAIT_SERVER: self.wait_server,
            VERIFY_IPS: self.verify_ips,
            FINALIZE: self.finalize,
        }

    # names and marks ------------------------------------------------------------------------------
    @property
    def project_id(self) -> str:
        """The VM's project (where everything is created)."""
        return str(self.ctx.plan.project_id)

    def scoped(self) -> RestoreBackend:
        """The backend whose creates land in the VM's project."""
        return scoped_backend(self.params, self.project_id)

    def volume_name(self) -> str:
        """The restored boot volume's name."""
        return f"{self.ctx.plan.new_vm_name}-boot-{self.ctx.uid[:8]}"

    def port_name(self, index: int) -> str:
        """The name of the port on the plan's ``index``-th network."""
        return f"{self.ctx.plan.new_vm_name}-port{index}-{self.ctx.uid[:8]}"

    def metadata(self) -> dict[str, str]:
        """Owner marks for Cinder and Nova metadata."""
        return {OWNER_KEY: self.ctx.owner[:_MAX_META], JOB_UID_KEY: self.ctx.uid}

    def tags(self) -> list[str]:
        """Owner marks as Neutron tags."""
        return [f"{OWNER_KEY}={self.ctx.owner}"[:_MAX_META], f"{JOB_UID_KEY}={self.ctx.uid}"]

    def ours(self, metadata: Any) -> bool:
        """Whether a volume or server carries this job's uid."""
        return bool(metadata.get(JOB_UID_KEY) == self.ctx.uid)

    def our_servers(self) -> list[Server]:
        """Servers this job booted (by name and uid)."""
        found = self.admin.find_servers(str(self.ctx.plan.new_vm_name), project_id=self.project_id)
        return [s for s in found if self.ours(s.metadata)]

    def our_ports(self) -> list[Port]:
        """Ports this job created (by uid tag)."""
        return self.admin.list_tagged_ports([f"{JOB_UID_KEY}={self.ctx.uid}"], project_id=self.project_id)

    def live_id(self, type_: str) -> str:
        """The id of the live created resource of a type (volume, server)."""
        found = self.ctx.resources(type_)
        if not found:
            raise StepFailed("ResourceMissing", f"no {type_} of this restore is recorded; retry to create it")
        return found[-1].id

    def in_flight(self, step: str) -> float:
        """Seconds to wait while a create of ``step`` sent by another operator process may still land."""
        return in_flight_wait(self.ctx.in_flight, step, HOLDER, datetime.now(UTC))

    def sending(self, step: str) -> None:
        """Record a create of ``step`` as in flight, until its client timeout is over, before it is sent."""
        until = datetime.now(UTC) + timedelta(seconds=self.params.timeout_seconds + CREATE_MARGIN_SECONDS + 1)
        self.ctx.write(in_flight=InFlightCall(step=step, until=format_time(until), holder=HOLDER))

    def answered(self) -> None:
        """The create was answered: nothing of this job is in flight."""
        self.ctx.write(in_flight=None)

    def recorded_ids(self, type_: str) -> list[str]:
        """Ids of the live resources of a type recorded in status."""
        return [r.id for r in self.ctx.resources(type_)]

    # plan -------------------------------------------------------------------------------------------
    def plan(self, request: Request) -> Plan:
        """Observe the cloud and plan."""
        observed = observe(self.admin, self.params, request, self.ctx.uid)
        return plan_openstack(request, observed, dry_run=self.ctx.dry_run)

    def validated(self, plan: Plan) -> str:
        """The plan's summary and whether quota allows it."""
        quota = "quota ok" if plan.to_status().quota_ok else "quota unknown"
        return f"{plan.summary}; {quota}"

    # steps -----------------------------------------------------------------------------------------
    def record_original(self, index: int, request: Request) -> float | None:
        """REPLACE: remember the VM's ports and addresses (and volumes) before it is deleted."""
        if self.ctx.original is not None:
            self.ctx.succeed(index, "recorded before")
            return None
        self.ctx.begin(index)
        plan = self.ctx.plan
        try:
            server = self.admin.get_server(str(plan.vm_id))
        except NotFound as error:
            raise StepFailed("VmNotFound", f"server {plan.vm_id} disappeared before it was recorded") from error
        ports = [
            OriginalPort(port_id=p.id, network_id=p.network_id, ips=_ips(p), mac_address=p.mac_address)
            for p in self.admin.list_ports(device_id=server.id)
        ]
        original = OriginalVm(
            vm_id=server.id,
            vm_name=server.name,
            boot_volume_id=plan.boot_volume_id,
            data_volume_ids=[v for v in server.volume_ids if v != plan.boot_volume_id] or None,
            ports=ports or None,
            recorded_at=format_time(datetime.now(UTC)),
        )
        self.ctx.write(original=original)
        self.ctx.succeed(index, f"{len(ports)} port(s): " + ", ".join(f"{p.port_id} {p.ips}" for p in ports))
        return None

    def delete_vm(self, index: int, request: Request) -> float | None:
        """REPLACE: delete the VM (a VM already gone or being deleted needs no call)."""
        vm_id = str(self.ctx.plan.vm_id)
        try:
            server = self.admin.get_server(vm_id)
        except NotFound:
            self.ctx.succeed(index, f"server {vm_id} is gone")
            return None
        if server.task_state == "deleting":
            self.ctx.succeed(index, f"server {vm_id} is being deleted")
            return None
        self.ctx.begin(index, {"serverId": vm_id})
        self.admin.delete_server(vm_id)
        self.ctx.succeed(index, f"delete of server {server.name} ({vm_id}) submitted")
        return None

    def wait_vm_deleted(self, index: int, request: Request) -> float | None:
        """REPLACE: wait until Nova has removed the VM (and released its ports and volumes)."""
        vm_id = str(self.ctx.plan.vm_id)
        if self.ctx.steps()[index].state == StepState.PENDING:
            self.ctx.begin(index, {"serverId": vm_id})
        try:
            server = self.admin.get_server(vm_id)
        except NotFound:
            self.ctx.succeed(index, f"server {vm_id} is gone")
            return None
        if server.status == "ERROR" and server.task_state is None:
            raise StepFailed("DeleteFailed", f"deleting server {vm_id} failed: {server.fault or 'status ERROR'}")
        if self.ctx.waited_too_long(index):
            raise StepFailed("Timeout", f"server {vm_id} is still {server.status} ({server.task_state})")
        return self.poll

    def cleanup_old_ports(self, index: int, request: Request) -> float | None:
        """REPLACE: delete the old VM's ports that are left detached, so their addresses are free."""
        self.ctx.begin(index)
        original = self.ctx.original
        deleted, kept = [], []
        for port in (original.ports if original else None) or []:
            try:
                live = self.admin.get_port(port.port_id)
            except NotFound:
                continue
            if live.device_id and original and live.device_id != original.vm_id:
                kept.append(f"{live.id} (in use by {live.device_id})")
                continue
            self.admin.delete_port(live.id)
            deleted.append(live.id)
        message = f"deleted {', '.join(deleted) or 'none (already gone)'}"
        self.ctx.succeed(index, message + (f"; kept {', '.join(kept)}" if kept else ""))
        return None

    def create_volume(self, index: int, request: Request) -> float | None:
        """A volume from the restore point, unless this job made one already (one kept, extras deleted)."""
        wait = self.in_flight(CREATE_VOLUME)
        if wait:
            return wait
        name = self.volume_name()
        mine = [v for v in self.admin.find_volumes(name, project_id=self.project_id) if self.ours(v.metadata)]
        usable = [v for v in mine if v.status not in ("error", *_GONE)]
        if usable:
            volume, extras = adopt(usable, self.recorded_ids("volume"))
            for extra in extras:
                if extra.status != "creating":  # Cinder deletes it once it left creating: a later pass
                    self.admin.delete_volume(extra.id)
                    self.ctx.forget("volume", extra.id)
            if any(e.status == "creating" for e in extras):
                return self.poll
            self.answered()
            self.ctx.record(CreatedResource(type="volume", id=volume.id, name=name, step=CREATE_VOLUME))
            self.ctx.succeed(
                index, f"volume {volume.id} exists ({volume.status})", external_ids={"volumeId": volume.id}
            )
            return None
        if any(v.status in _GONE for v in mine):
            return self.poll
        for broken in mine:  # an earlier attempt ended in error: remove it, then make a new one
            self.admin.delete_volume(broken.id)
            self.ctx.forget("volume", broken.id)
        if mine:
            return self.poll
        plan = self.ctx.plan
        self.ctx.begin(index)
        self.sending(CREATE_VOLUME)
        volume = self.scoped().create_volume(
            name=name,
            size_gb=int(plan.restore_point_size_gb or 0),
            snapshot_id=str(plan.restore_point_id),
            metadata=self.metadata(),
        )
        self.ctx.record(CreatedResource(type="volume", id=volume.id, name=name, step=CREATE_VOLUME))
        self.answered()
        self.ctx.succeed(
            index, f"volume {volume.id} from snapshot {plan.restore_point_id}", external_ids={"volumeId": volume.id}
        )
        return None

    def wait_volume(self, index: int, request: Request) -> float | None:
        """Wait until the new volume is available."""
        volume_id = self.live_id("volume")
        if self.ctx.steps()[index].state == StepState.PENDING:
            self.ctx.begin(index, {"volumeId": volume_id})
        try:
            volume = self.admin.get_volume(volume_id)
        except NotFound as error:
            raise StepFailed("VolumeGone", f"volume {volume_id} disappeared") from error
        if volume.status == "available":
            self.ctx.succeed(index, f"volume {volume_id} is available")
            return None
        if volume.status.startswith("error"):
            raise StepFailed("VolumeError", f"volume {volume_id} went to {volume.status}")
        if self.ctx.waited_too_long(index):
            raise StepFailed("Timeout", f"volume {volume_id} is still {volume.status}")
        return self.poll

    def create_ports(self, index: int, request: Request) -> float | None:
        """One port per network with the addresses the IP strategy asks for (TRY_SAME_IPS falls back)."""
        wait = self.in_flight(CREATE_PORTS)
        if wait:
            return wait
        networks = self.ctx.plan.networks or []
        existing = self.our_ports()
        began, made = False, []
        for number, network in enumerate(networks):
            name, wanted = self.port_name(number), list(network.planned_ips or [])
            mine = [p for p in existing if p.name == name and p.network_id == network.network_id]
            fitting = [p for p in mine if _satisfies(request.ip_strategy, wanted, _ips(p))]
            good = adopt(fitting, self.recorded_ids("port"))[0] if fitting else None
            for extra in fitting:  # Neutron accepts duplicate names: a port made twice is deleted unused
                if good is not None and extra.id != good.id and not extra.device_id:
                    self.admin.delete_port(extra.id)
                    self.ctx.forget("port", extra.id)
            if good is None:
                if not began:
                    self.ctx.begin(index)
                    began = True
                for stale in mine:  # made under another strategy (a retry switched it), never used
                    if not stale.device_id:
                        self.admin.delete_port(stale.id)
                        self.ctx.forget("port", stale.id)
                good = self._new_port(request, network, name, wanted)
            self.ctx.record(
                CreatedResource(
                    type="port", id=good.id, name=name, step=CREATE_PORTS, network_id=good.network_id, ips=_ips(good)
                )
            )
            made.append(f"{good.id} {_ips(good)}")
        self.ctx.succeed(index, f"port(s) {', '.join(made) or 'none'}")
        return None

    def _new_port(self, request: Request, network: PlannedNetwork, name: str, wanted: list[str]) -> Port:
        create = self.scoped().create_tagged_port
        args: dict[str, Any] = {
            "name": name,
            "security_group_ids": network.security_group_ids,
            "project_id": self.project_id,
            "tags": self.tags(),
            "description": f"restored by {self.ctx.owner}"[:255],
        }
        self.sending(CREATE_PORTS)
        try:
            made = create(network.network_id, fixed_ips=[(None, ip) for ip in wanted], **args)
        except AddressInUse as error:
            if request.ip_strategy != "TRY_SAME_IPS":
                self.answered()
                raise StepFailed("IpUnavailable", f"{request.ip_strategy}: {error.message}") from error
            made = create(network.network_id, **args)
        self.answered()
        return made

    def create_server(self, index: int, request: Request) -> float | None:
        """Boot from the new volume with the new ports, unless this job booted one already (one kept, the
        others this job booted deleted)."""
        wait = self.in_flight(CREATE_SERVER)
        if wait:
            return wait
        mine = self.our_servers()
        healthy = [s for s in mine if s.status != "ERROR" and s.task_state != "deleting"]
        if healthy:
            server, _ = adopt(healthy, self.recorded_ids("server"))
            for extra in mine:
                if extra.id != server.id and extra.task_state != "deleting":
                    self.admin.delete_server(extra.id)
                if extra.id != server.id:
                    self.ctx.forget("server", extra.id)
            self.answered()
            self.ctx.record(CreatedResource(type="server", id=server.id, name=server.name, step=CREATE_SERVER))
            self.ctx.succeed(
                index, f"server {server.id} exists ({server.status})", external_ids={"serverId": server.id}
            )
            return None
        if mine:  # an earlier boot failed: delete it (its ports and volume come free), then boot again
            for broken in mine:
                if broken.task_state != "deleting":
                    self.admin.delete_server(broken.id)
                self.ctx.forget("server", broken.id)
            return self.poll
        plan = self.ctx.plan
        ports = self._ports_in_order(plan.networks or [])
        zone = plan.availability_zone
        spec = ServerSpec(
            name=str(plan.new_vm_name),
            flavor_id=str(plan.flavor_id),
            boot_volume_id=self.live_id("volume"),
            port_ids=tuple(ports),
            availability_zone=zone if zone and zone != "nova" else None,
            metadata={**(plan.vm_metadata or {}), **self.metadata()},
        )
        self.ctx.begin(index)
        self.sending(CREATE_SERVER)
        server = self.scoped().create_server(spec)
        self.ctx.record(CreatedResource(type="server", id=server.id, name=server.name, step=CREATE_SERVER))
        self.answered()
        self.ctx.succeed(index, f"server {server.id} booting", external_ids={"serverId": server.id})
        return None

    def _ports_in_order(self, networks: list[PlannedNetwork]) -> list[str]:
        live = {r.name: r.id for r in self.ctx.resources("port")}
        missing = [self.port_name(i) for i in range(len(networks)) if self.port_name(i) not in live]
        if missing:
            raise StepFailed("ResourceMissing", f"port(s) {', '.join(missing)} are gone; retry to create them again")
        return [live[self.port_name(i)] for i in range(len(networks))]

    def wait_server(self, index: int, request: Request) -> float | None:
        """Wait until the new server is ACTIVE."""
        server_id = self.live_id("server")
        if self.ctx.steps()[index].state == StepState.PENDING:
            self.ctx.begin(index, {"serverId": server_id})
        try:
            server = self.admin.get_server(server_id)
        except NotFound as error:
            raise StepFailed("ServerGone", f"server {server_id} disappeared") from error
        if server.status == "ACTIVE":
            self.ctx.succeed(index, f"server {server_id} is ACTIVE on {server.host or 'its host'}")
            return None
        if server.status == "ERROR":
            raise StepFailed("ServerError", f"server {server_id} went to ERROR: {server.fault or 'no fault given'}")
        if self.ctx.waited_too_long(index):
            raise StepFailed("Timeout", f"server {server_id} is still {server.status}")
        return self.poll

    def verify_ips(self, index: int, request: Request) -> float | None:
        """Check the new VM's addresses against what the strategy asked for; record the result."""
        self.ctx.begin(index)
        server_id = self.live_id("server")
        bound = {p.network_id: _ips(p) for p in self.admin.list_ports(device_id=server_id)}
        fell_back, missing = [], []
        for network in self.ctx.plan.networks or []:
            wanted, have = network.planned_ips or [], bound.get(network.network_id, [])
            lost = [ip for ip in wanted if ip not in have]
            label = network.network_name or network.network_id
            if lost and request.ip_strategy == "TRY_SAME_IPS":
                fell_back.append(label)
            elif lost:
                missing.append(f"{label}: {', '.join(lost)}")
            if not have:
                missing.append(f"{label}: no address bound")
        if missing:
            raise StepFailed("IpMismatch", f"server {server_id} lacks {'; '.join(missing)}")
        ips = [ip for values in bound.values() for ip in values]
        result = RestoreResult(
            vm_id=server_id,
            vm_name=self.ctx.plan.new_vm_name,
            volume_id=self.live_id("volume"),
            ips=ips[:32],
            fell_back=fell_back or None,
        )
        self.ctx.write(result=result)
        note = f"; new address on {', '.join(fell_back)} (TRY_SAME_IPS)" if fell_back else ""
        self.ctx.succeed(index, f"addresses {', '.join(ips) or 'none'}{note}")
        return None

    def finalize(self, index: int, request: Request) -> float | None:
        """Record the result and say so."""
        result = self.ctx.status.result or RestoreResult()
        plan = self.ctx.plan
        verb = "replaced" if request.mode == "REPLACE" else "restored"
        message = (
            f"{verb} {plan.vm_name} as {result.vm_name} ({result.vm_id}) from "
            f"{plan.restore_point_name or plan.restore_point_id}"
        )
        self.ctx.write(result=result.model_copy(update={"message": message}))
        self.ctx.succeed(index, message)
        self.ctx.event("Normal", "Restored", message)
        return None
