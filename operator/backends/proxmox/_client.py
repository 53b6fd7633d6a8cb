"""ProxmoxerBackend: the ProxmoxBackend protocol over proxmoxer's HTTPS backend with an API token."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Unpack

import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import AuthenticationError, ResourceException
from requests.adapters import HTTPAdapter

from ...errors import BackendError, InvalidRequest, Timeout
from ...stopping import pause
from ..runtime import (
    ClientCache,
    ClientFactory,
    RetryPolicy,
    call_with_retries,
    endpoint_slot,
    remove_ca_file,
    write_ca_file,
)
from ._errors import map_exception
from ._models import (
    CloneOptions,
    ClusterStatus,
    Guest,
    GuestCounts,
    GuestRef,
    NodeCertificate,
    NodeStatus,
    NodeSummary,
    Snapshot,
    TaskStatus,
    VersionInfo,
)
from ._params import ProxmoxConnectionParams

__all__ = ["ProxmoxClientFactory", "ProxmoxerBackend"]

log = logging.getLogger(__name__)

# Node, snapshot and storage names go into URL paths: nothing that could change the path.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
#: Proxmox reads are retried quickly and briefly: an API node answers in milliseconds or is down.
PROXMOX_RETRY_POLICY = RetryPolicy(retries=2, backoff_seconds=0.2, max_backoff_seconds=2.0)


def _segment(kind: str, value: str) -> str:
    if not _SEGMENT.match(value):
        raise InvalidRequest(f"{kind} {value!r} is not a valid Proxmox name (letters, digits, '.', '_', '-')")
    return value


def _flag(value: bool) -> int:
    return 1 if value else 0


def _not_sent(exc: BaseException) -> bool:
    """True when the request never reached the server (refused, DNS, connect timeout): safe to resend."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    text = repr(exc)
    return "NewConnectionError" in text or "NameResolutionError" in text


class _Failed:
    """An attempt's typed error, carried out of the ``except`` block that built it."""

    def __init__(self, error: BackendError) -> None:
        self.error = error


class ProxmoxerBackend:
    """One endpoint + token. Thread-safe; every HTTP attempt holds the endpoint's concurrency slot.

    Reads (GET) are retried on retryable errors by the shared :class:`RetryPolicy` (``policy.retries`` times);
    writes only when the request provably never left (connection refused, DNS, connect timeout),
    so a power operation is never sent twice.
    """

    def __init__(
        self,
        params: ProxmoxConnectionParams,
        *,
        limiter: threading.BoundedSemaphore,
        policy: RetryPolicy = PROXMOX_RETRY_POLICY,
        pool_size: int = 10,
    ) -> None:
        self._params = params
        self._limiter = limiter
        self._policy = policy
        self._count_lock = threading.Lock()
        self._calls = 0
        self._ca_file: str | None = None
        verify: bool | str = params.verify_tls
        if params.verify_tls and params.ca_bundle_pem:
            # Removed by close(), or when the client is garbage collected after the cache dropped it.
            verify = self._ca_file = write_ca_file(self, params.ca_bundle_pem)
        self._api = ProxmoxAPI(
            params.host,
            port=params.port,
            user=params.token_user,
            token_name=params.token_name,
            token_value=params.token_secret,
            verify_ssl=verify,
            timeout=params.timeout_seconds,
            service="PVE",
        )
        # proxmoxer keeps its requests.Session here; size its pool to the concurrency limit, retry ourselves.
        session: requests.Session = self._api._store["session"]
        session.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0))
        self._session = session

    def __repr__(self) -> str:
        return f"ProxmoxerBackend(endpoint={self.endpoint!r}, token_id={self._params.token_id!r})"

    @property
    def endpoint(self) -> str:
        """host:port of the API."""
        return self._params.endpoint

    @property
    def params(self) -> ProxmoxConnectionParams:
        """The connection parameters this client was built from."""
        return self._params

    @property
    def limiter(self) -> threading.BoundedSemaphore:
        """The concurrency slots of this client's endpoint (shared by every client of host:port)."""
        return self._limiter

    @property
    def ca_file(self) -> str | None:
        """Path of the CA bundle written for requests, or None (system trust store / no verification)."""
        return self._ca_file

    @property
    def calls_made(self) -> int:
        """HTTP attempts made so far (retries included)."""
        return self._calls

    def close(self) -> None:
        """Close pooled connections and remove the CA bundle file; the client is unusable afterwards."""
        self._session.close()
        if self._ca_file:
            remove_ca_file(self._ca_file)
            self._ca_file = None

    # ------------------------------------------------------------------ plumbing

    def _attempt(self, what: str, method: str, path: str, args: Mapping[str, Any]) -> tuple[Any, bool]:
        """One HTTP attempt: (data, True) or (error, resendable). The error is built here but raised by the
        caller, outside any except block, so it carries no requests object (whose headers hold the token)."""
        with endpoint_slot(self._limiter, self._policy.queue_timeout_seconds, what, self.endpoint):
            with self._count_lock:
                self._calls += 1
            try:
                resource = self._api(path)
                data = dict(args)
                if method == "GET":
                    return resource.get(**data), True
                if method == "POST":
                    return resource.post(**data), True
                return resource.delete(**data), True
            except (ResourceException, AuthenticationError, requests.exceptions.RequestException, OSError) as exc:
                error = map_exception(exc, what=what, endpoint=self.endpoint, secret=self._params.token_secret)
                resend = _not_sent(exc)
        return _Failed(error), resend

    def _request(self, what: str, method: str, path: str, args: Mapping[str, Any] | None = None) -> Any:
        args = {k: v for k, v in (args or {}).items() if v is not None}
        resendable = False

        def attempt() -> Any:
            nonlocal resendable
            resendable = False  # a slot timeout never sent anything, but a write waits for a slot only once
            data, resendable = self._attempt(what, method, path, args)
            if isinstance(data, _Failed):
                raise data.error
            return data

        def retry_if(_: BackendError) -> bool:
            return method == "GET" or resendable

        return call_with_retries(f"proxmox {what}", self.endpoint, attempt, self._policy, retry_if=retry_if)

    def _guest_path(self, guest: GuestRef, *rest: str) -> str:
        node = _segment("node", guest.node)
        return "/".join(("nodes", node, guest.api_kind, str(int(guest.vmid)), *rest))

    def _upid(self, what: str, path: str, args: Mapping[str, Any] | None = None) -> str:
        return str(self._request(what, "POST", path, args))

    # ------------------------------------------------------------------ reads

    def version(self) -> VersionInfo:
        """GET /version."""
        return VersionInfo.from_api(self._request("read version", "GET", "version"))

    def cluster_status(self) -> ClusterStatus:
        """GET /cluster/status: name, quorum, nodes online."""
        return ClusterStatus.from_api(self._request("read cluster status", "GET", "cluster/status"))

    def nodes(self) -> list[NodeSummary]:
        """GET /nodes: every node with online state and usage."""
        items = self._request("list nodes", "GET", "nodes")
        return sorted((NodeSummary.from_api(item) for item in items), key=lambda n: n.node)

    def node_status(self, node: str) -> NodeStatus:
        """GET /nodes/{node}/status."""
        path = f"nodes/{_segment('node', node)}/status"
        return NodeStatus.from_api(node, self._request(f"read status of node {node}", "GET", path))

    def node_certificates(self, node: str) -> list[NodeCertificate]:
        """GET /nodes/{node}/certificates/info: the node's certificates (Sys.Audit)."""
        path = f"nodes/{_segment('node', node)}/certificates/info"
        items = self._request(f"read certificates of node {node}", "GET", path)
        return [NodeCertificate.from_api(node, item) for item in items or []]

    def guests(self, node: str | None = None) -> list[Guest]:
        """Every VM and container: cluster-wide from /cluster/resources, or one node's qemu + lxc lists."""
        if node is None:
            items = self._request("list guests", "GET", "cluster/resources", {"type": "vm"})
            found = [Guest.from_api(i) for i in items if i.get("type") in ("qemu", "lxc")]
        else:
            base = f"nodes/{_segment('node', node)}"
            vms = self._request(f"list VMs of node {node}", "GET", f"{base}/qemu")
            cts = self._request(f"list containers of node {node}", "GET", f"{base}/lxc")
            found = [Guest.from_api(i, node=node, type_="vm") for i in vms]
            found += [Guest.from_api(i, node=node, type_="lxc") for i in cts]
        return sorted(found, key=lambda g: (g.vmid, g.node))

    def guest_counts(self, guests: Sequence[Guest] | None = None) -> GuestCounts:
        """Counts by type and state, of the given guests or a fresh inventory."""
        return GuestCounts.of(self.guests() if guests is None else guests)

    def next_vmid(self) -> int:
        """GET /cluster/nextid: a free vmid for a clone."""
        return int(self._request("get next free vmid", "GET", "cluster/nextid"))

    # ------------------------------------------------------------------ power

    def start(self, guest: GuestRef) -> str:
        """Power on; returns the task UPID."""
        return self._upid(f"start {guest.type} {guest.vmid}", self._guest_path(guest, "status", "start"))

    def shutdown(self, guest: GuestRef, *, timeout: int | None = None, force_stop: bool = False) -> str:
        """Graceful (ACPI / init) shutdown; with force_stop PVE stops the guest hard after the timeout."""
        args = {"timeout": timeout, "forceStop": 1 if force_stop else None}
        path = self._guest_path(guest, "status", "shutdown")
        return self._upid(f"shut down {guest.type} {guest.vmid}", path, args)

    def stop(self, guest: GuestRef) -> str:
        """Hard power-off; returns the task UPID."""
        return self._upid(f"stop {guest.type} {guest.vmid}", self._guest_path(guest, "status", "stop"))

    def reboot(self, guest: GuestRef, *, timeout: int | None = None) -> str:
        """Graceful reboot; returns the task UPID."""
        return self._upid(
            f"reboot {guest.type} {guest.vmid}", self._guest_path(guest, "status", "reboot"), {"timeout": timeout}
        )

    # ------------------------------------------------------------------ tasks

    def task_status(self, node: str, upid: str) -> TaskStatus:
        """Non-blocking: running, or stopped with its exit status."""
        if not upid.startswith("UPID:") or "/" in upid:
            raise InvalidRequest(f"{upid!r} is not a Proxmox task id (UPID:...)")
        path = f"nodes/{_segment('node', node)}/tasks/{upid}/status"
        return TaskStatus.from_api(node, upid, self._request("read task status", "GET", path))

    def wait_task(self, node: str, upid: str, *, timeout: float, poll_interval: float = 0.5) -> TaskStatus:
        """Poll until the task stops; raises TaskFailed on an error exit, Timeout at the deadline.

        For tests, benchmarks and tools: handlers record the UPID and poll task_status instead.
        """
        deadline = time.monotonic() + timeout
        while True:
            status = self.task_status(node, upid)
            if status.done:
                status.raise_for_exitstatus()
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout(f"Proxmox task {upid} on node {node} still running after {timeout:g}s")
            pause(min(poll_interval, remaining))

    # ------------------------------------------------------------------ snapshots and clones

    def list_snapshots(self, guest: GuestRef) -> list[Snapshot]:
        """The guest's snapshots, oldest first, without PVE's 'current' entry."""
        items = self._request(
            f"list snapshots of {guest.type} {guest.vmid}", "GET", self._guest_path(guest, "snapshot")
        )
        snaps = [Snapshot.from_api(i) for i in items if i.get("name") != "current"]
        return sorted(snaps, key=lambda s: (s.snaptime, s.name))

    def create_snapshot(
        self, guest: GuestRef, name: str, *, description: str = "", include_memory: bool = False
    ) -> str:
        """Take a snapshot (include_memory saves RAM state, qemu only); returns the task UPID."""
        if include_memory and guest.type != "vm":
            raise InvalidRequest("include memory (vmstate) is only possible for VMs, not containers")
        args: dict[str, Any] = {"snapname": _segment("snapshot", name), "description": description or None}
        if include_memory:
            args["vmstate"] = 1
        return self._upid(f"snapshot {guest.type} {guest.vmid}", self._guest_path(guest, "snapshot"), args)

    def delete_snapshot(self, guest: GuestRef, name: str, *, force: bool = False) -> str:
        """Remove a snapshot; returns the task UPID."""
        path = self._guest_path(guest, "snapshot", _segment("snapshot", name))
        args = {"force": 1} if force else None
        what = f"delete snapshot {name} of {guest.type} {guest.vmid}"
        return str(self._request(what, "DELETE", path, args))

    def rollback_snapshot(self, guest: GuestRef, name: str, *, start: bool = False) -> str:
        """Roll the guest back to a snapshot in place; returns the task UPID."""
        path = self._guest_path(guest, "snapshot", _segment("snapshot", name), "rollback")
        args = {"start": 1 if start else None}
        return self._upid(f"roll back {guest.type} {guest.vmid} to {name}", path, args)

    def clone(self, guest: GuestRef, newid: int, **options: Unpack[CloneOptions]) -> str:
        """Clone a guest (optionally from a snapshot) to vmid newid; returns the task UPID."""
        snapshot, target_node = options.get("snapshot"), options.get("target_node")
        args: dict[str, Any] = {
            "newid": int(newid),
            "hostname" if guest.type == "lxc" else "name": options.get("name"),
            "snapname": _segment("snapshot", snapshot) if snapshot else None,
            "full": _flag(options.get("full", True)),
            "target": _segment("node", target_node) if target_node else None,
            "description": options.get("description"),
        }
        path = self._guest_path(guest, "clone")
        return self._upid(f"clone {guest.type} {guest.vmid} to {newid}", path, args)


class ProxmoxClientFactory(ClientFactory[ProxmoxConnectionParams, ProxmoxerBackend]):
    """Cached ProxmoxerBackend clients (see :class:`~daytwo.operator.backends.runtime.ClientFactory`): all
    clients of one host:port share its ``max_concurrency`` slots, whatever token they use.

    ``retries``, ``backoff_seconds`` and ``queue_timeout_seconds`` adjust the Proxmox retry policy.
    """

    client_type = ProxmoxerBackend
    default_policy = PROXMOX_RETRY_POLICY

    def __init__(
        self,
        *,
        max_concurrency: int = 4,
        policy: RetryPolicy | None = None,
        retries: int | None = None,
        backoff_seconds: float | None = None,
        queue_timeout_seconds: float | None = None,
        cache: ClientCache | None = None,
    ) -> None:
        base = policy or PROXMOX_RETRY_POLICY
        tuned = replace(
            base,
            retries=base.retries if retries is None else max(0, retries),
            backoff_seconds=base.backoff_seconds if backoff_seconds is None else max(0.0, backoff_seconds),
            queue_timeout_seconds=queue_timeout_seconds or base.queue_timeout_seconds,
        )
        super().__init__(max_concurrency=max_concurrency, policy=tuned, cache=cache)
