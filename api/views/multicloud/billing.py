"""Multicloud /billing: the operator's ``<cred>-billing`` documents as /billing/costs and /billing/summary.

Each document (ConfigMap label ``daytwo.io/billing-of``, data ``billing.json``) holds daily costs per
service of one credential, from AWS Cost Explorer (``source: cost-explorer``) or estimated from the
inventory and a price table (``source: estimate``, ``priceTable``). The answers keep the reference's
fields and add ``source`` (cost-explorer, estimate, mixed, or none when nothing is computed yet) and
``sources`` (one entry per credential), so a dashboard can always tell measured from estimated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from daytwo.operator.shared.pricing import month_summary

__all__ = ["BILLING_LABEL", "costs", "documents", "service_category", "sources", "summary"]

BILLING_LABEL = "daytwo.io/billing-of"
_CATEGORIES = (
    ("storage", ("storage", "s3", "ebs", "disk", "glacier", "backup", "volume")),
    (
        "network",
        (
            "network",
            "vpc",
            "virtual private cloud",
            "cloudfront",
            "data transfer",
            "load balanc",
            "nat",
            "dns",
            "route 53",
        ),
    ),
    ("compute", ("compute", "ec2", "virtual machine", "lambda", "container", "kubernetes", "vm")),
)


def documents(configmaps: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The parsed billing documents of the cached ConfigMaps, by credential name."""
    found = []
    for cm in configmaps:
        if BILLING_LABEL not in (cm["metadata"].get("labels") or {}):
            continue
        try:
            document = json.loads((cm.get("data") or {}).get("billing.json") or "")
        except ValueError:
            continue
        if isinstance(document, dict) and isinstance(document.get("days"), list):
            found.append(document)
    return sorted(found, key=lambda d: str(d.get("credential", "")))


def sources(docs: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """(overall source, one entry per credential: credential, provider, source, price_table, generated_at, note)."""
    entries = [
        {
            "credential": d.get("credential"),
            "provider": d.get("provider"),
            "source": d.get("source"),
            "price_table": d.get("priceTable"),
            "generated_at": d.get("generatedAt"),
            "note": d.get("note"),
        }
        for d in docs
    ]
    kinds = {e["source"] for e in entries}
    overall = "none" if not kinds else str(kinds.pop()) if len(kinds) == 1 else "mixed"
    return overall, entries


def service_category(service: str) -> str:
    """compute, storage, network or other, from a service name of any provider (for cost_by_service)."""
    lowered = service.lower()
    for category, words in _CATEGORIES:
        if any(word in lowered for word in words):
            return category
    return "other"


def _costs_in(docs: Sequence[Mapping[str, Any]], start: str, end: str) -> list[tuple[str, str, str, float]]:
    """(provider, service, date, cost) of every service-day in [start, end]."""
    rows: list[tuple[str, str, str, float]] = []
    for doc in docs:
        provider = str(doc.get("provider", ""))
        for day in doc.get("days") or ():
            when = str(day.get("date", ""))
            if start <= when <= end:
                rows.extend((provider, s, when, float(c)) for s, c in (day.get("services") or {}).items())
    return rows


def costs(docs: Sequence[Mapping[str, Any]], start: date, end: date, group_by: str) -> dict[str, Any]:
    """The /billing/costs answer over [start, end] grouped by provider (with services), service or day."""
    rows = _costs_in(docs, start.isoformat(), end.isoformat())
    breakdown: list[dict[str, Any]] = []
    if group_by == "provider":
        # every provider with a billing document is listed, at 0 when nothing was spent in the period
        by_provider: dict[str, dict[str, float]] = {str(doc.get("provider", "")): {} for doc in docs}
        for provider, service, _, cost in rows:
            services = by_provider.setdefault(provider, {})
            services[service] = services.get(service, 0.0) + cost
        for provider, services in sorted(by_provider.items()):
            ordered = sorted(services.items(), key=lambda kv: (-kv[1], kv[0]))
            breakdown.append(
                {
                    "provider": provider,
                    "cost": round(sum(services.values()), 2),
                    "services": [{"service": s, "cost": round(c, 2)} for s, c in ordered],
                }
            )
    else:
        key = 1 if group_by == "service" else 2
        totals: dict[str, float] = {}
        for row in rows:
            totals[str(row[key])] = totals.get(str(row[key]), 0.0) + row[3]
        field = "service" if group_by == "service" else "date"
        ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if key == 1 else sorted(totals.items())
        breakdown = [{field: k, "cost": round(v, 2)} for k, v in ordered]
    overall, entries = sources(docs)
    currencies = {str(d.get("currency", "USD")) for d in docs} or {"USD"}
    return {
        "total_cost": round(sum(row[3] for row in rows), 2),
        "currency": currencies.pop() if len(currencies) == 1 else "mixed",
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "breakdown": breakdown,
        "source": overall,
        "sources": entries,
    }


def daily_totals(docs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Cost per day over every document."""
    totals: dict[str, float] = {}
    for doc in docs:
        for day in doc.get("days") or ():
            when = str(day.get("date", ""))
            totals[when] = totals.get(when, 0.0) + sum(float(c) for c in (day.get("services") or {}).values())
    return totals


def summary(docs: Sequence[Mapping[str, Any]], today: date) -> dict[str, Any]:
    """The /billing/summary answer (see reconcile.billing.month_summary) plus source and sources."""
    overall, entries = sources(docs)
    return {**month_summary(daily_totals(docs), today), "source": overall, "sources": entries}
