"""SnapshotPolicy: one Kopf daemon per policy snapshots OpenStack volumes or Proxmox guests on schedule,
on demand and on create.

Each pass takes the policy as the watch delivered it (``polling.own_object``: a GET only while the watch
has not delivered the pass's own last status write), checks its credential from the in-memory indexes
(a broken reference backs off exponentially, ``polling.BackOff``, and is woken when the credential or its
Secret changes), resolves its targets, and decides (``reconcile.snapshotpolicy``)
whether a run is due: an unfinished ``status.currentRun`` (the operator stopped mid-run) is resumed
first, then a run-now request (annotation ``daytwo.io/reconcile-requested-at``), then ``runOnCreate``,
then the schedule. The run is written to status before any snapshot is created; snapshots carry the
policy and the slot in their name and metadata, so a resumed or repeated run of the same slot finds
them and creates nothing twice. The pass then sleeps until ``nextScheduleTime``.

Cinder accepts duplicate snapshot names, so finding is not enough when the operator dies while a
create is in flight (the snapshot appears only after the new process has listed). Before each create
the run records ``inFlightUntil`` (later than that create's client timeout) and which process set it;
a process that resumes a run another one left waits until that time (the pass comes back, no sleep),
then lists. Retention deletes any duplicate of a slot that still slips through (an answer later than
the client timeout), keeping one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import kopf
from daytwo.crds.base import MAX_STATUS_LIST
from daytwo.crds.snapshotpolicy import SnapshotPolicySpec, SnapshotPolicyStatus, SnapshotRun
from kubernetes.client.exceptions import ApiException

from ...errors import BackendError
from ...reconcile.conditions import ConditionUpdate
from ...reconcile.lifecycle import RECONCILE_ANNOTATION
from ...reconcile.snapshotpolicy.decisions import (
    VolumeInfo,
    due_slot,
    existing_for_slot,
    in_flight_wait,
    next_time,
    on_demand_slot,
    push_history,
    run_id,
)
from ...reconcile.snapshotpolicy.sla import compliance
from ...settings import OperatorSettings
from ...shared.snapshots import PolicyView, format_time, parse_time, policy_spec, policy_status, policy_view
from ..credentials import openstack_backend, proxmox_backend
from ..polling import BackOff, PassInputs, PollingPass, error_delay, register_polling, settled
from ..references_index import reference_check
from .guests import GuestRunExecutor
from .inflight import HOLDER, InFlight, whole_seconds
from .records import STEPS, run_steps, sla_status
from .runs import RunTally, TargetRunner
from .targets import publish_targets
from .volumes import RunExecutor

__all__ = ["PolicyPass", "register"]

KIND = "SnapshotPolicy"
#: An idle policy re-resolves its targets and SLA at least this often.
MAX_IDLE_SECONDS = 3600.0


def _phase(conditions: list[dict[str, Any]]) -> str:
    """The printer column's phase: Suspended, Active (Ready) or Blocked."""
    ready = next(c for c in conditions if c["type"] == "Ready")
    if ready.get("reason") == "Suspended":
        return "Suspended"
    return "Active" if ready["status"] == "True" else "Blocked"


def _now() -> datetime:
    return whole_seconds(datetime.now(UTC))


@dataclass
class PolicyRead:
    """What a pass read of its policy and works with: the object, its spec (parsed, and as the decisions
    view it), its status as read (``status``, kept current as the pass writes) and parsed (``observed``),
    the status fields the pass writes at its end (``fields``), and the run-now request (``token``;
    ``manual`` while it is not handled yet)."""

    obj: dict[str, Any]
    spec: SnapshotPolicySpec
    view: PolicyView
    status: dict[str, Any]
    observed: SnapshotPolicyStatus
    fields: dict[str, Any]
    token: str | None
    manual: bool


class PolicyPass(PollingPass):
    """One pass over one SnapshotPolicy."""

    def __init__(
        self, inputs: PassInputs, settings: OperatorSettings, reference_problem: ConditionUpdate | None = None
    ) -> None:
        super().__init__(inputs)
        self.settings, self.reference_problem = settings, reference_problem

    def run(self, settings: OperatorSettings) -> float:
        """Resolve, run if due, write status; seconds until the next pass."""
        obj = self.current_object(KIND)
        if obj is None:
            return settings.resync_seconds
        status = dict(obj.get("status") or {})
        fields: dict[str, Any] = {}
        token = (obj["metadata"].get("annotations") or {}).get(RECONCILE_ANNOTATION)
        manual = token is not None and token != status.get("lastHandledReconcileAt")
        try:
            spec, observed = policy_spec(obj), policy_status(obj)
            view = policy_view(self.namespace, self.name, spec)
        except ValueError as error:
            updates = [
                ConditionUpdate("Ready", False, "InvalidSpec", str(error)),
                ConditionUpdate("Stalled", True, "InvalidSpec", str(error)),
            ]
            self.finish_pass(obj, status, fields, settled(updates), _phase, echo_token=token is not None)
            return settings.resync_seconds
        resuming = bool((obj.get("status") or {}).get("currentRun"))
        if self.reference_problem is not None and not resuming:  # a run in progress finds out itself
            problem = self.reference_problem
            updates = [problem, ConditionUpdate("TargetsResolved", False, problem.reason, problem.message)]
            if manual:  # as when the backend refuses: the request is answered, not kept for later
                kopf.event(self.body, type="Warning", reason="RunRefused", message=problem.message)
            self.finish_pass(obj, status, fields, settled(updates), _phase, echo_token=token is not None)
            return BackOff()
        try:
            updates, delay = self.reconcile(PolicyRead(obj, spec, view, status, observed, fields, token, manual))
        except BackendError as error:
            updates = [
                ConditionUpdate("Ready", False, error.reason, error.message),
                ConditionUpdate("TargetsResolved", False, error.reason, error.message),
            ]
            delay = error_delay(error, settings)
            if manual and not error.retryable:
                kopf.event(self.body, type="Warning", reason="RunRefused", message=error.message)
            echo = token is not None and not error.retryable  # a retryable failure has not answered the request
            self.finish_pass(obj, status, fields, settled(updates), _phase, echo_token=echo)
            return delay
        self.finish_pass(obj, status, fields, settled(updates), _phase, echo_token=token is not None)
        return delay

    def reconcile(self, read: PolicyRead) -> tuple[list[ConditionUpdate], float]:
        """Resolve targets, run when due; the conditions and the delay until the next pass."""
        obj, spec, view, observed, fields = read.obj, read.spec, read.view, read.observed, read.fields
        platform = "openstack" if spec.targets.openstack is not None else "proxmox"
        noun = "volume" if platform == "openstack" else "guest"
        executor = self.runner(spec, view, platform)
        targets = executor.resolve(spec.targets)
        try:
            publish_targets(self.client, obj, targets, noun)
        except ApiException as error:  # coverage views lag; the run itself must not stop for it
            self.logger.warning("could not write the targets ConfigMap: %s %s", error.status, error.reason)
        fields["matchedTargets"] = len(targets)
        updates = [
            ConditionUpdate("TargetsResolved", True, "Resolved", f"{len(targets)} {noun}(s) match")
            if targets
            else ConditionUpdate("TargetsResolved", False, "NoTargets", f"no {noun} matches targets.{platform}")
        ]
        run = self.due_run(read)
        wait, last = 0.0, observed.last_run
        if run is not None:
            wait = self.execute(read, run, executor, targets)
            last = run if run.finished_at is not None else last
        upcoming = next_time(view, datetime.now(UTC))
        fields["nextScheduleTime"] = format_time(upcoming)
        if last is not None:
            message = f"run {last.id}: {last.created} created, {last.deleted} deleted, {last.failed} failed"
            updates.append(ConditionUpdate("LastRunSucceeded", last.state == "Succeeded", last.state, message))
        if view.suspend:
            updates.append(ConditionUpdate("Ready", True, "Suspended", "suspended: no runs are started"))
        else:
            updates.append(ConditionUpdate("Ready", True, "Scheduled", f"next run at {format_time(upcoming)}"))
        delay = min(MAX_IDLE_SECONDS, max(1.0, (upcoming - datetime.now(UTC)).total_seconds()))
        if wait:
            delay = min(delay, wait + 1.0)
        return updates, delay

    def runner(self, spec: SnapshotPolicySpec, view: PolicyView, platform: str) -> TargetRunner:
        """The backend calls for the policy's platform, through the one place that builds clients."""
        ref = spec.credentials_ref.to_k8s()
        if platform == "openstack":
            backend = openstack_backend(self.namespace, ref)
            limit_key = f"{self.namespace}/{spec.credentials_ref.name}"
            return RunExecutor(backend, view, limit_key, concurrency=self.settings.snapshot_concurrency)
        return GuestRunExecutor(
            proxmox_backend(self.namespace, ref),
            view,
            concurrency=self.settings.snapshot_concurrency,
            logger=self.logger,
        )

    def due_run(self, read: PolicyRead) -> SnapshotRun | None:
        """The run record to execute now, or None: resume, manual, onCreate, then scheduled."""
        obj, view, observed, manual, token = read.obj, read.view, read.observed, read.manual, read.token
        current = observed.current_run
        if current is not None and current.state in {"Pending", "Running"}:
            if manual:  # a new request while a run is in progress (the facade answers 409 before this)
                message = f"run {current.id} is in progress; the request {token!r} is refused"
                kopf.event(self.body, type="Warning", reason="RunRefused", message=message)
            return current
        slot, trigger = None, ""
        previous = observed.last_run.scheduled_at if observed.last_run else None
        if manual and view.suspend:
            kopf.event(self.body, type="Warning", reason="RunRefused", message="the policy is suspended")
        elif manual:
            slot, trigger = on_demand_slot(self.now, previous), "manual"
        elif view.suspend:
            return None
        elif view.run_on_create and not (observed.last_run or observed.last_schedule_time):
            slot, trigger = on_demand_slot(self.now, previous), "onCreate"
        else:
            created = parse_time(obj["metadata"].get("creationTimestamp")) or self.now
            decision = due_slot(view, self.now, observed.last_schedule_time, created)
            if decision.missed is not None:
                self.logger.info("slot %s missed its starting deadline; skipped", format_time(decision.missed))
            slot, trigger = decision.due, "scheduled"
        if slot is None:
            return None
        return SnapshotRun(
            id=run_id(view, slot, trigger, token if trigger == "manual" else None),
            trigger=trigger,
            scheduled_at=whole_seconds(slot),
            state="Pending",
        )

    def execute(self, read: PolicyRead, run: SnapshotRun, executor: TargetRunner, targets: list[VolumeInfo]) -> float:
        """Record the run, create, wait, apply retention, compute SLA; the finished run goes to lastRun.

        Returns 0, or the seconds to come back after when another (dead) operator process may still
        have creates of this run in flight; nothing is listed or created before then.
        """
        obj, view, status, observed, fields = read.obj, read.view, read.status, read.observed, read.fields
        wait = in_flight_wait(run, HOLDER, datetime.now(UTC))
        if wait > 0:
            self.logger.info("run %s: creates of an earlier process may be in flight; resuming in %.0fs", run.id, wait)
            return wait
        slot = run.scheduled_at or self.now
        run.started_at = run.started_at or _now()
        run.state, run.steps = "Running", run_steps(1, run.started_at)
        early: dict[str, Any] = {"currentRun": run.to_k8s()}
        if run.trigger == "scheduled":
            early["lastScheduleTime"] = early["currentRun"]["scheduledAt"]
        if read.token is not None:
            early["lastHandledReconcileAt"] = read.token
        self.client.patch_status(KIND, self.namespace, self.name, early)
        status.update(early)
        tally = RunTally()
        in_flight = None
        if isinstance(executor, RunExecutor):  # Proxmox refuses a second snapshot of the same name itself

            def patch(changed: dict[str, Any]) -> None:
                self.client.patch_status(KIND, self.namespace, self.name, changed)

            in_flight = InFlight(patch, run, executor.create_window_seconds)
            executor.before_create = in_flight.hold
        existing = existing_for_slot(view, slot, executor.snapshots(tally))
        waiting = executor.create_missing(targets, slot, existing, tally)
        if in_flight is not None:
            in_flight.release()
        executor.wait_available(waiting, targets, tally)
        run.steps = run_steps(2, _now())
        cleared = {"inFlightUntil": None, "inFlightHolder": None} if in_flight is not None else {}
        self.client.patch_status(KIND, self.namespace, self.name, {"currentRun": {**run.to_k8s(), **cleared}})
        listed = executor.snapshots(tally)
        executor.retention(targets, listed, tally)
        remaining = [s for s in listed if s.id not in tally.deleted_ids]
        result = compliance(view, targets, remaining, datetime.now(UTC), MAX_STATUS_LIST)
        self.finish_run(run, tally, len(targets))
        assert run.finished_at is not None
        fields.update(
            currentRun=None,
            lastRun=run.to_k8s(),
            history=[r.to_k8s() for r in push_history(observed.history or [], run, MAX_STATUS_LIST)],
            sla=sla_status(result, run.finished_at).to_k8s(),
        )
        self.refuse_requests_during(obj, run)
        if run.state == "Succeeded":
            fields["lastSuccessfulTime"] = format_time(run.finished_at)
        else:
            names = ", ".join(f"{f.name or f.target} ({f.reason})" for f in tally.failures[:5])
            kopf.event(self.body, type="Warning", reason="RunFailed", message=f"run {run.id} {run.state}: {names}")
        return 0.0

    @staticmethod
    def finish_run(run: SnapshotRun, tally: RunTally, targets: int) -> None:
        """Close ``run`` with what the tally says: Succeeded, PartiallyFailed, or Failed (every target failed)."""
        state = "Succeeded" if not tally.failures else "PartiallyFailed"
        if tally.failures and len({f.target for f in tally.failures}) >= targets:
            state = "Failed"
        run.finished_at = _now()
        run.state, run.steps = state, run_steps(len(STEPS), run.finished_at)
        run.created, run.deleted, run.failed = tally.created, tally.deleted, len(tally.failures)
        run.failures = tally.failures[:MAX_STATUS_LIST] or None

    def refuse_requests_during(self, obj: dict[str, Any], run: SnapshotRun) -> None:
        """A run-now requested while ``run`` was running is refused (an Event), and counts as handled:
        ``obj`` takes the newest token, so the pass echoes it instead of starting another run.

        A GET, not the watched copy: only after a run (never in a settled pass), and the token must be
        the newest, or a request made during the run would start a second run of snapshots."""
        latest = self.client.get_object(KIND, self.namespace, self.name)
        newer = ((latest or {}).get("metadata", {}).get("annotations") or {}).get(RECONCILE_ANNOTATION)
        annotations = obj["metadata"].setdefault("annotations", {})
        if newer is None or newer == annotations.get(RECONCILE_ANNOTATION):
            return
        message = f"run {run.id} was in progress; the request {newer!r} is refused"
        kopf.event(self.body, type="Warning", reason="RunRefused", message=message)
        annotations[RECONCILE_ANNOTATION] = newer


def register(settings: OperatorSettings) -> None:
    """Register the SnapshotPolicy daemon and the update handler that wakes it."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        inputs = PassInputs.of(kwargs)
        one = PolicyPass(inputs, settings, reference_check(KIND, inputs.namespace, inputs.spec, kwargs))
        return lambda: one.run(settings)

    register_polling(KIND, "snapshotpolicies", "schedule", settings, make_pass)
