"""DriftRule and DriftEvent: one Kopf daemon per rule inventories OpenStack and records changes.

Each pass takes the rule as the watch delivered it (no GET), checks its credential from the in-memory
indexes of ``references_index`` (a broken reference backs off exponentially and is retried at once when
the credential or its Secret changes, with no apiserver or cloud call meanwhile; a usable one is not read
again while the indexed spec and Secret resourceVersion are those of its last read: ``resolve_credential``
with ``credential_view``), lists its resource
type through the OpenStack backend (one listing serves every rule of that type evaluating within
DAYTWO_DRIFT_LISTING_TTL_SECONDS, and every rule due while it is in flight waits for it), asks ``reconcile.drift``
what changed, creates one DriftEvent per change (deterministic name, owned by the rule), then
saves the baseline (ConfigMaps, see ``daytwo.operator.baselines``). Events are created before
the baseline is saved: a crash in between re-detects the same change under the same name, which
the apiserver refuses as existing, so every change is recorded exactly once.

Event counts come from a Kopf index over DriftEvents (no listing per pass); acknowledging an event
refreshes its rule's counts at once.

No status write at rest: a pass that finds nothing new writes nothing. ``status.lastEvaluationTime`` is a
coarse field: written along with any other change (first evaluation, drift found, a different number of
resources, conditions), else at most every ``DAYTWO_STATUS_HEARTBEAT_SECONDS`` (default an hour).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import kopf
from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.drift import DriftEventSpec, DriftRuleSpec, DriftRuleStatus

from ..backends.openstack import OpenStackBackend
from ..baselines import BaselineStore
from ..errors import BackendError
from ..kube import kube_client
from ..memory import trim
from ..reconcile.conditions import ConditionUpdate
from ..reconcile.drift import Listing, ListingObserver, ProjectInfo, RuleView, evaluate
from ..reconcile.driftbaseline import BaselineTables
from ..reconcile.references import REFERENCE_REASONS
from ..settings import OperatorSettings
from ..shared.times import format_time
from .credentials import openstack_backend
from .lifecycle import apply_status
from .polling import BackOff, PassInputs, PollingPass, register_polling, settled
from .references_index import CredentialView, credential_view, reference_check

__all__ = ["SharedListings", "configure_listings", "register"]

T = TypeVar("T")
RULE = "DriftRule"
#: DriftEvents of one pass are created this many at a time (each is one apiserver round trip).
EVENT_WRITERS = 8
#: Project and domain names change rarely; they are re-read this often.
PROJECTS_TTL_SECONDS = 300.0


class SharedListings:
    """A short-lived cache where concurrent callers of the same key share one fetch (singleflight).

    A caller arriving while a fetch of its key is in flight waits for that fetch and gets its value, or its
    error (a failing or hung cloud is asked once, not once per waiting rule); one arriving later gets the
    value while it is younger than ``ttl_seconds`` (and ``usable`` for it), else fetches anew."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._guard = threading.Lock()
        self._inflight: dict[tuple[str, ...], tuple[Future[Any], list[int]]] = {}
        self._entries: dict[tuple[str, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[str, ...], fetch: Callable[[], T], usable: Callable[[T], bool] | None = None) -> T:
        """The cached value of ``key`` when fresh (and ``usable``), the in-flight fetch's, else ``fetch()``'s."""
        while True:
            with self._guard:
                now = time.monotonic()  # drop stale listings so they are not kept alive between passes
                for stale in [k for k, (at, _) in self._entries.items() if now - at >= self._ttl]:
                    del self._entries[stale]
                cached = self._entries.get(key)
                if cached is not None and (usable is None or usable(cached[1])):
                    return cached[1]  # type: ignore[no-any-return]
                inflight = self._inflight.get(key)
                if inflight is None:
                    future: Future[Any] = Future()
                    self._inflight[key] = (future, [0])
                else:
                    inflight[1][0] += 1
            if inflight is None:
                return self._fetch(key, future, fetch)
            value = inflight[0].result()  # the shared fetch's value, or its error raised here too
            if usable is None or usable(value):
                return value  # type: ignore[no-any-return]
            # fetched without what this caller needs (it attached after that fetch started): fetch again

    def waiting(self, key: tuple[str, ...]) -> int:
        """How many callers wait for the fetch of ``key`` in flight (0 when none is)."""
        with self._guard:
            inflight = self._inflight.get(key)
            return inflight[1][0] if inflight is not None else 0

    def _fetch(self, key: tuple[str, ...], future: Future[Any], fetch: Callable[[], T]) -> T:
        try:
            value = fetch()
        except BaseException as error:
            with self._guard:
                del self._inflight[key]
            future.set_exception(error)
            raise
        with self._guard:
            del self._inflight[key]
            self._entries[key] = (time.monotonic(), value)
        future.set_result(value)
        return value


#: Rules on one (credential, resource type) share a listing (``configure_listings``: DAYTWO_DRIFT_LISTING_TTL_SECONDS).
_LISTINGS = SharedListings(OperatorSettings.model_fields["drift_listing_ttl_seconds"].default)
_PROJECTS = SharedListings(PROJECTS_TTL_SECONDS)
#: One in-memory baseline per (namespace, credential, resource type), shared by the enabled rules on it.
_TABLES = BaselineTables()


def configure_listings(settings: OperatorSettings) -> None:
    """Share drift listings for ``settings.drift_listing_ttl_seconds`` after they complete."""
    global _LISTINGS
    _LISTINGS = SharedListings(settings.drift_listing_ttl_seconds)


def _attach(namespace: str, name: str, spec: dict[str, Any]) -> None:
    """Put an enabled rule on its baseline table now (so the next listing observes its field), a disabled one off."""
    rule = DriftRuleSpec.model_validate(spec)
    if rule.enabled:
        _TABLES.attach(namespace, rule.target.credentials_ref.name, RuleView.from_spec(name, rule))
    else:
        _TABLES.detach(namespace, name)


def _project_map(backend: OpenStackBackend) -> dict[str, ProjectInfo]:
    domains = {domain.id: domain.name for domain in backend.list_domains()}
    return {
        project.id: ProjectInfo(project.name, project.domain_id, domains.get(project.domain_id, project.domain_id))
        for project in backend.list_projects()
    }


def _acknowledged(event: DriftEventSpec) -> bool:
    return event.acknowledgement is not None and event.acknowledgement.acknowledged


def _counts(acknowledged: Iterable[bool]) -> dict[str, int]:
    flags = list(acknowledged)
    return {"openEvents": len(flags), "unacknowledgedEvents": sum(1 for flag in flags if not flag)}


#: Memo key: (resourceVersion the last pass started from, the status it left), so a pass that starts
#: before the watch delivered the previous pass's write compares against what was written.
_LAST_STATUS = "last_status"


class RuleCycle(PollingPass):
    """One pass over one DriftRule, as the watch delivered it (``obj``, a copy taken on the event loop)."""

    def __init__(
        self,
        inputs: PassInputs,
        events_of: Callable[[], Iterable[bool]],
        reference_problem: ConditionUpdate | None = None,
        credential: CredentialView | None = None,
    ) -> None:
        super().__init__(inputs)
        assert inputs.watched is not None, "a DriftRule pass works on the object as the watch delivered it"
        self.obj = inputs.watched
        self.events_of = events_of
        self.reference_problem = reference_problem
        self.credential = credential
        self.store = BaselineStore(self.client.core)
        self.evaluated = False
        self.saved = False

    def run(self, settings: OperatorSettings) -> float:
        """Evaluate once (unless disabled); returns seconds until the next pass (BackOff when the credential
        reference is broken)."""
        obj = self.obj
        if obj["metadata"].get("deletionTimestamp"):
            return settings.resync_seconds
        spec, status = DriftRuleSpec.model_validate(obj["spec"]), self._status()
        self.saved = DriftRuleStatus.model_validate(status).baseline_ref is not None  # else none to read yet
        fields: dict[str, Any] = {}
        delay: float
        if not spec.enabled:
            updates = [ConditionUpdate("Ready", True, "Disabled", "the rule is disabled: it evaluates nothing")]
            delay = float(spec.interval_seconds)
        elif self.reference_problem is not None:
            updates = [self.reference_problem]
            delay = BackOff()
        else:
            try:
                updates = self.evaluate(obj, spec, fields)
                delay = float(spec.interval_seconds)
            except BackendError as error:
                updates = [ConditionUpdate("Ready", False, error.reason, error.message)]
                if not error.retryable and error.reason not in REFERENCE_REASONS:
                    updates.append(ConditionUpdate("Stalled", True, error.reason, error.message))
                delay = BackOff() if error.reason in REFERENCE_REASONS else settings.retry_delay_seconds
        fields.update(_counts(self.events_of()))
        self.finish(obj, spec, status, fields, settled(updates), settings.status_heartbeat_seconds)
        self.memo[_LAST_STATUS] = (obj["metadata"].get("resourceVersion"), status)
        return delay

    def _status(self) -> dict[str, Any]:
        """The rule's status: as delivered, or as the previous pass left it when its write is not back yet."""
        version = self.obj["metadata"].get("resourceVersion")
        last = self.memo.get(_LAST_STATUS)
        if last is not None and last[0] == version:
            return copy.deepcopy(dict(last[1]))
        return copy.deepcopy(dict(self.obj.get("status") or {}))

    def evaluate(self, obj: dict[str, Any], spec: DriftRuleSpec, fields: dict[str, Any]) -> list[ConditionUpdate]:
        """List, compare, record events, save the baseline; the conditions and status fields of the pass."""
        rule = RuleView.from_spec(self.name, spec)
        credential = spec.target.credentials_ref.name
        backend = openstack_backend(self.namespace, spec.target.credentials_ref.to_k8s(), self.credential)
        table = _TABLES.attach(self.namespace, credential, rule)

        def observe() -> Listing:
            with _TABLES.listing_slot(self.namespace, credential):
                observer = ListingObserver(rule.resource_type, table.fields())
                listing = observer.listing(backend.list_raw(rule.resource_type, each_page=observer.page))
                trim()  # the pages' JSON is gone: its memory goes back to the OS, not to this thread's arena
                return listing

        listing = _LISTINGS.get(
            (self.namespace, credential, rule.resource_type), observe, usable=lambda found: rule.field in found.fields
        )
        projects = _PROJECTS.get((self.namespace, credential), lambda: _project_map(backend))
        if not table.loaded(self.name):
            stored = self.store.load(self.namespace, self.name) if self.saved else None
            table.load(self.name, stored or {})
        result = evaluate(rule, listing.items, table.view(self.name), projects, self.now)
        with ThreadPoolExecutor(max_workers=EVENT_WRITERS) as pool:
            created = sum(pool.map(lambda event: self.record(obj, *event), result.events))
        if result.baseline_changed:
            fields["baselineRef"] = self.store.save(
                self.namespace, self.name, obj, result.baseline, fresh=not self.saved
            )
            table.store(self.name, result.baseline)
        if created:
            kopf.event(
                self.body,
                type="Warning",
                reason="DriftDetected",
                message=f"{created} change(s) of {rule.resource_type} {rule.field}; see DriftEvents",
            )
        self.evaluated = True
        fields["resourcesEvaluated"] = result.evaluated
        message = f"{result.evaluated} {rule.resource_type}(s) compared; {len(result.events)} change(s) this pass"
        return [ConditionUpdate("Ready", True, "Evaluated", message)]

    def record(self, rule: dict[str, Any], name: str, spec: dict[str, Any], labels: dict[str, str]) -> bool:
        """Create one DriftEvent owned by the rule; False when it already exists (recorded before)."""
        owner = {
            "apiVersion": rule["apiVersion"],
            "kind": RULE,
            "name": self.name,
            "uid": rule["metadata"]["uid"],
        }
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DriftEvent",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels, "ownerReferences": [owner]},
            "spec": spec,
        }
        return self.client.create_object("DriftEvent", self.namespace, body)

    def finish(
        self,
        obj: dict[str, Any],
        spec: DriftRuleSpec,
        status: dict[str, Any],
        fields: dict[str, Any],
        updates: list[ConditionUpdate],
        heartbeat_seconds: float,
    ) -> None:
        """Write what changed of conditions, counts and results (``lastEvaluationTime`` only with them, or
        when older than ``heartbeat_seconds``); post an Event when Ready changes."""
        phase = "Active" if spec.enabled else "Disabled"
        coarse = {"lastEvaluationTime": format_time(self.now)} if self.evaluated else None
        last = DriftRuleStatus.model_validate(status).last_evaluation_time
        due = last is None or (self.now - last).total_seconds() >= heartbeat_seconds
        self.finish_pass(obj, status, fields, updates, phase, coarse=coarse, coarse_due=due)


def register(settings: OperatorSettings) -> None:
    """Register the DriftRule daemon, its wake handler, the DriftEvent index and the DriftEvent handler."""
    configure_listings(settings)

    def drift_events_by_rule(namespace: str | None, spec: kopf.Spec, **_: Any) -> dict[tuple[str, str], bool]:
        event = DriftEventSpec.model_validate(dict(spec))
        return {(str(namespace), event.rule_ref): _acknowledged(event)}

    kopf.index(GROUP, VERSION, "driftevents", id="drift_events_by_rule")(drift_events_by_rule)

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        index: kopf.Index[tuple[str, str], bool] = kwargs["drift_events_by_rule"]
        inputs = PassInputs.of(kwargs)
        namespace, name, spec = inputs.namespace, inputs.name, inputs.spec
        _attach(namespace, name, spec)
        cycle = RuleCycle(
            inputs,
            lambda: list(index.get((namespace, name), [])),
            reference_check(RULE, namespace, spec, kwargs),
            credential_view(RULE, namespace, spec, kwargs),
        )
        return lambda: cycle.run(settings)

    def forget(kwargs: dict[str, Any]) -> None:
        _TABLES.detach(str(kwargs["namespace"]), str(kwargs["name"]))

    register_polling(RULE, "driftrules", "evaluate", settings, make_pass, on_stop=forget)

    def event_status(body: kopf.Body, patch: kopf.Patch, spec: kopf.Spec, **_: Any) -> None:
        event = DriftEventSpec.model_validate(dict(spec))
        if event.acknowledgement is not None and event.acknowledgement.acknowledged:
            ready = ConditionUpdate("Ready", True, "Acknowledged", f"acknowledged by {event.acknowledgement.by}")
        else:
            ready = ConditionUpdate("Ready", True, "Open", "not acknowledged yet")
        apply_status(body, patch, [ready], phase="Acknowledged" if _acknowledged(event) else "Open")

    def acknowledgement_changed(
        body: kopf.Body, patch: kopf.Patch, namespace: str | None, spec: kopf.Spec, **kwargs: Any
    ) -> None:
        """Refresh the rule's counts at once (its own passes recount only at its interval)."""
        event_status(body=body, patch=patch, spec=spec)
        index: kopf.Index[tuple[str, str], bool] = kwargs["drift_events_by_rule"]
        rule_name = DriftEventSpec.model_validate(dict(spec)).rule_ref
        client = kube_client()
        rule = client.get_object(RULE, str(namespace), rule_name)
        if rule is None:
            return
        counts = _counts(index.get((str(namespace), rule_name), []))
        current = DriftRuleStatus.model_validate(rule.get("status") or {})
        if (current.open_events, current.unacknowledged_events) != (
            counts["openEvents"],
            counts["unacknowledgedEvents"],
        ):
            client.patch_status(RULE, str(namespace), rule_name, counts)

    for decorator in (kopf.on.create, kopf.on.resume):
        decorator(GROUP, VERSION, "driftevents", id="status")(event_status)
    kopf.on.update(GROUP, VERSION, "driftevents", id="status")(acknowledgement_changed)
