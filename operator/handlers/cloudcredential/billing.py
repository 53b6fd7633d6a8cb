"""CloudCredential billing I/O: Cost Explorer or the stored inventory in, the ``<name>-billing`` ConfigMap out.

Called by the CloudCredential daemon once per pass (see handlers.cloudcredential); every decision is in
``reconcile.billing``. Provider aws with ``spec.billing.source`` auto asks Cost Explorer (GetCostAndUsage,
DAILY, by SERVICE) and uses its answer when it has cost data; when Cost Explorer has none or refuses
(permission, data unavailable) the estimate is used and its note says why. A transient Cost Explorer
failure keeps the last document and retries with backoff. Every other provider is estimated from the
inventory ConfigMaps and the price table. At rest nothing is written: a refresh that yields the stored
document's content again leaves the ConfigMap, ``status.billing`` and the condition as they are
(``status.billing.lastSyncTime`` then moves only on the ``DAYTWO_STATUS_HEARTBEAT_SECONDS`` heartbeat), and
an inventory sync with the same records does not recompute the estimate (``reconcile.billing``). Failures
become ``BillingSynced=False`` with the error's reason; they never stop the daemon and never carry a Secret
value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from daytwo.crds.base import Condition
from daytwo.crds.cloudcredential import (
    BillingSource,
    BillingStatus,
    CloudCredentialSpec,
    CloudCredentialStatus,
    Provider,
)
from kubernetes.client.exceptions import ApiException

from ...backends.aws import AwsBackend
from ...errors import BackendError
from ...reconcile.billing import (
    billing_condition,
    billing_configmap,
    billing_configmap_name,
    billing_document,
    billing_period,
    cost_explorer_days,
    estimate_days,
    estimate_is_current,
    inventory_digest,
    same_billing,
    seconds_until_billing,
    why_refresh_billing,
)
from ...reconcile.cloudcredential import RetryState, after_attempt
from ...reconcile.conditions import ConditionUpdate
from ...shared.prices import PRICE_TABLE_ID
from .inventory_store import delete_billing, read_billing, read_inventory, write_billing

__all__ = ["BillingPass", "seconds_until_billing"]

log = logging.getLogger(__name__)


class _Failed(Exception):
    def __init__(self, reason: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.reason, self.message, self.retryable = reason, message, retryable


@dataclass
class BillingPass:
    """Billing for one pass of one credential; ``run`` returns the BillingSynced update (or None).

    ``billed`` is when billing last refreshed successfully (the daemon's memory, read and updated by the
    pass); ``heartbeat`` how long an unchanged document may leave ``status.billing.lastSyncTime`` alone."""

    obj: Mapping[str, Any]
    spec: CloudCredentialSpec
    account: Callable[[], object]
    now: datetime
    backoff: tuple[float, float]
    heartbeat: timedelta = timedelta(hours=1)
    billed: datetime | None = None
    core: Any = None  # the CoreV1Api for the ConfigMaps (the process's when None)

    def run(
        self,
        status: CloudCredentialStatus,
        conditions: Sequence[Mapping[str, Any]],
        after: CloudCredentialStatus,
        *,
        valid: bool,
        inventory_synced: bool,
        revalidated: str | None,
        retry: RetryState,
    ) -> tuple[ConditionUpdate | None, RetryState]:
        """Refresh when due; status.billing into ``after``; (condition update, retry state after).
        ``status`` is the status read, ``conditions`` this pass's so far."""
        spec, meta = self.spec, self.obj["metadata"]
        billing = spec.billing
        if billing is None or not billing.enabled:
            if status.billing is not None:
                delete_billing(meta["namespace"], meta["name"], self.core)  # turned off: drop the stale document
                after.billing = None
            return billing_condition(spec, conditions, valid, None, None), RetryState()
        error: tuple[str, str] | None = None
        done: tuple[str, str] | None = None
        if valid:
            current = [Condition.model_validate(condition) for condition in conditions]
            why = why_refresh_billing(
                spec,
                status.model_copy(update={"conditions": current}),
                inventory_synced=inventory_synced,
                revalidated=revalidated,
                retry=retry,
                now=self.now,
                billed=self.billed,
            )
            if why is not None:
                log.info("billing of %s/%s: %s", meta["namespace"], meta["name"], why)
                try:
                    try:
                        done = self.refresh(status, after, why)
                    except ApiException as api_error:  # reading the inventory or writing the ConfigMap
                        message = f"Kubernetes API: {api_error.status} {api_error.reason}"
                        raise _Failed("KubernetesError", message, True) from None
                    retry = RetryState()
                    self.billed = self.now
                except _Failed as failed:
                    log.warning("billing of %s/%s failed: %s", meta["namespace"], meta["name"], failed.reason)
                    error = (failed.reason, failed.message)
                    interval = float(billing.interval_seconds)
                    retry = after_attempt(retry, True, failed.retryable, self.now, self.backoff, interval)
        return billing_condition(spec, conditions, valid, error, done), retry

    def refresh(self, status: CloudCredentialStatus, after: CloudCredentialStatus, why: str) -> tuple[str, str]:
        """Compute and store the document (when its content changed); (source, message) or raise _Failed.
        The message says nothing that moves between passes with the same content (no times)."""
        spec, meta = self.spec, self.obj["metadata"]
        stored = read_billing(meta["namespace"], meta["name"], self.core)
        wanted = spec.billing.source if spec.billing else BillingSource.AUTO
        provider = str(spec.provider)
        why_estimate = ""
        if spec.provider == Provider.AWS and wanted in (BillingSource.AUTO, BillingSource.COST_EXPLORER):
            periods, problem = self.cost_explorer(strict=wanted == BillingSource.COST_EXPLORER)
            if periods is not None:
                days = cost_explorer_days(periods, self.now)
                note = "AWS Cost Explorer GetCostAndUsage (UnblendedCost, daily, by service)"
                document = billing_document(meta["name"], "aws", "cost-explorer", days, self.now, note=note)
                self.store(status, after, document, stored)
                total = sum(sum(day["services"].values()) for day in days)
                return "cost-explorer", f"Cost Explorer: {total:.2f} USD since {days[0]['date']}"
            why_estimate = f"; {problem}"
        found = read_inventory(meta["namespace"], meta["name"], self.core)
        if found is None:
            raise _Failed(
                "NoInventory", "an estimate needs the synced inventory; waiting for InventorySynced", retryable=True
            )
        records, _ = found
        digest = inventory_digest(records)
        if (
            why == "the inventory was synced"
            and stored is not None
            and estimate_is_current(stored, digest, PRICE_TABLE_ID)
        ):
            self.keep(status, after, stored)  # the same records: the same estimate until the interval or day
            return "estimate", str(stored.get("note") or "")
        days = estimate_days(provider, records, self.now)
        note = f"estimated from {len(records)} inventory records with price table {PRICE_TABLE_ID}{why_estimate}"
        document = billing_document(
            meta["name"], provider, "estimate", days, self.now, note=note, price_table=PRICE_TABLE_ID, inventory=digest
        )
        self.store(status, after, document, stored)
        return "estimate", note

    def cost_explorer(self, *, strict: bool) -> tuple[list[tuple[str, Mapping[str, float]]] | None, str]:
        """Cost Explorer's daily periods, or (None, why not) when it has no data or refuses (auto mode)."""
        account = self.account()
        if not isinstance(account, AwsBackend):
            raise _Failed("InvalidCredential", "Cost Explorer needs an AWS credential", retryable=False)
        start, today = billing_period(self.now.date())
        try:
            report = account.costs(start, today + timedelta(days=1), granularity="DAILY", group_by="SERVICE")
        except BackendError as error:
            if error.retryable or strict:
                raise _Failed(error.reason, error.message, error.retryable) from None
            return None, f"Cost Explorer refused ({error.reason})"
        if report.periods:
            return [(period.start, period.groups) for period in report.periods], ""
        if strict:
            raise _Failed("NoData", f"Cost Explorer has no cost data since {start}", retryable=False)
        return None, f"Cost Explorer has no cost data since {start}"

    def store(
        self,
        status: CloudCredentialStatus,
        after: CloudCredentialStatus,
        document: Mapping[str, Any],
        stored: Mapping[str, Any] | None,
    ) -> None:
        """Write the ConfigMap and status.billing (into ``after``) unless ``stored`` already says the same."""
        if stored is not None and same_billing(stored, document):
            self.keep(status, after, stored)
            return
        body = billing_configmap(self.obj, document)
        write_billing(self.obj["metadata"]["namespace"], body, self.core)
        after.billing = BillingStatus(
            last_sync_time=document["generatedAt"],
            source=document["source"],
            price_table=document["priceTable"],
            config_map=body["metadata"]["name"],
        )

    def keep(self, status: CloudCredentialStatus, after: CloudCredentialStatus, stored: Mapping[str, Any]) -> None:
        """No write: status.billing (into ``after``) describes ``stored``; its lastSyncTime moves only when
        unknown or ``heartbeat`` old (a coarse "still current" mark, like the other status times)."""
        old = status.billing.last_sync_time if status.billing else None
        due = old is None or self.now - old >= self.heartbeat
        after.billing = BillingStatus(
            last_sync_time=self.now if due else old,
            source=stored.get("source"),
            price_table=stored.get("priceTable"),
            config_map=billing_configmap_name(self.obj["metadata"]["name"]),
        )
