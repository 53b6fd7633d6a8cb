"""RestoreJob: one Kopf daemon per object plans, runs, cancels, retries and cleans up a VM restore.

Each pass takes the object as the watch delivered it (``polling.own_object``: a GET only while the watch
has not delivered the pass's own last status write, so a step recorded Running is never missed). A broken
credential reference is known from the in-memory indexes before any call, and backs off exponentially
(``polling.BackOff``) until the credential or its Secret changes.

``execute: false`` observes the cloud (in a worker thread) and writes ``status.plan``. ``execute: true``
writes the steps, then runs them one by one (see
:mod:`.openstack` and :mod:`.proxmox`): a step is recorded Running before its
cloud call and looks up what the job already made first, so a killed operator resumes and finishes
each step exactly once. Between steps the pass ends early when the object changed (a cancel), so a
cancel takes effect at the next step boundary. Requests that arrive later (``spec.retry``,
``spec.cleanup``, ``spec.cleanupStorage``) are answered once per ``requestedAt`` token, echoed in the
matching status record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf
from daytwo.crds.base import Step, StepState

from ...errors import BackendError, CredentialsNotFound, RetryableError
from ...kube import kube_client
from ...reconcile.conditions import ConditionUpdate
from ...reconcile.references import REFERENCE_REASONS, reference_error
from ...reconcile.restorejob.plan import Plan, Request, plan_summary, request_from_spec
from ...reconcile.restorejob.steps import (
    MAX_ATTEMPTS,
    VALIDATE,
    Progress,
    backoff_seconds,
    cancel_steps,
    initial_steps,
    job_conditions,
    next_step,
    phase,
    progress,
    step_index,
)
from ...settings import OperatorSettings
from ..credentials import proxmox_backend
from ..polling import BackOff, error_conditions, finish_status, own_object, register_polling
from ..references_index import reference_check
from .context import KIND, JobContext, Retry, StepFailed
from .engine import StepEngine
from .observe import backends_for
from .openstack import OpenStackEngine
from .proxmox import ProxmoxEngine
from .requests import Requests

__all__ = ["register"]


def make_engine(ctx: JobContext, request: Request) -> StepEngine:
    """The engine for the spec's source (reads the credential; CredentialsNotFound names what is missing)."""
    if request.provider == "proxmox":
        return ProxmoxEngine(ctx, proxmox_backend(ctx.namespace, ctx.spec.credentials_ref.to_k8s()))
    admin, params = backends_for(ctx.namespace, ctx.spec.credentials_ref.name)
    return OpenStackEngine(ctx, admin, params)


def plan_conditions(plan: Plan) -> list[ConditionUpdate]:
    """Planned and Ready of a plan-only job."""
    if plan.ok:
        message = f"{plan.summary}; set execute: true to run it"
        return [
            ConditionUpdate("Planned", True, "Planned", message),
            ConditionUpdate("Ready", True, "Planned", message),
            ConditionUpdate("Reconciling", False, "Planned"),
            ConditionUpdate("Stalled", False, "Planned"),
        ]
    reason = str(plan.reason)
    return [
        ConditionUpdate("Planned", False, reason, plan.message),
        ConditionUpdate("Ready", False, reason, plan.message),
        ConditionUpdate("Reconciling", False, reason),
        ConditionUpdate("Stalled", True, reason, plan.message),
    ]


def _planned_update(steps: list[Step]) -> list[ConditionUpdate]:
    """Planned during execution: from the VALIDATE_LIVE_STATE step."""
    index = step_index(steps, VALIDATE)
    if index is None:
        return []
    step = steps[index]
    if step.state in (StepState.SUCCEEDED, StepState.SKIPPED):
        return [ConditionUpdate("Planned", True, "Planned", step.message or "")]
    if step.state == StepState.FAILED:
        reason = (step.external_ids or {}).get("reason") or "StepFailed"
        return [ConditionUpdate("Planned", False, reason, step.message or "")]
    return []


class Pass:
    """One pass over one RestoreJob."""

    def __init__(self, kwargs: dict[str, Any], settings: OperatorSettings) -> None:
        self.body: kopf.Body = kwargs["body"]
        self.namespace, self.name = str(kwargs["namespace"]), str(kwargs["name"])
        self.wake = (kwargs.get("memo") or {}).get("wake")
        self.watched: dict[str, Any] = kwargs["watched"]
        self.reference_problem = reference_check(KIND, self.namespace, self.watched.get("spec") or {}, kwargs)
        self.settings = settings
        self.phase = "PENDING"

    def run(self) -> float:
        """Do one pass; returns seconds until the next one."""
        client = kube_client()
        obj = own_object(client, self.watched)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return self.settings.resync_seconds
        ctx = JobContext(client, self.body, obj, self.settings, self.wake)
        self.phase = ctx.status.phase or "PENDING"  # kept when the pass fails before it decides
        delay = self.settings.resync_seconds
        if not self.settings.restore_enabled:
            message = "restores are disabled in this operator (DAYTWO_RESTORE_ENABLED=false)"
            updates = [ConditionUpdate("Ready", False, "RestoreDisabled", message),
                       ConditionUpdate("Stalled", True, "RestoreDisabled", message)]  # fmt: skip
        else:
            request = request_from_spec(ctx.spec, ctx.retry)
            try:
                updates, delay = self.act(ctx, request)
            except Retry as retry:
                updates = [ConditionUpdate("Ready", False, "Retrying", retry.message),
                           ConditionUpdate("Reconciling", True, "Retrying", retry.message)]  # fmt: skip
                delay = retry.delay
            except CredentialsNotFound as error:  # woken when the credential or its Secret changes
                updates, delay = error_conditions(error), BackOff()
                updates[1] = ConditionUpdate("Reconciling", True, error.reason, f"waiting: {error.message}")
                updates[2] = ConditionUpdate("Stalled", False, error.reason)
            except BackendError as error:
                updates = error_conditions(error)
                delay = self.settings.retry_delay_seconds if error.retryable else self.settings.resync_seconds
                delay = BackOff() if error.reason in REFERENCE_REASONS else delay  # a Secret refused
        finish_status(client, self.body, obj, ctx.written, {}, updates, datetime.now(UTC), lambda _c: self.phase)
        return delay

    def act(self, ctx: JobContext, request: Request) -> tuple[list[ConditionUpdate], float]:
        """Plan, or execute and answer requests; returns the conditions and the delay.

        The engine (credential, cloud client) is made only when there is work: a finished restore with
        nothing asked of it makes no call, and keeps its conditions when its credential is gone.
        """
        spec = ctx.spec
        made: list[StepEngine] = []

        def engine() -> StepEngine:
            if not made:
                if self.reference_problem is not None:  # known from the indexes: no call, no Secret read
                    raise reference_error(self.reference_problem)
                made.append(make_engine(ctx, request))
            return made[0]

        if not spec.execute:
            plan = engine().plan(request)
            ctx.write(plan=plan.to_status())
            self.phase = phase(False, Progress.NOT_STARTED, plan.ok)
            return plan_conditions(plan), self.settings.resync_seconds
        if not ctx.status.steps:
            ctx.write(steps=initial_steps(request.provider, request.mode))
        if spec.cancel and not progress(ctx.steps()).finished:
            ctx.write(steps=cancel_steps(ctx.steps(), datetime.now(UTC)))
            ctx.event("Warning", "Canceled", "spec.cancel: the restore stopped at a step boundary")
        requests = Requests(ctx, engine, request)
        delay: float | None = requests.before_steps()
        if delay is None and next_step(ctx.steps()) is not None:
            delay = self.execute(ctx, engine(), request_from_spec(spec, ctx.retry))
        after = requests.after_steps()
        if after is not None:
            delay = after if delay is None else min(delay, after)
        steps = ctx.steps()
        state = progress(steps)
        self.phase = phase(True, state, None)
        written = ctx.plan
        summary = plan_summary(written) if written.new_vm_name else "planning"
        updates = [
            *_planned_update(steps),
            *job_conditions(state, steps, dry_run=ctx.dry_run, summary=summary),
        ]
        return updates, self.settings.resync_seconds if delay is None else delay

    def execute(self, ctx: JobContext, engine: StepEngine, request: Request) -> float | None:
        """Run open steps until done, failed, waiting, or the object changed."""
        while True:
            if ctx.woken():
                return 0.0
            steps = ctx.steps()
            index = next_step(steps)
            if index is None:
                return None
            try:
                wait = engine.run_step(index, request)
            except StepFailed as failed:
                self.fail(ctx, index, failed.reason, failed.message)
                continue
            except RetryableError as error:
                attempts = ctx.steps()[index].attempts
                if attempts >= MAX_ATTEMPTS:
                    self.fail(ctx, index, error.reason, f"gave up after {attempts} attempts: {error.message}")
                    continue
                ctx.note(index, message=f"attempt {attempts} failed, retrying: {error.message}")
                delay = backoff_seconds(attempts, self.settings.retry_delay_seconds)
                raise Retry(delay, f"{steps[index].name}: {error.message}; retrying in {delay:.0f}s") from error
            except CredentialsNotFound:
                raise  # nothing was attempted: wait for the credential without failing the step
            except BackendError as error:
                self.fail(ctx, index, error.reason, error.message)
                continue
            if wait is not None:
                return wait

    def fail(self, ctx: JobContext, index: int, reason: str, message: str) -> None:
        """Fail the step, say so, and leave the rest to cleanup and retry."""
        ctx.fail(index, reason, message)
        name = ctx.steps()[index].name
        ctx.event("Warning", "StepFailed", f"{name}: {reason}: {message}")


def register(settings: OperatorSettings) -> None:
    """Register the RestoreJob daemon and the handler that wakes it on changes."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        return Pass(kwargs, settings).run

    register_polling(KIND, "restorejobs", "restore", settings, make_pass)
