"""Where a CloudCredential's inventory lives: labelled, owned ConfigMaps (see reconcile.cloudcredential).

The facade reads ``<name>-inventory`` (manifest + first chunk) and the chunks it lists; a restarted
operator or facade finds the last sync there. The ConfigMaps are owned by the credential, so the garbage
collector removes them with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ..backends.inventory import InventoryRecord
from ..kube import kube_client
from ..reconcile.cloudcredential import INVENTORY_LABEL, configmap_changes

__all__ = ["record_dict", "write_inventory"]


def record_dict(record: InventoryRecord) -> dict[str, Any]:
    """One record as stored: the multicloud shape without ``last_synced`` (the manifest's syncedAt)."""
    entry: dict[str, Any] = {
        "resource_id": record.resource_id,
        "name": record.name,
        "type": record.type,
        "provider": record.provider,
        "region": record.region,
        "status": record.status,
        "metadata": dict(record.metadata),
    }
    if record.created_at is not None:
        entry["created_at"] = record.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return entry


def _core() -> client.CoreV1Api:
    kube_client()  # loads in-cluster config or $KUBECONFIG once per process
    return client.CoreV1Api()


def write_inventory(namespace: str, credential: str, desired: Iterable[Mapping[str, Any]]) -> tuple[int, int, int]:
    """Create, replace and delete ConfigMaps so that exactly ``desired`` exist; (created, replaced, deleted)."""
    core = _core()
    listed = core.list_namespaced_config_map(namespace, label_selector=f"{INVENTORY_LABEL}={credential}")
    existing = {item.metadata.name: dict(item.data or {}) for item in listed.items}
    create, replace, delete = configmap_changes(existing, list(desired))
    for body in create:
        try:
            core.create_namespaced_config_map(namespace, dict(body))
        except ApiException as error:
            if error.status != 409:
                raise
            core.replace_namespaced_config_map(body["metadata"]["name"], namespace, dict(body))
    for body in replace:
        core.replace_namespaced_config_map(body["metadata"]["name"], namespace, dict(body))
    for name in delete:
        try:
            core.delete_namespaced_config_map(name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
    return len(create), len(replace), len(delete)
