"""The shards' coordination.k8s.io Leases: read, claim/renew, release and list (I/O only; the decisions are
:mod:`daytwo.operator.sharding`'s). Synchronous: callers run these in a worker thread."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .kube import kube_client
from .sharding import ObservedLease, lease_name

__all__ = ["GROUP_LABEL", "SHARD_LABEL", "LeaseStore"]

#: Every Lease of one set of shards carries this label (value: the Lease name prefix), so one listing finds them.
GROUP_LABEL = "daytwo.io/shard-group"
#: The shard id a Lease belongs to.
SHARD_LABEL = "daytwo.io/shard"


def _micro_time(moment: datetime) -> str:
    """A metav1.MicroTime: RFC 3339 in UTC with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _observed(lease: Any) -> ObservedLease:
    holder = lease.spec.holder_identity if lease.spec is not None else None
    return ObservedLease(holder=str(holder or ""), version=str(lease.metadata.resource_version))


class LeaseStore:
    """The Leases ``<prefix>-<shard>`` in one namespace, written with this process's ``identity``."""

    def __init__(self, namespace: str, prefix: str, identity: str, lease_seconds: float) -> None:
        kube_client()  # loads the in-cluster config or $KUBECONFIG once for the process
        self._api = client.CoordinationV1Api(client.ApiClient())
        self.namespace, self.prefix, self.identity = namespace, prefix, identity
        self.duration = max(1, round(lease_seconds))

    def read(self, shard: int) -> ObservedLease | None:
        """Shard ``shard``'s Lease, or None when it does not exist."""
        try:
            return _observed(self._api.read_namespaced_lease(lease_name(self.prefix, shard), self.namespace))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def renew(self, shard: int, current: ObservedLease | None) -> bool:
        """Write this process as the holder of shard ``shard``'s Lease with a fresh renewTime; False when
        someone else wrote it since ``current`` was read (a conflict: try again next heartbeat)."""
        now = _micro_time(datetime.now(UTC))
        name = lease_name(self.prefix, shard)
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration,
            "renewTime": now,
        }
        if current is None or current.holder != self.identity:
            spec["acquireTime"] = now
        metadata: dict[str, Any] = {
            "name": name,
            "namespace": self.namespace,
            "labels": {GROUP_LABEL: self.prefix, SHARD_LABEL: str(shard)},
        }
        try:
            if current is None:
                self._api.create_namespaced_lease(self.namespace, {"metadata": metadata, "spec": spec})
            else:
                metadata["resourceVersion"] = current.version
                self._api.replace_namespaced_lease(name, self.namespace, {"metadata": metadata, "spec": spec})
        except ApiException as error:
            if error.status in (404, 409):
                return False
            raise
        return True

    def release(self, shard: int) -> None:
        """Give up shard ``shard``'s Lease on a graceful exit (empty holder: the others take over at once)."""
        current = self.read(shard)
        if current is None or current.holder != self.identity:
            return
        name = lease_name(self.prefix, shard)
        body = {
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "resourceVersion": current.version,
                "labels": {GROUP_LABEL: self.prefix, SHARD_LABEL: str(shard)},
            },
            "spec": {"holderIdentity": None, "leaseDurationSeconds": self.duration},
        }
        try:
            self._api.replace_namespaced_lease(name, self.namespace, body)
        except ApiException as error:
            if error.status not in (404, 409):
                raise

    def list(self) -> dict[int, ObservedLease]:
        """Every shard's Lease of this prefix, by shard id."""
        found = self._api.list_namespaced_lease(self.namespace, label_selector=f"{GROUP_LABEL}={self.prefix}")
        leases: dict[int, ObservedLease] = {}
        for lease in found.items:
            label = (lease.metadata.labels or {}).get(SHARD_LABEL, "")
            if label.isdigit():
                leases[int(label)] = _observed(lease)
        return leases
