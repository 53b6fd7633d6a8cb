"""Multicloud /dashboard/stats from the inventory items, the billing documents and the CloudCredentials.

Costs are this month's so far (``cost_by_provider``, ``cost_by_service`` by category compute / storage /
network / other) and ``estimated_monthly_cost`` is the month's projection (billing summary), with
``cost_source`` saying whether they are measured or estimated. ``provider_health`` is each provider's
credentials' ``Validated`` condition: healthy (all valid), degraded (some), down (none); the facade
never calls a cloud, so ``response_time_ms`` is null.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from daytwo.api.views.statuses import credential_status, raw_condition
from daytwo.operator.shared.times import format_time

from .billing import service_category, sources, summary
from .credentials import credential_spec

__all__ = ["ACTIVE_STATES", "provider_health", "stats"]

ACTIVE_STATES = frozenset({"running", "active"})
RECENT = 10


def provider_health(credentials: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per provider with credentials (see the module docstring)."""
    by_provider: dict[str, list[Mapping[str, Any]]] = {}
    for obj in credentials:
        by_provider.setdefault(str(credential_spec(obj).provider), []).append(obj)
    out = []
    for provider, objs in sorted(by_provider.items()):
        checks = [raw_condition(o, "Validated") for o in objs]
        good = [c for c in checks if c is not None and c.get("status") == "True"]
        bad = [c for c in checks if c is None or c.get("status") != "True"]
        status = "healthy" if not bad else "degraded" if good else "down"
        times = [str(c.get("lastTransitionTime")) for c in checks if c is not None and c.get("lastTransitionTime")]
        statuses = [credential_status(o, conditions=False) for o in objs]
        validated_at = [format_time(s.last_validated_time) for s in statuses if s.last_validated_time]
        errors = sorted({f"{c.get('reason')}: {c.get('message')}" for c in bad if c is not None})
        out.append(
            {
                "provider": provider,
                "status": status,
                "response_time_ms": None,
                "last_check": max(validated_at or times, default=None),
                "error_message": "; ".join(errors) if errors else ("not validated yet" if bad else None),
            }
        )
    return out


def stats(
    items: Sequence[Mapping[str, Any]],
    billing_docs: Sequence[Mapping[str, Any]],
    credentials: Sequence[Mapping[str, Any]],
    today: date,
    now_iso: str,
) -> dict[str, Any]:
    """The /dashboard/stats answer."""
    kinds = Counter(str(i["resource_type"]) for i in items)
    per_provider: dict[str, Counter[str]] = {}
    for item in items:
        per_provider.setdefault(str(item["provider"]), Counter())[str(item["resource_type"])] += 1
    month = today.strftime("%Y-%m")
    by_provider: dict[str, float] = {}
    by_category: dict[str, float] = {}
    for doc in billing_docs:
        provider = str(doc.get("provider", ""))
        for day in doc.get("days") or ():
            if not str(day.get("date", "")).startswith(month):
                continue
            for service, cost in (day.get("services") or {}).items():
                by_provider[provider] = by_provider.get(provider, 0.0) + float(cost)
                category = service_category(service)
                by_category[category] = by_category.get(category, 0.0) + float(cost)
    regions = Counter(str(i["region"]) for i in items if i.get("region"))
    recent = sorted(items, key=lambda i: str(i.get("created_at") or ""), reverse=True)[:RECENT]
    synced = [str(i["last_synced"]) for i in items if i.get("last_synced")]
    return {
        "total_resources": len(items),
        "active_vms": sum(1 for i in items if i["resource_type"] == "vm" and str(i["status"]).lower() in ACTIVE_STATES),
        "total_storage": kinds.get("storage", 0),
        "total_networks": kinds.get("network", 0),
        "estimated_monthly_cost": summary(billing_docs, today)["current_month"]["projected_cost"],
        "cost_source": sources(billing_docs)[0],
        "provider_breakdown": [
            {"provider": p, "count": sum(c.values()), "vms": c.get("vm", 0), "storage": c.get("storage", 0)}
            for p, c in sorted(per_provider.items())
        ],
        "cost_by_provider": [{"provider": p, "cost": round(c, 2)} for p, c in sorted(by_provider.items())],
        "cost_by_service": [
            {"service": s, "cost": round(c, 2)} for s, c in sorted(by_category.items(), key=lambda kv: -kv[1])
        ],
        "region_distribution": [
            {"region": r, "count": n} for r, n in sorted(regions.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "provider_health": provider_health(credentials),
        "recent_activity": [
            {
                "resource_name": i["resource_name"],
                "provider": i["provider"],
                "type": i["resource_type"],
                "status": i["status"],
                "region": i["region"],
                "last_synced": i.get("last_synced"),
            }
            for i in recent
        ],
        "last_updated": max(synced) if synced else now_iso,
    }
