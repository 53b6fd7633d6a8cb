"""CloudCredential billing: daily costs per service, from AWS Cost Explorer or estimated from the inventory.

Pure: the handler passes the inventory records (the stored dicts), Cost Explorer's periods as plain
values and the clock; it gets back the ``<name>-billing`` ConfigMap, the condition and when to refresh.

``billing.json`` = {credential, provider, source: "cost-explorer" | "estimate", priceTable (the id of
:data:`~daytwo.operator.shared.prices.PRICE_TABLE` for an estimate, else null), currency,
generatedAt, days: [{date, services: {name: cost}}] from the first day of the previous month to today,
ascending, note (why this source, in words), inventoryDigest (an estimate's: :func:`inventory_digest` of the
records it was computed from, else null)}.

At rest nothing is written: a refresh whose document has the same content as the stored one
(:func:`same_billing`: everything but ``generatedAt``) leaves the ConfigMap alone, and an inventory sync
that brought the same records (same digest) does not even recompute the estimate; the accrual of running
resources shows at the next billing interval or day.

An estimate assumes the estate as last synced has existed since each resource's ``created_at`` (or the
period start when it is unknown or older) until now: running/active VMs cost their type's hourly price,
stopped ones nothing; disks and volumes cost their size times their type's GB-month price (730 hours to a
month); networks are free. It cannot know what was deleted before the sync, so it is a lower bound of
the past and a fair picture of the present.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from daytwo.crds.cloudcredential import CloudCredentialSpec, CloudCredentialStatus

from ..shared.pricing import HOURS_PER_MONTH, PRICE_TABLE, number, storage_gb_month, vm_hourly
from ..shared.times import format_time, parse_time
from .chunked import owned_configmap
from .cloudcredential import RetryState, reason_of
from .conditions import ConditionUpdate

__all__ = [
    "BILLING_LABEL",
    "billing_condition",
    "billing_configmap",
    "billing_configmap_name",
    "billing_document",
    "billing_period",
    "cost_explorer_days",
    "estimate_days",
    "estimate_is_current",
    "inventory_digest",
    "record_hourly",
    "same_billing",
    "seconds_until_billing",
    "why_refresh_billing",
]

BILLING_LABEL = "daytwo.io/billing-of"
#: VM states that are billed for compute (AWS/Azure/GCP running, OpenStack active).
CHARGED_VM_STATES = frozenset({"running", "active"})
#: Volume states that are no longer billed.
GONE_STORAGE_STATES = frozenset({"deleting", "deleted"})
_REFRESH_AT_ONCE = ("the Secret changed", "the spec changed", "a reconcile was requested")


def billing_period(today: date) -> tuple[date, date]:
    """(first day of the previous month, today): the days every billing document covers."""
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1), today


def record_hourly(
    provider: str, record: Mapping[str, Any], table: Mapping[str, Any] = PRICE_TABLE
) -> tuple[str, float] | None:
    """(service, cost per hour) of one inventory record, or None when it costs nothing now."""
    prices = table.get(provider)
    if prices is None:
        return None
    metadata = record.get("metadata") or {}
    status = str(record.get("status") or "").lower()
    if record.get("type") == "vm":
        if status not in CHARGED_VM_STATES:
            return None
        return str(prices["compute_service"]), vm_hourly(provider, metadata, table)
    if record.get("type") == "storage":
        size = number(metadata.get("size_gb"))
        if not size or status in GONE_STORAGE_STATES:
            return None
        return str(prices["storage_service"]), size * storage_gb_month(provider, metadata, table) / HOURS_PER_MONTH
    return None


def _parse(text: Any) -> datetime | None:
    try:
        return parse_time(str(text)) if text else None
    except ValueError:
        return None


def estimate_days(
    provider: str, records: Iterable[Mapping[str, Any]], now: datetime, table: Mapping[str, Any] = PRICE_TABLE
) -> list[dict[str, Any]]:
    """Estimated cost per day and service over :func:`billing_period` (see the module docstring).

    Each record adds its hourly price for the hours it existed in each day (partial first day and
    today); full days go through a difference array, so the work is O(records + days x services).
    """
    start, today = billing_period(now.date())
    days = (today - start).days + 1
    origin = datetime.combine(start, time(), UTC)
    full: dict[str, list[float]] = {}  # service -> difference array of full-day costs
    partial: dict[str, list[float]] = {}  # service -> partial-day costs
    today_hours = (now - datetime.combine(today, time(), UTC)).total_seconds() / 3600
    for record in records:
        priced = record_hourly(provider, record, table)
        if priced is None:
            continue
        service, rate = priced
        begin = max(_parse(record.get("created_at")) or origin, origin)
        if begin >= now:
            continue
        first = (begin.date() - start).days
        diff = full.setdefault(service, [0.0] * (days + 1))
        part = partial.setdefault(service, [0.0] * days)
        if first == days - 1:
            part[first] += rate * (now - begin).total_seconds() / 3600
            continue
        next_midnight = datetime.combine(begin.date() + timedelta(days=1), time(), UTC)
        part[first] += rate * (next_midnight - begin).total_seconds() / 3600
        diff[first + 1] += rate * 24
        diff[days - 1] -= rate * 24
        part[days - 1] += rate * today_hours
    running = {service: 0.0 for service in full}
    out: list[dict[str, Any]] = []
    for index in range(days):
        services: dict[str, float] = {}
        for service, diff in full.items():
            running[service] += diff[index]
            amount = round(running[service] + partial[service][index], 4)
            if amount > 0:
                services[service] = amount
        out.append({"date": (start + timedelta(days=index)).isoformat(), "services": services})
    return out


def cost_explorer_days(periods: Iterable[tuple[str, Mapping[str, float]]], now: datetime) -> list[dict[str, Any]]:
    """Cost Explorer's DAILY periods (start date, cost per service) as the billing days of the period.

    Days Cost Explorer left out are present with no services; services that cost 0 are left out.
    """
    start, today = billing_period(now.date())
    by_day: dict[str, dict[str, float]] = {}
    for day, groups in periods:
        bucket = by_day.setdefault(day[:10], {})
        for service, amount in groups.items():
            bucket[service] = bucket.get(service, 0.0) + float(amount)
    out = []
    for index in range((today - start).days + 1):
        day = (start + timedelta(days=index)).isoformat()
        services = {k: round(v, 4) for k, v in sorted(by_day.get(day, {}).items()) if round(v, 4) > 0}
        out.append({"date": day, "services": services})
    return out


def billing_document(
    credential: str,
    provider: str,
    source: str,
    days: Sequence[Mapping[str, Any]],
    generated_at: datetime,
    *,
    note: str,
    price_table: str | None = None,
    currency: str = "USD",
    inventory: str | None = None,
) -> dict[str, Any]:
    """The ``billing.json`` document (the facade's /billing views read it); ``inventory`` is the estimate's
    :func:`inventory_digest`."""
    return {
        "credential": credential,
        "provider": provider,
        "source": source,
        "priceTable": price_table if source == "estimate" else None,
        "currency": currency,
        "generatedAt": format_time(generated_at),
        "days": [dict(day) for day in days],
        "note": note,
        "inventoryDigest": inventory if source == "estimate" else None,
    }


def inventory_digest(records: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 of the records as stored (key order aside): equal digests, equal estimates on the same clock."""
    text = json.dumps(list(records), separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def same_billing(stored: Mapping[str, Any] | None, document: Mapping[str, Any]) -> bool:
    """Whether ``document`` says what ``stored`` (the ConfigMap's, or None) already says: every field but
    ``generatedAt`` (days and their totals, source, price table, note, inventory digest)."""
    if stored is None:
        return False
    return {k: v for k, v in stored.items() if k != "generatedAt"} == {
        k: v for k, v in document.items() if k != "generatedAt"
    }


def billing_configmap_name(credential: str) -> str:
    """``<credential>-billing``, within the 253-character limit."""
    suffix = "-billing"
    if len(credential) + len(suffix) <= 253:
        return credential + suffix
    short = hashlib.sha256(credential.encode()).hexdigest()[:8]
    return f"{credential[: 253 - len(suffix) - 9]}-{short}{suffix}"


def billing_configmap(credential: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The ConfigMap holding ``billing.json``: labelled for the facade's cache, owned by the credential."""
    name = credential["metadata"]["name"]
    data = {"billing.json": json.dumps(document, separators=(",", ":"), sort_keys=True)}
    return owned_configmap(credential, billing_configmap_name(name), {BILLING_LABEL: name}, data)


def why_refresh_billing(
    spec: CloudCredentialSpec,
    status: CloudCredentialStatus,
    *,
    inventory_synced: bool,
    revalidated: str | None,
    retry: RetryState,
    now: datetime,
    billed: datetime | None = None,
) -> str | None:
    """Why billing must be recomputed now (only asked once the credential is valid), or None.
    ``status`` carries this pass's conditions; ``billed`` is when the last successful refresh ran (the
    daemon's memory: ``status.billing.lastSyncTime`` moves only with a new document or the heartbeat).

    Due when never computed, at once on a rotation / spec change / reconcile request, after a failure's
    backoff, after every inventory sync when the last result was an estimate (it is free; the handler
    skips it when the records did not change, :func:`estimate_is_current`), and every
    ``spec.billing.intervalSeconds`` (Cost Explorer requests are charged by AWS).
    """
    billing = spec.billing
    if billing is None or not billing.enabled:
        return None
    current = status.billing
    if revalidated in _REFRESH_AT_ONCE:
        return revalidated
    if retry.not_before is not None:
        return "retrying after a failure" if now >= retry.not_before else None
    last = _latest(current.last_sync_time if current else None, billed)
    if current is None or last is None:
        return "never computed"
    condition = next((c for c in status.conditions if c.type == "BillingSynced"), None)
    if condition is None or condition.status != "True":
        return "the last refresh did not succeed"
    if inventory_synced and current.source == "estimate":
        return "the inventory was synced"
    if now - last >= timedelta(seconds=billing.interval_seconds):
        return "the billing interval elapsed"
    if last.date() != now.date():
        return "a new day began"
    return None


def _latest(status_time: datetime | None, billed: datetime | None) -> datetime | None:
    """The later of the status time and the daemon's memory (either may be unknown)."""
    known = [time for time in (status_time, billed) if time is not None]
    return max(known) if known else None


def estimate_is_current(stored: Mapping[str, Any] | None, digest: str, price_table: str) -> bool:
    """Whether the stored document is an estimate of exactly these records (:func:`inventory_digest`) with
    this price table: an inventory sync that brought nothing new needs no new estimate."""
    return (
        stored is not None
        and stored.get("source") == "estimate"
        and stored.get("inventoryDigest") == digest
        and stored.get("priceTable") == price_table
    )


def seconds_until_billing(
    spec: CloudCredentialSpec,
    status: CloudCredentialStatus,
    retry: RetryState,
    now: datetime,
    billed: datetime | None = None,
) -> float | None:
    """Seconds until billing is next due (interval, next midnight UTC or a retry); None when off.
    ``billed`` as in :func:`why_refresh_billing`."""
    billing = spec.billing
    if billing is None or not billing.enabled:
        return None
    if retry.not_before is not None:
        return max(1.0, (retry.not_before - now).total_seconds())
    last = _latest(status.billing.last_sync_time if status.billing else None, billed)
    if last is None:
        return 1.0
    due = min(
        last + timedelta(seconds=billing.interval_seconds),
        datetime.combine(last.date() + timedelta(days=1), time(), UTC),
    )
    return max(1.0, (due - now).total_seconds())


def billing_condition(
    spec: CloudCredentialSpec,
    conditions: Sequence[Mapping[str, Any]],
    validated: bool,
    error: tuple[str, str] | None,
    done: tuple[str, str] | None,
) -> ConditionUpdate | None:
    """BillingSynced after this pass; None when nothing new is known (keep it, or none when never on).

    ``error`` is (reason, message) of a failed refresh; ``done`` (source, message) of a successful one.
    """
    had = any(c["type"] == "BillingSynced" for c in conditions)
    if spec.billing is None or not spec.billing.enabled:
        return (
            ConditionUpdate("BillingSynced", True, "Disabled", "billing is off (spec.billing.enabled)") if had else None
        )
    if not validated:
        return ConditionUpdate("BillingSynced", False, "NotValidated", "waiting for a valid credential")
    if error is not None:
        return ConditionUpdate("BillingSynced", False, reason_of(error[0]), error[1])
    if done is not None:
        reason = "CostExplorer" if done[0] == "cost-explorer" else "Estimated"
        return ConditionUpdate("BillingSynced", True, reason, done[1])
    return None
