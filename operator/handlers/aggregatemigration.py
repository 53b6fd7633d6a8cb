"""AggregateMigration: one Kopf daemon per object previews or executes a host move between aggregates.

Each pass takes the object as the watch delivered it (``polling.own_object``: a GET only while the watch
has not delivered the pass's own last status write, so a step recorded Running is never missed); a broken
credential reference is known from the in-memory indexes before any call and backs off exponentially
(``polling.BackOff``) until the credential or its Secret changes.

A dry run (or an execution not started yet) observes Nova through the backend in a worker thread and
writes ``status.plan``. An execution writes its steps to status, then runs them one by one: each
step is recorded Running *before* the Nova call and checks the
host's membership first, so an operator killed mid-way finishes every step exactly once on restart.
Transient errors back off and retry; terminal ones fail the step, then ``onFailure`` rolls the
finished steps back or stops. Spec changes and the reconcile annotation wake the daemon at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf
from daytwo.crds.aggregatemigration import AggregateMigrationSpec, AggregateMigrationStatus, MigrationPlan, OnFailure
from daytwo.crds.base import Step, StepState

from ..backends.openstack import OpenStackBackend
from ..errors import BackendError, RetryableError
from ..kube import KubeClient
from ..reconcile.aggregatemigration.plan import (
    AggregateState,
    Observed,
    Plan,
    Request,
    make_plan,
    plan_conditions,
    request_from_spec,
    resolve_host,
)
from ..reconcile.aggregatemigration.steps import (
    MAX_ATTEMPTS,
    Progress,
    StepIds,
    append_log,
    backoff_seconds,
    fail_step,
    finish_step,
    forward_steps,
    is_done,
    log_entry,
    next_step,
    progress,
    progress_conditions,
    retrying_step,
    rollback_steps,
    start_step,
    step_command,
)
from ..reconcile.conditions import ConditionUpdate
from ..reconcile.references import reference_error
from ..settings import OperatorSettings
from .credentials import openstack_backend
from .polling import PassInputs, PollingPass, error_conditions, error_delay, register_polling, write_status
from .references_index import reference_check

__all__ = ["register"]

KIND = "AggregateMigration"


class Retry(Exception):
    """A transient failure: come back after ``delay`` seconds; ``reason`` is the condition reason."""

    def __init__(self, delay: float, message: str, reason: str = "Retrying") -> None:
        super().__init__(message)
        self.delay, self.message, self.reason = delay, message, reason


def observe(backend: OpenStackBackend, request: Request) -> Observed:
    """Resolve the host, read every aggregate and the running VMs on the host (three Nova calls)."""
    host = resolve_host(request.host, [(h.hostname, h.host) for h in backend.list_hypervisors()])
    aggregates = {
        agg.name: AggregateState(agg.id, agg.name, agg.availability_zone, frozenset(agg.hosts))
        for agg in backend.list_aggregates()
    }
    running = [s.name for s in backend.list_servers(host=host, status="ACTIVE")] if host else []
    return Observed(host, aggregates, running)


def busy_with(client: KubeClient, namespace: str, name: str, spec: AggregateMigrationSpec, host: str) -> str | None:
    """Another AggregateMigration of the same host in this namespace whose steps are still running."""
    for other in client.list_objects(KIND, namespace):
        other_name = other["metadata"]["name"]
        other_spec = AggregateMigrationSpec.model_validate(other["spec"])
        other_status = AggregateMigrationStatus.model_validate(other.get("status") or {})
        plan = other_status.plan
        same = other_spec.host == spec.host or (plan is not None and plan.compute_host == host)
        if other_name == name or not same or other_spec.dry_run:
            continue
        state = progress(other_status.steps or [], other_spec.on_failure)
        if state in (Progress.RUNNING, Progress.ROLLING_BACK):
            return str(other_name)
    return None


class Pass(PollingPass):
    """One pass over one AggregateMigration: plan, execute or resume steps, write status."""

    def __init__(
        self,
        inputs: PassInputs,
        settings: OperatorSettings,
        client: KubeClient | None = None,
        reference_problem: ConditionUpdate | None = None,
    ) -> None:
        super().__init__(inputs, client)
        self.settings, self.reference_problem = settings, reference_problem
        self.status = AggregateMigrationStatus()
        self.written: dict[str, Any] = {}  # self.status as last written (what write_status diffs against)
        self.user: str | None = None
        self.backend: OpenStackBackend

    def read(self, status: AggregateMigrationStatus) -> None:
        """Start from ``status`` as read from the object."""
        self.status, self.written = status, status.to_k8s()

    def write(self, **changes: Any) -> None:
        """Set status fields (snake_case) and patch those that changed."""
        self.status = self.status.model_copy(update=changes)
        write_status(self.client, KIND, self.namespace, self.name, self.written, self.status.patch_of(*changes))

    def steps(self) -> list[Step]:
        """A copy of status.steps to change and write back."""
        return list(self.status.steps or [])

    def run(self) -> float:
        """Do one pass; returns seconds until the next one."""
        obj = self.current_object(KIND)
        if obj is None:
            return self.settings.resync_seconds
        spec = AggregateMigrationSpec.model_validate(obj["spec"])
        self.read(AggregateMigrationStatus.model_validate(obj.get("status") or {}))
        request = request_from_spec(spec)
        self.user = request.requested_by
        steps = self.steps()
        state = progress(steps, request.on_failure)
        delay = self.settings.resync_seconds
        if state.finished and not request.dry_run:
            updates = [self.planned(), *progress_conditions(state, steps)]
        else:
            try:
                if self.reference_problem is not None:  # known from the indexes: no call, no Secret read
                    raise reference_error(self.reference_problem)
                self.backend = openstack_backend(self.namespace, spec.credentials_ref.to_k8s())
                if state is Progress.NOT_STARTED or request.dry_run:
                    updates, delay = self.plan(request, spec)
                else:
                    updates = [self.planned(), *self.execute(request)]
            except Retry as retry:
                updates = [
                    ConditionUpdate("Ready", False, retry.reason, retry.message),
                    ConditionUpdate("Reconciling", True, retry.reason, retry.message),
                ]
                delay = retry.delay
            except BackendError as error:
                updates = error_conditions(error)
                delay = error_delay(error, self.settings)
        self.finish_status(obj, updates)
        return delay

    def plan(self, request: Request, spec: AggregateMigrationSpec) -> tuple[list[ConditionUpdate], float]:
        """Preflight; a dry run stops here, an execution writes its steps (unless the host is busy) and runs them."""
        observed = observe(self.backend, request)
        plan = make_plan(request, observed, self.settings.naming_rules())
        self.write(plan=plan.to_status())
        if request.dry_run or not plan.ok:
            return plan_conditions(plan, request.dry_run), self.settings.resync_seconds
        other = busy_with(self.client, self.namespace, self.name, spec, plan.host)
        if other is not None:
            message = f"refused: AggregateMigration {other} is moving {plan.host} right now; this one waits for it"
            return [
                ConditionUpdate("Planned", True, "Planned", "; ".join(plan.commands)),
                ConditionUpdate("Ready", False, "HostBusy", message),
                ConditionUpdate("Reconciling", True, "HostBusy", message),
            ], self.settings.retry_delay_seconds
        self.write(steps=self.steps_for(plan, request, observed))
        updates = self.execute(request)
        return [*plan_conditions(plan, False)[:1], *updates], self.settings.resync_seconds

    @staticmethod
    def steps_for(plan: Plan, request: Request, observed: Observed) -> list[Step]:
        """Forward steps for every aggregate the request names (already-done ones are skipped when run)."""
        adds = [observed.aggregates[name] for name in request.add_to]
        removes = [observed.aggregates[name] for name in request.remove_from]
        return forward_steps(plan.host, adds, removes)

    def execute(self, request: Request) -> list[ConditionUpdate]:
        """Run open steps in order until done, failed, or a transient error asks for a retry."""
        while True:
            steps = self.steps()
            index = next_step(steps)
            if index is None:
                return progress_conditions(progress(steps, request.on_failure), steps)
            self.run_step(request, steps, index)

    def run_step(self, request: Request, steps: list[Step], index: int) -> None:
        """Check membership, record the step Running, call Nova, record the outcome and the command log entry."""
        step = steps[index]
        ids = StepIds.of(step)
        if is_done(step, self.members(ids.aggregate_id)):
            interrupted = step.state == StepState.RUNNING
            done = "found done (an interrupted attempt completed it)" if interrupted else "already in place"
            steps[index] = finish_step(step, datetime.now(UTC), called=False, message=done)
            self.write(steps=steps)
            return
        steps[index] = start_step(step, datetime.now(UTC))
        self.write(steps=steps)
        started = time.monotonic()
        try:
            if ids.action == "add":
                self.backend.add_host_to_aggregate(ids.aggregate_id, ids.host)
            else:
                self.backend.remove_host_from_aggregate(ids.aggregate_id, ids.host)
        except BackendError as error:
            self.step_failed(request, steps, index, error, started)
            return
        steps[index] = finish_step(steps[index], datetime.now(UTC), called=True, message="done")
        entry = log_entry(step_command(step), "success", datetime.now(UTC), self.ms(started), self.user, "done")
        self.write(steps=steps, command_log=append_log(self.status.command_log or [], entry))

    def step_failed(self, request: Request, steps: list[Step], index: int, error: BackendError, started: float) -> None:
        """Log the error; retry a transient one later, else fail the step and add the rollback steps."""
        step, now = steps[index], datetime.now(UTC)
        text = f"{error.reason}: {error.message}"
        log = append_log(
            self.status.command_log or [],
            log_entry(step_command(step), "error", now, self.ms(started), self.user, text),
        )
        if isinstance(error, RetryableError) and step.attempts < MAX_ATTEMPTS:
            steps[index] = retrying_step(step, f"attempt {step.attempts} failed, retrying: {text}")
            self.write(steps=steps, command_log=log)
            delay = backoff_seconds(step.attempts, self.settings.retry_delay_seconds)
            raise Retry(delay, f"{step_command(step)}: {text}; retrying in {delay:.0f}s") from error
        try:
            in_place = self.in_place_anyway(step, text)
        except Retry as retry:  # membership unknown: keep the step open, say why, come back
            steps[index] = retrying_step(step, retry.message)
            self.write(steps=steps, command_log=log)
            raise
        if in_place:
            steps[index] = finish_step(step, now, called=True, message=f"in place despite {text}")
        else:
            steps[index] = fail_step(step, now, text)
            if request.on_failure == OnFailure.ROLLBACK and StepIds.of(step).phase == "forward":
                steps.extend(rollback_steps(steps))
            kopf.event(self.body, type="Warning", reason="StepFailed", message=f"{step_command(step)}: {text}")
        self.write(steps=steps, command_log=log)

    def members(self, aggregate_id: str) -> frozenset[str]:
        """The aggregate's hosts now; a transient failure asks for a retry."""
        try:
            return frozenset(self.backend.get_aggregate(aggregate_id).hosts)
        except RetryableError as error:
            raise Retry(
                self.settings.retry_delay_seconds, f"reading aggregate {aggregate_id}: {error.message}"
            ) from error

    def in_place_anyway(self, step: Step, refusal: str) -> bool:
        """Whether a step that Nova refused (``refusal``) is in place anyway (a race with another client).

        When the membership cannot be read (credentials rejected, Nova unreachable) the answer is unknown,
        not "no": :class:`Retry` with the read error's reason, so the step is neither failed nor rolled back
        on a guess.
        """
        aggregate_id = StepIds.of(step).aggregate_id
        try:
            return is_done(step, frozenset(self.backend.get_aggregate(aggregate_id).hosts))
        except BackendError as error:
            delay = backoff_seconds(step.attempts, self.settings.retry_delay_seconds)
            message = (
                f"{step_command(step)} was refused ({refusal}) and reading aggregate {aggregate_id} failed "
                f"({error.reason}: {error.message}): whether the host is in place is unknown; retrying in {delay:.0f}s"
            )
            raise Retry(delay, message, error.reason) from error

    @staticmethod
    def ms(started: float) -> int:
        """Milliseconds since ``started`` (monotonic)."""
        return int((time.monotonic() - started) * 1000)

    def finish_status(self, obj: dict[str, Any], updates: list[ConditionUpdate]) -> None:
        """Write conditions, generation, phase and reconcile token; post an Event when Ready changes."""
        self.finish_pass(obj, self.written, {}, updates, _phase, now=datetime.now(UTC))

    def planned(self) -> ConditionUpdate:
        """Planned=True for a migration whose steps were written (its plan passed)."""
        plan = self.status.plan or MigrationPlan()
        return ConditionUpdate("Planned", True, "Planned", "; ".join(plan.commands or []) or "nothing to do")


def _phase(conditions: list[dict[str, Any]]) -> str:
    """A one-word summary for the printer column."""
    by_type = {c["type"]: c for c in conditions}
    ready = by_type.get("Ready", {})
    if ready.get("reason") == "PreviewReady":
        return "Previewed"
    if "Succeeded" in by_type:
        return "Succeeded" if by_type["Succeeded"]["status"] == "True" else str(by_type["Succeeded"]["reason"])
    if "Reconciling" in by_type:
        return "Running"
    return "Blocked" if ready.get("status") == "False" else "Ready"


def register(settings: OperatorSettings) -> None:
    """Register the AggregateMigration daemon and the handler that wakes it on changes."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        inputs = PassInputs.of(kwargs)
        return Pass(inputs, settings, None, reference_check(KIND, inputs.namespace, inputs.spec, kwargs)).run

    register_polling("AggregateMigration", "aggregatemigrations", "migrate", settings, make_pass)
