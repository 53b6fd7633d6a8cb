"""ProxmoxNode: one Kopf daemon per object polls Proxmox, keeps status, and runs power operations.

Each cycle takes the object as the watch delivered it (``polling.own_object``: a GET only while the watch
has not delivered the cycle's own last status write, so ``status.inFlight`` is never older than what this
process wrote before submitting a power operation). Its Secrets are checked from the in-memory Secret
index first: a missing or refused one backs off exponentially (``polling.BackOff``) without reading
anything, and the Secret's change wakes it. It then observes the endpoint through the backend (in a worker thread),
asks ``reconcile.proxmoxnode`` what to do, and writes status. Operations are written to
``status.inFlight`` before they are submitted and finished from their task UPID, so a restart
finishes each exactly once. Spec changes and the reconcile annotation wake the daemon at once.
Each successful observation also stores every guest with usage, and a sample of cluster totals, in the
``<node>-guests`` ConfigMaps (``reconcile.proxmoxguests``); a failed write is a condition and a retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
from daytwo.crds.proxmoxnode import GuestKind, InFlightOperation, NodeCertificate, ProxmoxNodeSpec, ProxmoxNodeStatus
from daytwo.crds.secrets import SecretBinding
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from ..backends.proxmox import Guest, GuestRef, ProxmoxBackend
from ..errors import BackendError, TLSVerificationFailed
from ..reconcile.conditions import ConditionUpdate
from ..reconcile.proxmoxguests import (
    GUESTS_LABEL,
    guest_configmaps,
    guests_configmap_name,
    history_sample,
    next_history,
)
from ..reconcile.proxmoxnode import (
    INVENTORY_FIELDS,
    OPERATION_FIELDS,
    GuestView,
    NodeReading,
    Observation,
    Outcome,
    after_finish,
    connection_conditions,
    expiring_condition,
    finished_record,
    observation_status,
    operations_to_submit,
    recover,
    summary_conditions,
    with_upid,
)
from ..reconcile.references import REFERENCE_REASONS, reference_error
from ..settings import OperatorSettings
from .cloudcredential.inventory_store import list_inventory, write_inventory
from .credentials import proxmox_connection
from .polling import BackOff, PassInputs, PollingPass, register_polling, write_status
from .references_index import own_secrets_check
from .secretwatch import unwatch_secrets, watch_secrets

__all__ = ["register"]

KIND = "ProxmoxNode"
#: Poll this often while power operations run.
_BUSY_POLL_SECONDS = 1.0
#: Retry this soon (at most) after the guest inventory ConfigMaps could not be written.
_STORE_RETRY_SECONDS = 10.0
#: Memo key: when (monotonic) the guest inventory ConfigMaps were last written.
_GUESTS_STORED_AT = "guests_stored_at"


def _view(guest: Guest) -> GuestView:
    return GuestView(
        guest.vmid,
        guest.name,
        guest.node,
        guest.type,
        guest.status,
        guest.uptime,
        template=guest.template,
        tags=guest.tags,
        cpus=guest.maxcpu,
        cpu=guest.cpu,
        mem=guest.mem,
        maxmem=guest.maxmem,
        disk=guest.disk,
        maxdisk=guest.maxdisk,
        netin=guest.netin,
        netout=guest.netout,
    )


def _observe(backend: ProxmoxBackend) -> Observation:
    version = backend.version()
    cluster = backend.cluster_status()
    nodes = [
        NodeReading(
            node.node, node.online, node.cpu, node.maxcpu, node.mem, node.maxmem, node.disk, node.maxdisk, node.uptime
        )
        for node in backend.nodes()
    ]
    guests = [_view(guest) for guest in backend.guests()]
    return Observation(
        f"{version.version}-{version.release}" if version.release else version.version,
        cluster.name,
        nodes,
        guests,
        _certificates(backend, [node.name for node in nodes if node.online]),
    )


def _certificates(backend: ProxmoxBackend, nodes: list[str]) -> list[NodeCertificate] | None:
    """Every online node's certificates; None when one could not be read (Sys.Audit missing, node busy)."""
    found = []
    try:
        for node in nodes:
            for cert in backend.node_certificates(node):
                found.append(
                    NodeCertificate(
                        node=cert.node,
                        filename=cert.filename,
                        subject=cert.subject,
                        issuer=cert.issuer,
                        not_before=datetime.fromtimestamp(cert.notbefore, UTC),
                        not_after=datetime.fromtimestamp(cert.notafter, UTC),
                        fingerprint=cert.fingerprint,
                    )
                )
    except BackendError as error:
        logging.getLogger(__name__).info("node certificates not read: %s", error.message)
        return None
    return found


def _submit(backend: ProxmoxBackend, entry: InFlightOperation) -> str:
    guest = GuestRef(entry.node, entry.vmid, "lxc" if entry.kind == GuestKind.LXC else "vm")
    operation = str(entry.operation)
    if operation == "start":
        return backend.start(guest)
    if operation == "stop":
        return backend.stop(guest)
    if operation == "reboot":
        return backend.reboot(guest)
    return backend.shutdown(guest, timeout=60, force_stop=entry.force)


def _phase(conditions: list[dict[str, Any]]) -> str:
    connected = any(c["type"] == "Connected" and c["status"] == "True" for c in conditions)
    return "Connected" if connected else "Disconnected"


class Cycle(PollingPass):
    """One pass over one ProxmoxNode: observe, run operations, write status (``self.memo``, the daemon's
    memo, lives across this object's passes)."""

    def __init__(self, inputs: PassInputs, secrets_problem: ConditionUpdate | None = None) -> None:
        super().__init__(inputs)
        self.secrets_problem = secrets_problem
        self.now = self.now.replace(microsecond=0)
        self.status = ProxmoxNodeStatus()
        self.written: dict[str, Any] = {}  # self.status as last written (what write_status diffs against)

    def write(self, updated: ProxmoxNodeStatus, *fields: str) -> None:
        """Patch those of ``fields`` (snake_case) that changed and keep ``self.status`` current."""
        write_status(self.client, KIND, self.namespace, self.name, self.written, updated.patch_of(*fields))
        self.status = updated

    def run(self, settings: OperatorSettings) -> float:
        """Do one pass; returns seconds until the next one."""
        obj = self.current_object(KIND)
        if obj is None:
            return settings.resync_seconds
        spec = ProxmoxNodeSpec.model_validate(obj["spec"])
        self.status = ProxmoxNodeStatus.model_validate(obj.get("status") or {})
        self.written = self.status.to_k8s()
        interval = float(spec.inventory_interval_seconds)
        insecure = spec.tls.insecure_skip_verify
        updates: list[ConditionUpdate]
        stored, broken = True, False
        observed = self.status  # the fields an inventory pass sets (INVENTORY_FIELDS, secretBinding)
        if spec.suspend:
            updates = [ConditionUpdate("Ready", False, "Suspended", "spec.suspend is true: nothing is polled or run")]
        else:
            watch_secrets(KIND, self.namespace, self.name, obj["spec"], self.memo)
            try:
                if self.secrets_problem is not None:  # known from the Secret index: nothing read or sent
                    raise reference_error(self.secrets_problem)
                backend, binding = proxmox_connection(self.namespace, obj)
                # the token is sent from here on
                observed = observed.model_copy(
                    update={"secret_binding": SecretBinding.model_validate(binding.to_status())}
                )
                observation = _observe(backend)
            except BackendError as error:
                broken = error.reason in REFERENCE_REASONS  # backs off; the Secret's change wakes it
                message = (
                    error.message
                    if not isinstance(error, TLSVerificationFailed)
                    else (f"{error.message}; check spec.tls.caSecretRef")
                )
                connected = connection_conditions(error.reason, message, insecure)
                inventory = ConditionUpdate("InventorySynced", False, connected[0].reason, "not connected")
                updates = [
                    *connected,
                    inventory,
                    *summary_conditions(connected[0], inventory, len(self.status.in_flight or [])),
                ]
            else:
                heartbeat = timedelta(seconds=settings.status_heartbeat_seconds)
                observed = observation_status(observation, self.now, observed, heartbeat)
                self.operate(backend, spec, observation)
                problem = None
                if self.guests_due(interval, busy=bool(self.status.in_flight)):
                    problem = self.store_guests(obj, observation, interval)
                stored = problem is None
                connected = connection_conditions(
                    None, f"Proxmox VE {observation.version} at {spec.host}:{spec.port}", insecure
                )
                inventory = (
                    ConditionUpdate(
                        "InventorySynced",
                        True,
                        "Synced",
                        f"{len(observation.guests)} guests on {len(observation.nodes)} nodes",
                    )
                    if problem is None
                    else ConditionUpdate("InventorySynced", False, "InventoryWriteFailed", problem)
                )
                updates = [
                    *connected,
                    inventory,
                    *summary_conditions(connected[0], inventory, len(self.status.in_flight or [])),
                ]
                expiring = expiring_condition(observation.certificates, self.now, settings.cert_expiry_warning_days)
                updates += [expiring] if expiring is not None else []
        fields = observed.patch_of(*INVENTORY_FIELDS, "secret_binding")
        self.finish_pass(obj, self.written, fields, updates, _phase)
        if broken:
            return BackOff()
        if self.status.in_flight:
            return _BUSY_POLL_SECONDS
        return interval if stored else min(interval, _STORE_RETRY_SECONDS)

    def guests_due(self, interval: float, busy: bool) -> bool:
        """Whether this pass writes the guest inventory: every pass, except while power operations are
        polled each second; then at most once per inventory interval (and again in the pass they finish)."""
        last = self.memo.get(_GUESTS_STORED_AT)
        return not busy or last is None or time.monotonic() - float(last) >= interval

    def store_guests(self, obj: dict[str, Any], observation: Observation, interval: float) -> str | None:
        """Write the guest inventory ConfigMaps (history carried over from the existing head); a message
        saying what failed, or None when they were written."""
        head_name = guests_configmap_name(self.name, 0)
        try:
            existing = list_inventory(self.namespace, self.name, GUESTS_LABEL)
            history = next_history(existing.get(head_name), history_sample(observation, self.now), interval)
            desired = guest_configmaps(obj, observation.guests, history, self.now)
            created, replaced, deleted = write_inventory(
                self.namespace, self.name, desired, label=GUESTS_LABEL, existing=existing
            )
        except (ApiException, HTTPError, OSError) as error:
            reason = f"{error.status} {error.reason}" if isinstance(error, ApiException) else type(error).__name__
            message = f"guest inventory not written to ConfigMap {self.namespace}/{head_name}: {reason}; retrying"
            self.logger.warning("%s", message)
            return message
        self.memo[_GUESTS_STORED_AT] = time.monotonic()
        self.logger.debug(
            "guest inventory: %d guests in %d ConfigMap(s) (%d created, %d replaced, %d deleted), %d history samples",
            len(observation.guests),
            len(desired),
            created,
            replaced,
            deleted,
            len(history["samples"]),
        )
        return None

    def operate(self, backend: ProxmoxBackend, spec: ProxmoxNodeSpec, observation: Observation) -> None:
        """Finish running operations, recover interrupted ones, submit new ones."""
        guests = {guest.vmid: guest for guest in observation.guests}
        action_ids = {action.id for action in spec.actions or []}
        for entry in list(self.status.in_flight or []):
            if entry.upid:
                task = backend.task_status(entry.node, entry.upid)
                if task.done:
                    outcome = Outcome("success") if task.succeeded else Outcome("error", task.exitstatus)
                    self.finish(entry, outcome, action_ids)
            elif recover(entry, guests.get(entry.vmid), self.now):
                self.finish(entry, Outcome("success", "completed before an operator restart"), action_ids)
            else:
                self.submit(backend, entry, action_ids)
        new = operations_to_submit(spec, self.status, observation.guests, self.now)
        if new:
            in_flight = [*(self.status.in_flight or []), *new]
            self.write(self.status.model_copy(update={"in_flight": in_flight}), "in_flight")
            for entry in new:
                self.submit(backend, entry, action_ids)

    def submit(self, backend: ProxmoxBackend, entry: InFlightOperation, action_ids: set[str]) -> None:
        """Submit a recorded operation and store its UPID; a refused one is finished as an error."""
        if not entry.node:
            self.finish(entry, Outcome("error", f"guest {entry.vmid} does not exist"), action_ids)
            return
        try:
            upid = _submit(backend, entry)
        except BackendError as error:
            self.finish(entry, Outcome("error", f"{error.reason}: {error.message}"), action_ids)
            return
        self.write(with_upid(self.status, entry.id, upid), "in_flight")
        self.logger.info("submitted %s of guest %s (%s)", entry.operation, entry.vmid, upid)

    def finish(self, entry: InFlightOperation, outcome: Outcome, action_ids: set[str]) -> None:
        """Move an operation from inFlight to history (and handledActions); Warning Event on failure."""
        current = next((other for other in self.status.in_flight or [] if other.id == entry.id), entry)
        record = finished_record(current, outcome, self.now)
        self.write(after_finish(self.status, current, record, action_ids), *OPERATION_FIELDS)
        if outcome.status == "error":
            kopf.event(
                self.body,
                type="Warning",
                reason="PowerOperationFailed",
                message=f"{entry.operation} of guest {entry.vmid}: {outcome.error}",
            )
        else:
            self.logger.info("%s of guest %s finished", entry.operation, entry.vmid)


def register(settings: OperatorSettings) -> None:
    """Register the ProxmoxNode daemon and the handler that wakes it on changes."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        inputs = PassInputs.of(kwargs)
        cycle = Cycle(inputs, own_secrets_check(KIND, inputs.namespace, inputs.spec, kwargs))
        return lambda: cycle.run(settings)

    def forget(kwargs: dict[str, Any]) -> None:
        unwatch_secrets(KIND, str(kwargs["namespace"]), str(kwargs["name"]))

    register_polling(KIND, "proxmoxnodes", "sync", settings, make_pass, on_stop=forget)
