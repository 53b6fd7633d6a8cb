"""What the horcrux routes share: memoised guest list, lookups, 501s, audit and webhook service access.

Derived views are memoised per store (``daytwo.api.cached.memo``) on what they were computed from: the
guest inventories (:func:`daytwo.api.routers.pmi._shared.inventories`, identical while unchanged) and the
ProxmoxNode/ConfigMap versions.
"""

from __future__ import annotations

import json

from daytwo.api.cached import memo
from daytwo.api.deps import audit, get_services
from daytwo.api.errors import ApiError
from daytwo.api.routers.pmi._shared import inventories
from daytwo.api.store import ObjectStore
from daytwo.api.views.horcrux import vms as vm_views
from daytwo.api.webhooks.service import WebhookService, secret_reader, webhooks_for
from fastapi import Request

__all__ = [
    "audit",
    "guests",
    "inventories",
    "memo",
    "not_implemented",
    "target_ids",
    "vm_or_404",
    "webhook_service",
]


def guests(store: ObjectStore) -> list[vm_views.Guest]:
    """Every guest of every ProxmoxNode, by vmid (memoised on the guest inventories)."""
    nodes = inventories(store)
    return memo(store).get("horcrux-guests", nodes, lambda: vm_views.guests(nodes))


def _index(store: ObjectStore) -> dict[str, vm_views.Guest]:
    nodes = inventories(store)
    return memo(store).get("horcrux-guest-index", nodes, lambda: {str(g.vmid): g for g in guests(store)})


def vm_or_404(store: ObjectStore, vm_id: str) -> vm_views.Guest:
    """The guest ``vm_id`` or horcrux's 404."""
    found = _index(store).get(vm_id)
    if found is None:
        raise ApiError(404, f"Virtual machine '{vm_id}' not found", "NOT_FOUND")
    return found


def target_ids(store: ObjectStore) -> dict[str, list[str]]:
    """Per SnapshotPolicy, the target ids its last run resolved (``<p>-targets`` ConfigMaps)."""

    def compute() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for cm in store.list("ConfigMap"):
            policy = (cm["metadata"].get("labels") or {}).get("daytwo.io/snapshot-policy")
            if not policy:
                continue
            try:
                rows = json.loads((cm.get("data") or {}).get("targets.json") or "[]")
            except ValueError:
                continue
            found[policy] = [str(r.get("id")) for r in rows if isinstance(r, dict) and r.get("kind") == "guest"]
        return found

    return memo(store).get("horcrux-targets", store.version("ConfigMap"), compute)


def not_implemented(what: str, why: str) -> ApiError:
    """horcrux's 501: ``what`` daytwo does not do, and why."""
    return ApiError(501, f"{what} is not supported by daytwo: {why}", "NOT_IMPLEMENTED")


def webhook_service(request: Request) -> WebhookService:
    """The process's webhook service (started at start-up by the app, or here on first use)."""
    services = get_services(request)
    return webhooks_for(services.store, secret_reader(services.kube, services.settings.namespace))
