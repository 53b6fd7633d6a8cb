"""Plain objects for the multicloud tests: credentials and their inventory/billing ConfigMaps, made by the
operator's own builders (reconcile.cloudcredential / reconcile.billing), so the facade reads what it writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from daytwo.operator.reconcile.billing import billing_configmap, billing_document
from daytwo.operator.reconcile.cloudcredential import chunk_records, inventory_configmaps

NAMESPACE = "daytwo"
SYNCED = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def credential(
    name: str, provider: str, *, valid: bool = True, users: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A CloudCredential as the operator leaves it."""
    block = {
        "aws": {"region": "eu-west-1"},
        "gcp": {"projectId": "proj-123456"},
        "openstack": {"authUrl": "https://keystone.example/v3"},
        "azure": {"tenantId": "tenant-1", "subscriptionId": "subscription-1"},
    }[provider]
    status: dict[str, Any] = {
        "conditions": [
            {
                "type": "Validated",
                "status": "True" if valid else "False",
                "reason": "Validated" if valid else "AuthFailed",
                "message": "ok" if valid else "bad key",
                "lastTransitionTime": "2026-12-01T00:00:00Z",
            },
            {
                "type": "Ready",
                "status": "True" if valid else "False",
                "reason": "Ready" if valid else "AuthFailed",
                "message": "validated and inventory synced" if valid else "bad key",
            },
        ],
        "identity": {"principal": f"{name}-principal"},
        "lastValidatedTime": "2026-12-01T00:00:00Z",
    }
    if users:
        status["users"] = users
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": f"uid-{name}",
            "creationTimestamp": "2026-11-01T00:00:00Z",
            "annotations": {"daytwo.io/display-name": f"{name.upper()} account", "daytwo.io/created-by": "admin"},
        },
        "spec": {"provider": provider, "secretRef": {"name": f"{name}-credentials"}, provider: block},
        "status": status,
    }


def records(provider: str, region: str, vms: int, storage: int = 1, networks: int = 1) -> list[dict[str, Any]]:
    """Inventory records in the stored shape."""
    out: list[dict[str, Any]] = []
    for i in range(vms):
        out.append(
            {
                "resource_id": f"{provider}-vm-{i}",
                "name": f"vm-{i}",
                "type": "vm",
                "provider": provider,
                "region": region,
                "status": "running" if i % 2 == 0 else "stopped",
                "metadata": {"instance_type": "t3.micro", "machine_type": "e2-medium"},
                "created_at": f"2026-11-{10 + i:02d}T00:00:00Z",
            }
        )
    for i in range(storage):
        out.append(
            {
                "resource_id": f"{provider}-disk-{i}",
                "name": f"disk-{i}",
                "type": "storage",
                "provider": provider,
                "region": region,
                "status": "in-use",
                "metadata": {"size_gb": "100"},
            }
        )
    for i in range(networks):
        out.append(
            {
                "resource_id": f"/{provider}/net/{i}",
                "name": f"net-{i}",
                "type": "network",
                "provider": provider,
                "region": region,
                "status": "available",
                "metadata": {},
            }
        )
    return out


def inventory(cred: dict[str, Any], recs: list[dict[str, Any]], budget: int = 900_000) -> list[dict[str, Any]]:
    """The inventory ConfigMaps of one credential."""
    counts = {"vms": 0, "storage": 0, "networks": 0}
    for r in recs:
        kind = {"vm": "vms", "storage": "storage", "network": "networks"}.get(r["type"], "compute")
        counts[kind] = counts.get(kind, 0) + 1
    return inventory_configmaps(cred, cred["spec"]["provider"], chunk_records(recs, budget), counts, SYNCED)


def billing(cred: dict[str, Any], source: str, per_day: dict[str, float], today: date) -> dict[str, Any]:
    """A billing ConfigMap with the same services every day from the previous month's 1st to ``today``."""
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    days = [
        {"date": (start + timedelta(days=n)).isoformat(), "services": dict(per_day)}
        for n in range((today - start).days + 1)
    ]
    doc = billing_document(
        cred["metadata"]["name"],
        cred["spec"]["provider"],
        source,
        days,
        SYNCED,
        note="test",
        price_table="daytwo-list-prices-test" if source == "estimate" else None,
    )
    return billing_configmap(cred, doc)
