"""CloudCredential: one Kopf daemon per object validates the credential, keeps status and syncs inventory.

Each pass takes the object as the watch delivered it (``polling.own_object``: a GET only while the watch
has not delivered the pass's own last status write) and the key names of its Secret(s) from the in-memory
Secret index (``references_index``; never the values unless a cloud call is due, read where the client is
built). A missing, refused or incomplete Secret backs off exponentially (``polling.BackOff``) until the
Secret changes. It asks ``reconcile.cloudcredential`` what is due, calls the provider through
``credentials.cloud_account`` in a worker thread, and writes status only when it changed. A watch on
Secrets wakes the daemons of the credentials that name the changed Secret, so a rotation is revalidated
within seconds; spec changes and the reconcile annotation wake it the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
from daytwo.crds.base import Condition
from daytwo.crds.cloudcredential import CloudCredentialSpec, CloudCredentialStatus, Provider
from daytwo.crds.secrets import SecretBinding

from ...backends.records import CloudIdentity
from ...errors import BackendError
from ...kube import SecretRead, kube_client
from ...reconcile.cloudcredential import (
    LastRuns,
    Observed,
    RetryState,
    Validation,
    after_attempt,
    after_validation,
    at_rest,
    chunk_records,
    identity_status,
    inventory_condition,
    inventory_configmaps,
    inventory_status,
    seconds_until_next,
    secret_problem,
    status_time,
    summary_conditions,
    user_entries,
    validated_condition,
    why_sync_inventory,
    why_validate,
)
from ...reconcile.conditions import ConditionUpdate, apply_conditions, ready_changed
from ...reconcile.lifecycle import RECONCILE_ANNOTATION
from ...reconcile.references import SecretMeta
from ...settings import OperatorSettings
from ..credentials import CloudAccount, ResolvedCredential, cloud_account, resolve_credential
from ..openstack_account import COMPUTE, COMPUTE_TYPES
from ..polling import BackOff, current_object, post_ready_change, register_polling, write_status
from ..references_index import secrets_of
from ..secretwatch import WATCH, unwatch_secrets, watch_secrets
from ..users_index import INDEX_ID, users_in
from .billing import BillingPass, seconds_until_billing
from .inventory_store import record_dict, write_inventory

__all__ = ["Cycle", "Memory", "register"]

KIND = "CloudCredential"
log = logging.getLogger(__name__)
#: Failures that are the cloud's own answer about the credential (they count as a validation).
_REACHED_CLOUD = frozenset({"AuthFailed", "PermissionDenied", "NotFound"})
#: Every status field: a pass writes those of them that differ from the status it read.
_STATUS_FIELDS = tuple(CloudCredentialStatus.model_fields)


def _conditions(conditions: list[dict[str, Any]]) -> list[Condition]:
    """Conditions as ``apply_conditions`` returns them, parsed into the status model."""
    return [Condition.model_validate(condition) for condition in conditions]


@dataclass
class Memory:
    """What one credential's daemon remembers between passes (lost on restart, which only retries sooner;
    ``runs`` then falls back to the status times, which lag by up to the heartbeat: one early revalidation)."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    runs: LastRuns = field(default_factory=LastRuns)
    validation: RetryState = field(default_factory=RetryState)
    inventory: RetryState = field(default_factory=RetryState)
    billing: RetryState = field(default_factory=RetryState)
    billed: datetime | None = None  # last successful billing refresh (status.billing.lastSyncTime lags it)


class Cycle:
    """One pass over one CloudCredential: check the Secret, validate and sync when due, write status."""

    def __init__(self, body: kopf.Body, namespace: str, name: str, memory: Memory, settings: OperatorSettings) -> None:
        self.body, self.namespace, self.name, self.memory, self.settings = body, namespace, name, memory, settings
        self.client = kube_client()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.resolved: ResolvedCredential | None = None
        self.users: list[str] = []  # "Kind/name" naming it, from the users index (read on the event loop)
        self.watched: dict[str, Any] | None = None  # the object as the watch delivered it
        #: name -> metadata (None: absent) of the Secrets it names, from the Secret index (on the event loop)
        self.secrets: dict[str, SecretMeta | None] | None = None

    def run(self) -> float:
        """Do one pass; returns seconds until the next one."""
        obj = current_object(self.client, KIND, self.namespace, self.name, self.watched)
        if obj is None:
            return self.settings.resync_seconds
        spec = CloudCredentialSpec.model_validate(obj["spec"])
        status = CloudCredentialStatus.model_validate(obj.get("status") or {})
        keys = self.secret_keys(obj["spec"])
        main = keys.get(spec.secret_ref.name)
        token = (obj["metadata"].get("annotations") or {}).get(RECONCILE_ANNOTATION)
        observed = Observed(obj["metadata"].get("generation"), main.resource_version if main else None, token, self.now)
        after = status.model_copy(update={"users": user_entries(self.users)})  # the status this pass leaves
        updates: list[ConditionUpdate] = []
        problem = secret_problem(
            spec,
            {name: set(found.keys) if found else None for name, found in keys.items()},
            {name for name, found in keys.items() if found is not None and not found.allowed},
        )
        revalidated: str | None = None
        if problem is not None:
            updates.append(problem)
            after.secret_resource_version = observed.secret_version
            self.memory.validation = RetryState()
        else:
            revalidated = why_validate(spec, status, observed, self.memory.validation, self.memory.runs)
            if revalidated is not None:
                log.info("validating %s/%s: %s", self.namespace, self.name, revalidated)
                updates.append(self.validate(spec, after, observed))
        before = [condition.to_k8s() for condition in status.conditions]
        conditions = apply_conditions(before, updates, observed.generation, self.now)
        valid = any(c["type"] == "Validated" and c["status"] == "True" for c in conditions)
        error, counts = None, None
        if valid:
            current = status.model_copy(update={"conditions": _conditions(conditions)})
            why = why_sync_inventory(spec, current, revalidated, self.memory.inventory, self.now, self.memory.runs)
            if why is not None:
                log.info("syncing inventory of %s/%s: %s", self.namespace, self.name, why)
                error, counts = self.sync_inventory(obj, spec, after)
        if not spec.inventory.enabled and status.inventory is not None:
            write_inventory(self.namespace, self.name, [])  # sync turned off: drop the stale inventory
            after.inventory = None
        inventory = inventory_condition(spec, valid, error, counts)
        if inventory is not None:
            conditions = apply_conditions(conditions, [inventory], observed.generation, self.now)
        heartbeat = timedelta(seconds=self.settings.status_heartbeat_seconds)
        billing_pass = BillingPass(
            obj, spec, self.account, self.now, self.backoff(), heartbeat=heartbeat, billed=self.memory.billed
        )
        billing, self.memory.billing = billing_pass.run(
            status,
            conditions,
            after,
            valid=valid,
            inventory_synced=counts is not None,
            revalidated=revalidated,
            retry=self.memory.billing,
        )
        self.memory.billed = billing_pass.billed
        if billing is not None:
            conditions = apply_conditions(conditions, [billing], observed.generation, self.now)
        retries = (self.memory.validation, self.memory.inventory, self.memory.billing)
        retrying = any(retry.not_before is not None for retry in retries)
        conditions = apply_conditions(
            conditions, summary_conditions(conditions, retrying), observed.generation, self.now
        )
        after.conditions = _conditions(conditions)
        after.observed_generation = observed.generation
        if token is not None:
            after.last_handled_reconcile_at = token
        after = at_rest(status, after, self.now, timedelta(seconds=self.settings.status_heartbeat_seconds))
        self.write(status, after)
        wait = seconds_until_next(spec, after, retries, self.now, self.settings.resync_seconds, self.memory.runs)
        billing_wait = (
            seconds_until_billing(spec, after, self.memory.billing, self.now, self.memory.billed) if valid else None
        )
        if problem is not None:
            return BackOff()  # a broken Secret: woken when it changes
        return wait if billing_wait is None else min(wait, billing_wait)

    def secret_keys(self, spec: dict[str, Any]) -> dict[str, SecretRead | SecretMeta | None]:
        """Metadata and key names (no values) of every Secret the spec names (from the Secret index when
        the daemon had it, else read), and register them with the watch."""
        names = watch_secrets(KIND, self.namespace, self.name, spec, {"wake": self.memory.wake})
        known = self.secrets
        if known is not None and set(known) == names:
            return {name: known[name] for name in sorted(names)}
        return {name: self.client.read_secret(self.namespace, name) for name in sorted(names)}

    def backoff(self) -> tuple[float, float]:
        """(first delay, cap) in seconds of the backoff after transient failures."""
        return 2.0, self.settings.retry_delay_seconds * 8

    def account(self) -> CloudAccount:
        """The provider client for the credential as it is now (the Secret read once per pass)."""
        if self.resolved is None:
            self.resolved = resolve_credential(self.namespace, self.name)
        return cloud_account(self.resolved)

    def validate(self, spec: CloudCredentialSpec, after: CloudCredentialStatus, observed: Observed) -> ConditionUpdate:
        """The provider's validation call; identity, lastValidatedTime and the Secret version into ``after``."""
        identity: CloudIdentity | None = None
        try:
            identity = self.account().validate()
        except BackendError as error:
            reached = error.reason in _REACHED_CLOUD
            result = Validation(error.reason, error.message, reached, error.retryable)
        else:
            described = f"authenticated as {identity.principal}" + (
                f" in {identity.account}" if identity.account else ""
            )
            result = Validation(None, described, True)
        after.secret_resource_version = (
            self.resolved.secret_resource_version if self.resolved else observed.secret_version
        )
        if self.resolved is not None and self.resolved.binding is not None:
            # the values were sent there
            after.secret_binding = SecretBinding.model_validate(self.resolved.binding.to_status())
        if result.reached_cloud:
            after.last_validated_time = self.now
            self.memory.runs = replace(self.memory.runs, validated=self.now)
        renewable = spec.provider == Provider.OPENSTACK or bool(spec.aws and spec.aws.assume_role_arn)
        if identity is not None:
            after.identity = identity_status(
                identity.provider, identity.principal, identity.account, identity.tenant, identity.project
            )
            expires = identity.expires_at
            after.expires_at = None if renewable or expires is None else status_time(expires)
        self.memory.validation = after_validation(
            self.memory.validation,
            result,
            self.now,
            self.backoff(),
            float(spec.validation_interval_seconds),
            self.settings.retry_delay_seconds,
        )
        if result.reason is not None:
            log.warning("%s/%s not validated: %s", self.namespace, self.name, result.reason)
        return validated_condition(result, identity.expires_at if identity else None, renewable, self.now)

    def sync_inventory(
        self, obj: dict[str, Any], spec: CloudCredentialSpec, after: CloudCredentialStatus
    ) -> tuple[tuple[str, str] | None, dict[str, int] | None]:
        """List the cloud and store the records in ConfigMaps (status.inventory into ``after``);
        (error reason and message) or counts."""
        kinds = [str(kind) for kind in spec.inventory.kinds]
        try:
            inventory = self.account().inventory(kinds)
        except BackendError as error:
            self.memory.inventory = after_attempt(
                self.memory.inventory,
                True,
                error.retryable,
                self.now,
                self.backoff(),
                float(spec.inventory.interval_seconds),
            )
            log.warning("inventory of %s/%s failed: %s", self.namespace, self.name, error.reason)
            return (error.reason, error.message), None
        counts = inventory.counts()
        if COMPUTE in kinds:
            counts[COMPUTE] = sum(1 for record in inventory.records if record.type in COMPUTE_TYPES)
        chunks = chunk_records([record_dict(record) for record in inventory.records])
        desired = inventory_configmaps(obj, str(spec.provider), chunks, counts, inventory.synced_at)
        heartbeat = timedelta(seconds=self.settings.status_heartbeat_seconds)  # an unchanged head keeps syncedAt
        created, replaced, deleted = write_inventory(self.namespace, self.name, desired, heartbeat=heartbeat)
        log.info(
            "inventory of %s/%s: %d records in %d ConfigMap(s) (%d created, %d replaced, %d deleted)",
            self.namespace,
            self.name,
            len(inventory.records),
            len(desired),
            created,
            replaced,
            deleted,
        )
        self.memory.inventory = RetryState()
        after.inventory = inventory_status(inventory.synced_at, counts, desired[0]["metadata"]["name"])
        self.memory.runs = replace(self.memory.runs, synced=after.inventory.last_sync_time)
        return None, counts

    def write(self, status: CloudCredentialStatus, after: CloudCredentialStatus) -> None:
        """Patch the fields of ``after`` that differ from ``status`` (as read); post an Event when Ready changes."""
        written = status.to_k8s()
        changes = after.patch_of(*_STATUS_FIELDS)
        write_status(self.client, KIND, self.namespace, self.name, written, changes)
        post_ready_change(self.body, ready_changed(status.to_k8s()["conditions"], changes["conditions"]))


def register(settings: OperatorSettings) -> None:
    """Register the CloudCredential daemon, the handler that wakes it on changes, and the Secret watch."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        memo = kwargs["memo"]
        memory: Memory = memo.setdefault("credential", Memory(wake=memo["wake"]))
        cycle = Cycle(kwargs["body"], str(kwargs["namespace"]), str(kwargs["name"]), memory, settings)
        cycle.users = users_in(kwargs[INDEX_ID], KIND, cycle.namespace, cycle.name)
        cycle.watched = kwargs["watched"]
        cycle.secrets = secrets_of(KIND, cycle.namespace, cycle.watched.get("spec") or {}, kwargs)
        return cycle.run

    def forget(kwargs: dict[str, Any]) -> None:
        unwatch_secrets(KIND, str(kwargs["namespace"]), str(kwargs["name"]))

    register_polling(KIND, "cloudcredentials", "sync", settings, make_pass, on_stop=forget)

    def watched(name: str, namespace: str | None, **_: Any) -> bool:
        return bool(WATCH.dependents(str(namespace), name))

    async def secret_changed(name: str, namespace: str | None, **_: Any) -> None:
        for wake in WATCH.dependents(str(namespace), name):
            wake.set()

    kopf.on.event("", "v1", "secrets", id="credential-secret", when=watched)(secret_changed)
