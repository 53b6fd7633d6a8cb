"""Where inventories and billing live: labelled, owned ConfigMaps (see reconcile.chunked, reconcile.cloudcredential,
reconcile.proxmoxguests and reconcile.billing).

The facade reads the head (``<name>-inventory`` of a CloudCredential, ``<name>-guests`` of a ProxmoxNode:
manifest + first chunk) and the chunks it lists; a restarted operator or facade finds the last sync there.
The ConfigMaps are owned by the credential or node, so the garbage collector removes them with it.

At rest nothing is written: unchanged chunks are left alone (``configmap_changes``) and, given a
``heartbeat``, the head keeps its ``manifest.syncedAt`` while the records did not change
(:func:`settle_synced_at`), so ``syncedAt`` is coarse: when the records last changed, or at most
``heartbeat`` (``DAYTWO_STATUS_HEARTBEAT_SECONDS``) before the last sync that confirmed them. Nothing
schedules work from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ...backends.records import InventoryRecord
from ...kube import kube_client
from ...reconcile.billing import billing_configmap_name
from ...reconcile.chunked import configmap_changes
from ...reconcile.cloudcredential import INVENTORY_LABEL
from ...shared.times import format_time, parse_time

__all__ = [
    "delete_billing",
    "list_inventory",
    "read_billing",
    "read_inventory",
    "record_dict",
    "settle_synced_at",
    "write_billing",
    "write_inventory",
]


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
        entry["created_at"] = format_time(record.created_at)
    return entry


def _core() -> client.CoreV1Api:
    kube_client()  # loads in-cluster config or $KUBECONFIG once per process
    return client.CoreV1Api()


def list_inventory(
    namespace: str, owner: str, label: str = INVENTORY_LABEL, core: Any = None
) -> dict[str, dict[str, str]]:
    """The data of every ConfigMap labelled ``label: owner``, by name (e.g. to carry the head's history over).
    ``core`` is a CoreV1Api (the process's by default; every function here takes one)."""
    listed = (core or _core()).list_namespaced_config_map(namespace, label_selector=f"{label}={owner}")
    return {item.metadata.name: dict(item.data or {}) for item in listed.items}


def write_inventory(
    namespace: str,
    owner: str,
    desired: Iterable[Mapping[str, Any]],
    label: str = INVENTORY_LABEL,
    existing: Mapping[str, Mapping[str, str]] | None = None,
    heartbeat: timedelta | None = None,
    core: Any = None,
) -> tuple[int, int, int]:
    """Create, replace and delete the ConfigMaps labelled ``label: owner`` so that exactly ``desired`` exist;
    (created, replaced, deleted). ``label`` is the owner kind's label (a CloudCredential's by default);
    ``existing`` is what :func:`list_inventory` returned this pass (listed here when not given); with a
    ``heartbeat`` an unchanged head keeps its syncedAt (:func:`settle_synced_at`): no write at rest."""
    core = core or _core()
    if existing is None:
        existing = list_inventory(namespace, owner, label, core)
    wanted = list(desired)
    if heartbeat is not None:
        wanted = settle_synced_at(existing, wanted, heartbeat)
    create, replace, delete = configmap_changes(existing, wanted)
    for body in create:
        _create_or_replace(core, namespace, body)
    for body in replace:
        core.replace_namespaced_config_map(body["metadata"]["name"], namespace, dict(body))
    for name in delete:
        try:
            core.delete_namespaced_config_map(name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
    return len(create), len(replace), len(delete)


def read_inventory(namespace: str, credential: str, core: Any = None) -> tuple[list[dict[str, Any]], str] | None:
    """The stored records of the last sync, in manifest order, with its syncedAt; None when never synced."""
    data = list_inventory(namespace, credential, core=core)
    head = next((d for d in data.values() if "manifest.json" in d), None)
    if head is None:
        return None
    manifest = json.loads(head["manifest.json"])
    records: list[dict[str, Any]] = []
    for chunk in manifest.get("chunks") or ():
        records.extend(json.loads((data.get(chunk["name"]) or {}).get("records.json") or "[]"))
    return records, str(manifest.get("syncedAt", ""))


def settle_synced_at(
    existing: Mapping[str, Mapping[str, str]], desired: Sequence[Mapping[str, Any]], heartbeat: timedelta
) -> list[Mapping[str, Any]]:
    """``desired`` with the head's ``manifest.syncedAt`` put back to the stored one when nothing else in the
    head changed (the manifest lists every chunk's digest, so the records did not change either) and the
    stored syncedAt is less than ``heartbeat`` older: then the head is not rewritten."""
    wanted = list(desired)
    if not wanted:
        return wanted
    head = wanted[0]
    data = dict(head.get("data") or {})
    old = existing.get(head["metadata"]["name"])
    if old is None or "manifest.json" not in old or "manifest.json" not in data:
        return wanted
    try:
        before, now = json.loads(old["manifest.json"]), json.loads(data["manifest.json"])
        old_at, new_at = parse_time(str(before["syncedAt"])), parse_time(str(now["syncedAt"]))
    except (KeyError, TypeError, ValueError):
        return wanted
    if old_at is None or new_at is None:
        return wanted
    stale = new_at - old_at >= heartbeat
    same = {**now, "syncedAt": before["syncedAt"]} == before
    others = {k: v for k, v in data.items() if k != "manifest.json"} == {
        k: v for k, v in old.items() if k != "manifest.json"
    }
    if stale or not same or not others:
        return wanted
    data["manifest.json"] = old["manifest.json"]
    return [{**head, "data": data}, *wanted[1:]]


def read_billing(namespace: str, credential: str, core: Any = None) -> dict[str, Any] | None:
    """The stored ``billing.json`` document, or None when there is none (or it is not a JSON object)."""
    try:
        found = (core or _core()).read_namespaced_config_map(billing_configmap_name(credential), namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    try:
        document = json.loads((found.data or {}).get("billing.json") or "")
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def write_billing(namespace: str, body: Mapping[str, Any], core: Any = None) -> None:
    """Create or replace the ``<credential>-billing`` ConfigMap."""
    _create_or_replace(core or _core(), namespace, body)


def _create_or_replace(core: client.CoreV1Api, namespace: str, body: Mapping[str, Any]) -> None:
    """Create the ConfigMap; replace it when it already exists (a pass that died after its create)."""
    try:
        core.create_namespaced_config_map(namespace, dict(body))
    except ApiException as error:
        if error.status != 409:
            raise
        core.replace_namespaced_config_map(body["metadata"]["name"], namespace, dict(body))


def delete_billing(namespace: str, credential: str, core: Any = None) -> None:
    """Remove the billing ConfigMap (billing turned off); absent is fine."""
    try:
        (core or _core()).delete_namespaced_config_map(billing_configmap_name(credential), namespace)
    except ApiException as error:
        if error.status != 404:
            raise
