"""Multicloud /inventory: the CloudCredential inventory ConfigMaps as the documented resource items.

Each credential's head ConfigMap ``<cred>-inventory`` (label ``daytwo.io/credential``) carries
``manifest.json`` (syncedAt, chunk names in order) and the first chunk; the other chunks are
``<cred>-inventory-<n>`` (parsed by the platform9 views' ``parse_inventories``: a chunk not yet in the
cache is skipped, so a half-written sync shows what is there). ``id`` is a stable integer derived from (credential,
resource_id) (the reference's ids are integers; cloud resource ids contain slashes), and
``metadata.cost_per_hour`` is the price table's list price of a VM's type (see reconcile.billing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from daytwo.api.views.platform9.inventory import CREDENTIAL_LABEL, parse_inventories
from daytwo.operator.shared.pricing import vm_hourly

__all__ = [
    "CREDENTIAL_LABEL",
    "KIND_TYPES",
    "InventoryIndex",
    "item_id",
    "page",
]

#: /inventory/<kind> -> the records' type.
KIND_TYPES = {"vms": "vm", "storage": "storage", "networks": "network"}
#: The multicloud API's resource types; other inventory records are not its business.
SERVED_TYPES = frozenset(KIND_TYPES.values())
_PRICED = frozenset({"aws", "azure", "gcp", "openstack"})


def item_id(credential: str, resource_id: str) -> int:
    """A stable integer id for one resource of one credential (48 bits: exact in JSON numbers)."""
    return int(hashlib.sha256(f"{credential}\0{resource_id}".encode()).hexdigest()[:12], 16)


def _item(credential: str, record: Mapping[str, Any], synced_at: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = dict(record.get("metadata") or {})
    provider = str(record.get("provider") or "")
    if record.get("type") == "vm" and provider in _PRICED:
        metadata.setdefault("cost_per_hour", round(vm_hourly(provider, metadata), 6))
    resource_id = str(record.get("resource_id") or "")
    return {
        "id": item_id(credential, resource_id),
        "resource_id": resource_id,
        "resource_name": str(record.get("name") or resource_id),
        "resource_type": str(record.get("type") or ""),
        "provider": provider,
        "region": str(record.get("region") or ""),
        "status": str(record.get("status") or ""),
        "metadata": metadata,
        "created_at": record.get("created_at"),
        "last_synced": synced_at,
        "credential": credential,
    }


@dataclass
class InventoryIndex:
    """Every resource item of every credential, in (credential, manifest) order, and by id."""

    items: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    synced: dict[str, str] = field(default_factory=dict)  # credential -> syncedAt

    @classmethod
    def build(cls, configmaps: Iterable[Mapping[str, Any]]) -> InventoryIndex:
        """From the cached ConfigMaps (any; only the inventory ones are read, via pf9's parse_inventories)."""
        index = cls()
        for inventory in parse_inventories(configmaps):
            index.synced[inventory.credential] = inventory.synced_at or ""
            for record in inventory.records:
                if record.get("type") not in SERVED_TYPES:
                    continue  # OpenStack compute records (aggregates, hypervisors, flavors) feed the spot views
                item = _item(inventory.credential, record, inventory.synced_at)
                index.items.append(item)
                index.by_id[item["id"]] = item
        return index

    def select(
        self,
        resource_type: str | None = None,
        *,
        provider: str | None = None,
        region: str | None = None,
        status: str | None = None,
        credential: str | None = None,
    ) -> list[dict[str, Any]]:
        """The items matching every given filter (exact match; status case-insensitive)."""
        wanted_status = status.lower() if status else None
        return [
            item
            for item in self.items
            if (resource_type is None or item["resource_type"] == resource_type)
            and (provider is None or item["provider"] == provider)
            and (region is None or item["region"] == region)
            and (wanted_status is None or item["status"].lower() == wanted_status)
            and (credential is None or item["credential"] == credential)
        ]

    def find(self, key: str) -> dict[str, Any] | None:
        """An item by its integer id, else by its resource_id (first match)."""
        if key.isascii() and key.isdigit():
            found = self.by_id.get(int(key))
            if found is not None:
                return found
        return next((item for item in self.items if item["resource_id"] == key), None)


def page(items: Sequence[dict[str, Any]], skip: int, limit: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One page and the reference's pagination headers (X-Total-Count, X-Page-Size, X-Page-Number)."""
    chunk = list(items[skip : skip + limit])
    headers = {
        "X-Total-Count": str(len(items)),
        "X-Page-Size": str(limit),
        "X-Page-Number": str(skip // limit + 1),
    }
    return chunk, headers
