"""CloudCredential decisions: when to revalidate and resync, which conditions follow, how inventory is stored.

Pure: the handler reads the object (status parsed into :class:`CloudCredentialStatus`), the Secret's
resourceVersion and the cloud's answers, passes them in, and carries out what comes back. Revalidation
is due when the Secret's resourceVersion differs from ``status.secretResourceVersion`` (a rotation, seen
within seconds through the Secret watch), the spec changed, a reconcile was requested, a retry's backoff
elapsed, or ``spec.validationIntervalSeconds`` passed since the last validation.

When validation and the inventory sync last ran is kept in the handler's memory (:class:`LastRuns`), not
read from status: ``status.lastValidatedTime`` and ``status.inventory.lastSyncTime`` move only along with
a change a user can observe, or once the status heartbeat is due (:func:`at_rest`), so a credential at
rest writes no status. A restarted operator falls back to the status times (and may revalidate once).

Inventory lives in ConfigMaps, not in status: ``<name>-inventory`` holds ``manifest.json`` (provider,
syncedAt, counts, the chunk names with a digest of each) and the first chunk of records; further chunks
are ``<name>-inventory-<n>``. Each chunk's ``records.json`` stays under :data:`CHUNK_BYTES`, well inside
the 1 MiB object limit. Records carry no per-record sync time (``manifest.syncedAt`` is every record's
``last_synced``), so an unchanged estate rewrites only the head ConfigMap.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.base import MAX_STATUS_LIST
from daytwo.crds.cloudcredential import (
    CloudCredentialSpec,
    CloudCredentialStatus,
    CredentialUser,
    Identity,
    InventoryStatus,
    InventorySync,
)

from ..shared.times import format_time
from .chunked import CHUNK_BYTES, MANIFEST_FORMAT, chunk_name, chunk_records, chunked_configmaps, configmap_changes
from .conditions import ConditionUpdate
from .references import missing_reference_condition, secret_refs
from .secretaccess import REFUSAL_REASONS

__all__ = [
    "AUTH_RETRY_CAP",
    "CHUNK_BYTES",
    "EXPIRY_WARNING",
    "INVENTORY_LABEL",
    "MANIFEST_FORMAT",
    "RETRIED_REJECTIONS",
    "TERMINAL_REASONS",
    "LastRuns",
    "Observed",
    "RetryState",
    "Validation",
    "after_attempt",
    "after_validation",
    "at_rest",
    "chunk_records",
    "configmap_changes",
    "configmap_name",
    "identity_status",
    "inventory_condition",
    "inventory_configmaps",
    "inventory_status",
    "reason_of",
    "seconds_until_next",
    "secret_problem",
    "status_time",
    "summary_conditions",
    "user_entries",
    "users_status",
    "validated_condition",
    "why_sync_inventory",
    "why_validate",
]

#: Validated turns to reason Expiring this long before a credential's own (non-renewable) expiry.
EXPIRY_WARNING = timedelta(days=7)
#: Reasons a person has to fix; the others heal by themselves (Stalled is True only for these).
TERMINAL_REASONS = frozenset(
    {"SecretNotFound", "KeyMissing", "AuthFailed", "PermissionDenied", "TLSVerificationFailed", "InvalidCredential"}
    | REFUSAL_REASONS
)
#: Cloud rejections retried with backoff (they may heal on the cloud's side), see :func:`after_validation`.
RETRIED_REJECTIONS = frozenset({"AuthFailed"})
#: The longest wait between retries of a rejected credential (fewer failed logins than a lockout policy counts).
AUTH_RETRY_CAP = timedelta(minutes=30)
#: Backend error reasons as Validated/InventorySynced reasons.
_REASONS = {"CredentialsNotFound": "KeyMissing", "InvalidRequest": "InvalidCredential"}
INVENTORY_LABEL = "daytwo.io/credential"
INVENTORY_SUFFIX = "-inventory"


@dataclass(frozen=True)
class Observed:
    """What the handler saw this pass, besides the object itself."""

    generation: int | None
    secret_version: str | None  # None: the Secret does not exist
    reconcile_token: str | None
    now: datetime


@dataclass(frozen=True)
class RetryState:
    """Backoff after retryable failures (kept in memory: a restarted operator simply tries at once)."""

    failures: int = 0
    not_before: datetime | None = None


@dataclass(frozen=True)
class LastRuns:
    """When the last validation that reached the cloud and the last successful inventory sync ran (kept in
    the daemon's memory; the status times lag them by up to the heartbeat)."""

    validated: datetime | None = None
    synced: datetime | None = None

    def or_status(self, status: CloudCredentialStatus) -> LastRuns:
        """These times, or the status times where memory has none (the first pass after a restart)."""
        synced = status.inventory.last_sync_time if status.inventory else None
        return LastRuns(self.validated or status.last_validated_time, self.synced or synced)


@dataclass(frozen=True)
class Validation:
    """How one validation call ended: ``reason`` None means the cloud accepted the credential."""

    reason: str | None
    message: str
    reached_cloud: bool
    retryable: bool = False


def reason_of(error_reason: str) -> str:
    """A backend error's reason as the condition reason (CredentialsNotFound -> KeyMissing...)."""
    return _REASONS.get(error_reason, error_reason)


def secret_problem(
    spec: CloudCredentialSpec, secrets: Mapping[str, set[str] | None], not_allowed: Collection[str] = ()
) -> ConditionUpdate | None:
    """Validated=False (SecretNotFound / SecretNotAllowed / KeyMissing) when a Secret the spec names is
    missing, lacks the opt-in label ``daytwo.io/credential=true``, or lacks a key.

    ``secrets`` maps each Secret name to its key names (None when it does not exist); ``not_allowed``
    names the Secrets without the label.
    """
    body = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    refs = {ref: secrets.get(ref.name) for ref in secret_refs("CloudCredential", body)}
    missing = missing_reference_condition({}, refs, not_allowed)
    if missing is None:
        return None
    return ConditionUpdate("Validated", False, missing.reason, missing.message)


def why_validate(
    spec: CloudCredentialSpec,
    status: CloudCredentialStatus,
    observed: Observed,
    retry: RetryState,
    runs: LastRuns | None = None,
) -> str | None:
    """Why the credential must be validated now, or None when it need not be. The interval counts from
    ``runs.validated`` (the handler's memory), else from ``status.lastValidatedTime``."""
    if status.secret_resource_version != observed.secret_version:
        return "the Secret changed" if status.secret_resource_version else "first validation"
    if status.observed_generation != observed.generation:
        return "the spec changed"
    if observed.reconcile_token is not None and observed.reconcile_token != status.last_handled_reconcile_at:
        return "a reconcile was requested"
    if retry.not_before is not None:
        return "retrying after a failure" if observed.now >= retry.not_before else None
    last = (runs or LastRuns()).or_status(status).validated
    if last is None:
        return "never validated"
    if observed.now - last >= timedelta(seconds=spec.validation_interval_seconds):
        return "the validation interval elapsed"
    return None


def why_sync_inventory(
    spec: CloudCredentialSpec,
    status: CloudCredentialStatus,
    revalidated: str | None,
    retry: RetryState,
    now: datetime,
    runs: LastRuns | None = None,
) -> str | None:
    """Why the inventory must be synced now (only asked once the credential is valid), or None.

    ``status`` carries this pass's conditions. ``revalidated`` is why validation ran this pass (None when
    it did not): a rotated Secret or a changed spec resyncs at once; a periodic revalidation does not. A
    sync that failed is retried after ``retry`` (a backoff, or the interval for a terminal failure). The
    interval counts from ``runs.synced`` (the handler's memory), else from ``status.inventory.lastSyncTime``.
    """
    inventory = spec.inventory
    if not inventory.enabled:
        return None
    synced = status.inventory or InventoryStatus()
    if synced.last_sync_time is None:
        return "never synced"
    if set(synced.counts or {}) != {str(kind) for kind in inventory.kinds or InventorySync().kinds}:
        return "the kinds changed"
    if revalidated in ("the Secret changed", "the spec changed", "a reconcile was requested"):
        return revalidated
    if retry.not_before is not None:
        return "retrying after a failure" if now >= retry.not_before else None
    current = next((c for c in status.conditions if c.type == "InventorySynced"), None)
    if current is None or current.reason != "Synced":
        return "the last sync did not succeed"
    last = (runs or LastRuns()).or_status(status).synced or synced.last_sync_time
    if now - last >= timedelta(seconds=inventory.interval_seconds):
        return "the inventory interval elapsed"
    return None


def seconds_until_next(
    spec: CloudCredentialSpec,
    status: CloudCredentialStatus,
    retries: Sequence[RetryState],
    now: datetime,
    cap: float,
    runs: LastRuns | None = None,
) -> float:
    """Seconds until validation, inventory or a retry is next due; at most ``cap``, at least one. Intervals
    count from ``runs`` (the handler's memory), else from the status times."""
    due: list[datetime] = [retry.not_before for retry in retries if retry.not_before is not None]
    last = (runs or LastRuns()).or_status(status)
    if last.validated is not None:
        due.append(last.validated + timedelta(seconds=spec.validation_interval_seconds))
    if spec.inventory.enabled and last.synced is not None:
        due.append(last.synced + timedelta(seconds=spec.inventory.interval_seconds))
    wait = min([(moment - now).total_seconds() for moment in due], default=cap)
    return max(1.0, min(cap, wait))


def at_rest(
    read: CloudCredentialStatus, after: CloudCredentialStatus, now: datetime, heartbeat: timedelta
) -> CloudCredentialStatus:
    """``after`` with ``lastValidatedTime`` and ``inventory.lastSyncTime`` put back to their values in
    ``read`` (the status as read) unless this pass changed something else a user can observe (identity,
    expiry, Secret version or binding, counts, users, conditions...) or one of the moved times is
    ``heartbeat`` old: a pass that only repeated what status already says writes no status."""
    read_synced = read.inventory.last_sync_time if read.inventory else None
    after_synced = after.inventory.last_sync_time if after.inventory else None
    pairs = ((read.last_validated_time, after.last_validated_time), (read_synced, after_synced))
    moved = [old for old, new in pairs if new is not None and old != new]
    if not moved or any(old is None or now - old >= heartbeat for old in moved):
        return after
    kept = after.model_copy(update={"last_validated_time": read.last_validated_time or after.last_validated_time})
    if after.inventory is not None:
        kept.inventory = after.inventory.model_copy(update={"last_sync_time": read_synced or after_synced})
    fields = tuple(type(read).model_fields)
    return after if kept.patch_of(*fields) != read.patch_of(*fields) else kept


def after_attempt(
    retry: RetryState, failed: bool, retryable: bool, now: datetime, backoff: tuple[float, float], wait: float
) -> RetryState:
    """The retry state after an attempt: cleared on success; doubled ``backoff`` (base, cap) seconds after a
    transient failure; ``wait`` seconds (the interval) after a terminal one, which a rotation or spec
    change cuts short."""
    if not failed:
        return RetryState()
    if not retryable:
        return RetryState(0, now + timedelta(seconds=wait))
    base, cap = backoff
    delay = min(cap, base * 2.0**retry.failures)
    return RetryState(retry.failures + 1, now + timedelta(seconds=delay))


def after_validation(
    retry: RetryState,
    result: Validation,
    now: datetime,
    backoff: tuple[float, float],
    interval: float,
    auth_retry_seconds: float,
) -> RetryState:
    """The retry state after a validation: like :func:`after_attempt`, except that a rejected credential
    (AuthFailed: a revoked password, a disabled user) is retried with backoff, from ``auth_retry_seconds``
    doubling up to the validation interval (at most :data:`AUTH_RETRY_CAP`), instead of waiting a whole
    interval for a fix that is often made on the cloud's side, where no Secret or spec change wakes it."""
    if result.reason in RETRIED_REJECTIONS:
        cap = max(auth_retry_seconds, min(interval, AUTH_RETRY_CAP.total_seconds()))
        return after_attempt(retry, True, True, now, (auth_retry_seconds, cap), interval)
    return after_attempt(retry, result.reason is not None, result.retryable, now, backoff, interval)


def validated_condition(
    result: Validation, expires_at: datetime | None, renewable: bool, now: datetime
) -> ConditionUpdate:
    """Validated from one validation call; Expiring when a non-renewable expiry is near."""
    if result.reason is not None:
        return ConditionUpdate("Validated", False, reason_of(result.reason), result.message)
    if expires_at is not None and not renewable and expires_at - now <= EXPIRY_WARNING:
        return ConditionUpdate(
            "Validated",
            True,
            "Expiring",
            f"{result.message}; the credential expires at {format_time(expires_at)}: rotate the Secret before then",
        )
    return ConditionUpdate("Validated", True, "Validated", result.message)


def inventory_condition(
    spec: CloudCredentialSpec, validated: bool, error: tuple[str, str] | None, counts: Mapping[str, int] | None
) -> ConditionUpdate | None:
    """InventorySynced after this pass; None when nothing new is known (keep the current condition).

    ``error`` is (reason, message) of a failed sync, ``counts`` the counts of a successful one.
    """
    if not spec.inventory.enabled:
        return ConditionUpdate("InventorySynced", True, "Disabled", "inventory sync is off (spec.inventory.enabled)")
    if not validated:
        return ConditionUpdate("InventorySynced", False, "NotValidated", "waiting for a valid credential")
    if error is not None:
        return ConditionUpdate("InventorySynced", False, reason_of(error[0]), error[1])
    if counts is not None:
        described = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        return ConditionUpdate("InventorySynced", True, "Synced", f"synced {described or 'nothing'}")
    return None


def summary_conditions(conditions: Sequence[Mapping[str, Any]], retrying: bool) -> list[ConditionUpdate]:
    """Ready, Stalled and Reconciling from Validated and InventorySynced (after this pass's updates)."""
    by_type = {c["type"]: c for c in conditions}
    validated, inventory = by_type.get("Validated"), by_type.get("InventorySynced")
    failing = next((c for c in (validated, inventory) if c is not None and c["status"] != "True"), None)
    if failing is None and validated is not None and inventory is not None:
        expiring = validated["reason"] == "Expiring"
        reason = "Expiring" if expiring else "Ready"
        message = validated["message"] if expiring else "validated and inventory synced"
        return [
            ConditionUpdate("Ready", True, reason, message),
            ConditionUpdate("Stalled", False, reason),
            ConditionUpdate("Reconciling", False, reason),
        ]
    reason = failing["reason"] if failing else "Validating"
    message = failing["message"] if failing else "not validated yet"
    return [
        ConditionUpdate("Ready", False, reason, message),
        ConditionUpdate("Stalled", reason in TERMINAL_REASONS, reason, message),
        ConditionUpdate("Reconciling", retrying or failing is None, "Retrying" if retrying else "Validating", message),
    ]


def identity_status(
    provider: str, principal: str, account: str | None, tenant: str | None, project: str | None
) -> Identity:
    """status.identity (only the fields the cloud told: empty ones stay unset)."""
    return Identity(
        principal=principal or None, account=account or None, tenant=tenant or None, project=project or None
    )


def user_entries(users: Sequence[str]) -> list[CredentialUser]:
    """status.users from "Kind/name" strings: sorted and unique (a stable order: no rewrite at rest),
    at most MAX_STATUS_LIST."""
    entries = [
        CredentialUser(kind=kind, name=name) for kind, name in (user.split("/", 1) for user in sorted(set(users)))
    ]
    return entries[:MAX_STATUS_LIST]


def users_status(users: Sequence[str]) -> list[dict[str, str]]:
    """status.users as JSON (see :func:`user_entries`), for writers that patch it alone."""
    return [{"kind": user.kind, "name": user.name} for user in user_entries(users)]


def status_time(moment: datetime) -> datetime:
    """``moment`` as status times are written: UTC, second precision (what a re-read parses back)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def inventory_status(synced_at: datetime, counts: Mapping[str, int], config_map: str) -> InventoryStatus:
    """status.inventory after a successful sync."""
    return InventoryStatus(last_sync_time=status_time(synced_at), counts=dict(counts), config_map=config_map)


# ---------------------------------------------------------------------- inventory ConfigMaps


def configmap_name(credential: str, index: int) -> str:
    """Name of chunk ``index`` (0 = the head with the manifest), within the 253-character limit."""
    return chunk_name(credential, INVENTORY_SUFFIX, index)


def inventory_configmaps(
    credential: Mapping[str, Any], provider: str, chunks: Sequence[str], counts: Mapping[str, int], synced_at: datetime
) -> list[dict[str, Any]]:
    """The ConfigMaps of one sync, head first; labelled with the credential and owned by it (GC'd with it)."""
    return chunked_configmaps(
        credential,
        label=INVENTORY_LABEL,
        suffix=INVENTORY_SUFFIX,
        provider=provider,
        chunks=chunks,
        counts=counts,
        synced_at=synced_at,
    )
