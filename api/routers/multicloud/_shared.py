"""What the multicloud routes share: memoised reads of the inventory and billing ConfigMaps and the credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from daytwo.api.cached import memo
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.multicloud import billing as billing_views
from daytwo.api.views.multicloud.inventory import InventoryIndex

__all__ = ["billing_documents", "credentials", "found_or_404", "inventory", "now"]


def inventory(store: ObjectStore) -> InventoryIndex:
    """Every credential's inventory items (rebuilt only when a daytwo ConfigMap changed)."""
    configmaps = store.version("ConfigMap")
    return memo(store).get("multicloud-inventory", configmaps, lambda: InventoryIndex.build(store.list("ConfigMap")))


def billing_documents(store: ObjectStore) -> list[dict[str, Any]]:
    """Every credential's billing document (memoised like the inventory)."""
    configmaps = store.version("ConfigMap")
    return memo(store).get("multicloud-billing", configmaps, lambda: billing_views.documents(store.list("ConfigMap")))


def credentials(store: ObjectStore) -> list[dict[str, Any]]:
    """The cached CloudCredentials, sorted by name."""
    return store.list("CloudCredential")


def found_or_404(store: ObjectStore, kind: str, object_id: str, noun: str) -> dict[str, Any]:
    """The cached ``kind`` object ``object_id``, or the multicloud 404 naming it as ``noun``."""
    found = store.get(kind, object_id)
    if found is None:
        raise ApiError(404, f"{noun} {object_id!r} not found", "NOT_FOUND")
    return found


def now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)
