"""SnapshotPolicy: one Kopf daemon per policy snapshots OpenStack volumes or Proxmox guests on schedule,
on demand and on create.

Each pass re-reads the policy, resolves its targets, and decides (``reconcile.snapshotpolicy``)
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

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
from daytwo.crds.base import MAX_STATUS_LIST
from kubernetes.client.exceptions import ApiException

from ..errors import BackendError
from ..kube import kube_client
from ..reconcile.conditions import ConditionUpdate
from ..reconcile.lifecycle import RECONCILE_ANNOTATION
from ..reconcile.snapshotpolicy import (
    SlaResult,
    VolumeInfo,
    compliance,
    due_slot,
    existing_for_slot,
    in_flight_wait,
    next_time,
    on_demand_slot,
    push_history,
    run_id,
)
from ..settings import OperatorSettings
from ..shared.snapshots import PolicyView, format_time, parse_time, policy_view
from .credentials import openstack_backend, proxmox_backend
from .guestsnapshotrun import GuestRunExecutor
from .polling import finish_status, register_polling
from .snapshotrun import RunExecutor, RunTally, TargetRunner
from .snapshottargets import publish_targets

__all__ = ["PolicyPass", "register"]

KIND = "SnapshotPolicy"
#: An idle policy re-resolves its targets and SLA at least this often.
MAX_IDLE_SECONDS = 3600.0
STEPS = ("ResolveTargets", "CreateSnapshots", "Retention", "Compliance")
#: This operator process, as ``currentRun.inFlightHolder`` names it.
HOLDER = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
#: ``inFlightUntil`` is set this much beyond a create's window, so it is written about this often.
IN_FLIGHT_RENEW_SECONDS = 15.0


def _steps(done: int, now: str, failed_step: str | None = None) -> list[dict[str, Any]]:
    steps = []
    for index, name in enumerate(STEPS):
        state = "Succeeded" if index < done else "Running" if index == done else "Pending"
        if failed_step == name:
            state = "Failed"
        steps.append({"name": name, "state": state, **({"finishedAt": now} if index < done else {})})
    return steps


class InFlight:
    """``currentRun.inFlightUntil``: written before a create is sent unless it already covers that
    create's window (client timeout plus margin), so a resuming process knows how long to wait."""

    def __init__(self, patch: Callable[[dict[str, Any]], None], run: dict[str, Any], window_seconds: float) -> None:
        self.patch, self.run, self.window = patch, run, timedelta(seconds=window_seconds)
        self._lock = threading.Lock()

    def hold(self) -> None:
        """Make sure a create sent now ends before ``inFlightUntil`` (called from worker threads)."""
        with self._lock:
            now = datetime.now(UTC)
            until = parse_time(self.run.get("inFlightUntil"))
            if self.run.get("inFlightHolder") == HOLDER and until is not None and now + self.window <= until:
                return
            renewed = now + self.window + timedelta(seconds=IN_FLIGHT_RENEW_SECONDS)
            self.run.update(inFlightUntil=format_time(renewed), inFlightHolder=HOLDER)
            self.patch({"currentRun": dict(self.run)})

    def release(self) -> None:
        """Every create was answered (or abandoned by this live process): nothing is in flight."""
        with self._lock:
            self.run.pop("inFlightUntil", None)
            self.run.pop("inFlightHolder", None)


class PolicyPass:
    """One pass over one SnapshotPolicy."""

    def __init__(
        self,
        body: kopf.Body,
        namespace: str,
        name: str,
        logger: logging.Logger | kopf.Logger,
        settings: OperatorSettings,
    ) -> None:
        self.body, self.namespace, self.name, self.logger, self.settings = body, namespace, name, logger, settings
        self.client = kube_client()
        self.now = datetime.now(UTC)

    def run(self, settings: OperatorSettings) -> float:
        """Resolve, run if due, write status; seconds until the next pass."""
        obj = self.client.get_object(KIND, self.namespace, self.name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return settings.resync_seconds
        status = dict(obj.get("status") or {})
        fields: dict[str, Any] = {}
        token = (obj["metadata"].get("annotations") or {}).get(RECONCILE_ANNOTATION)
        manual = token is not None and token != status.get("lastHandledReconcileAt")
        try:
            view = policy_view(self.namespace, self.name, obj["spec"])
        except ValueError as error:
            updates = [
                ConditionUpdate("Ready", False, "InvalidSpec", str(error)),
                ConditionUpdate("Stalled", True, "InvalidSpec", str(error)),
            ]
            self.finish(obj, status, fields, updates, token)
            return settings.resync_seconds
        try:
            updates, delay = self.reconcile(obj, view, status, fields, manual, token)
        except BackendError as error:
            updates = [
                ConditionUpdate("Ready", False, error.reason, error.message),
                ConditionUpdate("TargetsResolved", False, error.reason, error.message),
            ]
            delay = settings.retry_delay_seconds if error.retryable else settings.resync_seconds
            if manual and not error.retryable:
                kopf.event(self.body, type="Warning", reason="RunRefused", message=error.message)
            self.finish(obj, status, fields, updates, None if error.retryable else token)
            return delay
        self.finish(obj, status, fields, updates, token)
        return delay

    def reconcile(
        self,
        obj: dict[str, Any],
        view: PolicyView,
        status: dict[str, Any],
        fields: dict[str, Any],
        manual: bool,
        token: str | None,
    ) -> tuple[list[ConditionUpdate], float]:
        """Resolve targets, run when due; the conditions and the delay until the next pass."""
        selectors = obj["spec"]["targets"]
        platform = "openstack" if "openstack" in selectors else "proxmox"
        noun = "volume" if platform == "openstack" else "guest"
        executor = self.runner(obj, view, platform)
        targets = executor.resolve(selectors[platform])
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
        run = self.due_run(obj, view, status, manual, token)
        wait = 0.0
        if run is not None:
            wait = self.execute(obj, view, status, run, executor, targets, fields)
        upcoming = next_time(view, datetime.now(UTC))
        fields["nextScheduleTime"] = format_time(upcoming)
        last = fields.get("lastRun") or status.get("lastRun")
        if last is not None:
            ok = last["state"] == "Succeeded"
            message = f"run {last['id']}: {last['created']} created, {last['deleted']} deleted, {last['failed']} failed"
            updates.append(ConditionUpdate("LastRunSucceeded", ok, str(last["state"]), message))
        if view.suspend:
            updates.append(ConditionUpdate("Ready", True, "Suspended", "suspended: no runs are started"))
        else:
            updates.append(ConditionUpdate("Ready", True, "Scheduled", f"next run at {format_time(upcoming)}"))
        delay = min(MAX_IDLE_SECONDS, max(1.0, (upcoming - datetime.now(UTC)).total_seconds()))
        if wait:
            delay = min(delay, wait + 1.0)
        return updates, delay

    def runner(self, obj: dict[str, Any], view: PolicyView, platform: str) -> TargetRunner:
        """The backend calls for the policy's platform, through the one place that builds clients."""
        ref = obj["spec"]["credentialsRef"]
        if platform == "openstack":
            backend = openstack_backend(self.namespace, ref)
            limit_key = f"{self.namespace}/{ref['name']}"
            return RunExecutor(backend, view, limit_key, concurrency=self.settings.snapshot_concurrency)
        return GuestRunExecutor(proxmox_backend(self.namespace, ref), view)

    def due_run(
        self, obj: dict[str, Any], view: PolicyView, status: dict[str, Any], manual: bool, token: str | None
    ) -> dict[str, Any] | None:
        """The run record to execute now, or None: resume, manual, onCreate, then scheduled."""
        current = status.get("currentRun")
        if current and current.get("state") in {"Pending", "Running"}:
            if manual:  # a new request while a run is in progress (the facade answers 409 before this)
                message = f"run {current.get('id')} is in progress; the request {token!r} is refused"
                kopf.event(self.body, type="Warning", reason="RunRefused", message=message)
            return dict(current)
        slot, trigger = None, ""
        previous = parse_time((status.get("lastRun") or {}).get("scheduledAt"))
        if manual and view.suspend:
            kopf.event(self.body, type="Warning", reason="RunRefused", message="the policy is suspended")
        elif manual:
            slot, trigger = on_demand_slot(self.now, previous), "manual"
        elif view.suspend:
            return None
        elif view.run_on_create and not (status.get("lastRun") or status.get("lastScheduleTime")):
            slot, trigger = on_demand_slot(self.now, previous), "onCreate"
        else:
            created = parse_time(obj["metadata"].get("creationTimestamp")) or self.now
            decision = due_slot(view, self.now, parse_time(status.get("lastScheduleTime")), created)
            if decision.missed is not None:
                self.logger.info("slot %s missed its starting deadline; skipped", format_time(decision.missed))
            slot, trigger = decision.due, "scheduled"
        if slot is None:
            return None
        return {
            "id": run_id(view, slot, trigger, token if trigger == "manual" else None),
            "trigger": trigger,
            "scheduledAt": format_time(slot),
            "state": "Pending",
        }

    def execute(
        self,
        obj: dict[str, Any],
        view: PolicyView,
        status: dict[str, Any],
        run: dict[str, Any],
        executor: TargetRunner,
        targets: list[VolumeInfo],
        fields: dict[str, Any],
    ) -> float:
        """Record the run, create, wait, apply retention, compute SLA; the finished run goes to lastRun.

        Returns 0, or the seconds to come back after when another (dead) operator process may still
        have creates of this run in flight; nothing is listed or created before then.
        """
        wait = in_flight_wait(run, HOLDER, datetime.now(UTC))
        if wait > 0:
            self.logger.info(
                "run %s: creates of an earlier process may be in flight; resuming in %.0fs", run["id"], wait
            )
            return wait
        slot = parse_time(run["scheduledAt"]) or self.now
        started = run.get("startedAt") or format_time(datetime.now(UTC))
        run.update(state="Running", startedAt=started, steps=_steps(1, started))
        early: dict[str, Any] = {"currentRun": run}
        if run["trigger"] == "scheduled":
            early["lastScheduleTime"] = run["scheduledAt"]
        token = (obj["metadata"].get("annotations") or {}).get(RECONCILE_ANNOTATION)
        if token is not None:
            early["lastHandledReconcileAt"] = token
        self.client.patch_status(KIND, self.namespace, self.name, early)
        status.update(early)
        tally = RunTally()
        in_flight = None
        if isinstance(executor, RunExecutor):  # Proxmox refuses a second snapshot of the same name itself

            def patch(changed: dict[str, Any]) -> None:
                self.client.patch_status(KIND, self.namespace, self.name, changed)

            in_flight = InFlight(patch, run, executor.create_window_seconds)
            executor.before_create = in_flight.hold
        waiting = executor.create_missing(targets, slot, existing_for_slot(view, slot, executor.snapshots()), tally)
        if in_flight is not None:
            in_flight.release()
        executor.wait_available(waiting, targets, tally)
        run["steps"] = _steps(2, format_time(datetime.now(UTC)))
        cleared = {"inFlightUntil": None, "inFlightHolder": None} if in_flight is not None else {}
        self.client.patch_status(KIND, self.namespace, self.name, {"currentRun": {**run, **cleared}})
        listed = executor.snapshots()
        executor.retention(targets, listed, tally)
        remaining = [s for s in listed if s.id not in tally.deleted_ids]
        result = compliance(view, targets, remaining, datetime.now(UTC), MAX_STATUS_LIST)
        finished = format_time(datetime.now(UTC))
        state = "Succeeded" if not tally.failures else "PartiallyFailed"
        if tally.failures and len({f["target"] for f in tally.failures}) >= len(targets):
            state = "Failed"
        run.update(
            state=state,
            finishedAt=finished,
            steps=_steps(len(STEPS), finished),
            created=tally.created,
            deleted=tally.deleted,
            failed=len(tally.failures),
            failures=tally.failures[:MAX_STATUS_LIST] or None,
        )
        fields.update(
            currentRun=None,
            lastRun=run,
            history=push_history(list(status.get("history") or []), run, MAX_STATUS_LIST),
            sla=_sla_status(result, finished),
        )
        self.refuse_requests_during(obj, run)
        if state == "Succeeded":
            fields["lastSuccessfulTime"] = finished
        else:
            names = ", ".join(f"{f['name'] or f['target']} ({f['reason']})" for f in tally.failures[:5])
            kopf.event(self.body, type="Warning", reason="RunFailed", message=f"run {run['id']} {state}: {names}")
        return 0.0

    def refuse_requests_during(self, obj: dict[str, Any], run: dict[str, Any]) -> None:
        """A run-now requested while ``run`` was running is refused (an Event), and counts as handled:
        ``obj`` takes the newest token, so the pass echoes it instead of starting another run."""
        latest = self.client.get_object(KIND, self.namespace, self.name)
        newer = ((latest or {}).get("metadata", {}).get("annotations") or {}).get(RECONCILE_ANNOTATION)
        annotations = obj["metadata"].setdefault("annotations", {})
        if newer is None or newer == annotations.get(RECONCILE_ANNOTATION):
            return
        message = f"run {run['id']} was in progress; the request {newer!r} is refused"
        kopf.event(self.body, type="Warning", reason="RunRefused", message=message)
        annotations[RECONCILE_ANNOTATION] = newer

    def finish(
        self,
        obj: dict[str, Any],
        status: dict[str, Any],
        fields: dict[str, Any],
        updates: list[ConditionUpdate],
        token: str | None,
    ) -> None:
        """Write what changed of conditions and fields; post an Event when Ready changes."""
        if not any(update.type == "Stalled" for update in updates):
            updates.append(ConditionUpdate("Stalled", False, "NotStalled"))
        updates.append(ConditionUpdate("Reconciling", False, "Idle"))
        ready = next(u for u in updates if u.type == "Ready")
        phase = "Suspended" if ready.reason == "Suspended" else "Active" if ready.status else "Blocked"
        finish_status(
            self.client,
            self.body,
            obj,
            status,
            fields,
            updates,
            self.now,
            lambda _: phase,
            echo_token=token is not None,
        )


def _sla_status(result: SlaResult, evaluated: str) -> dict[str, Any]:
    return {
        "evaluatedAt": evaluated,
        "tenants": [
            {
                "tenant": t.tenant,
                "total": t.total,
                "compliant": t.compliant,
                "warning": t.warning,
                "critical": t.critical,
                "percentage": t.percentage,
            }
            for t in result.tenants
        ],
        "outOfSla": [
            {
                "id": e.id,
                "name": e.name,
                "tenant": e.tenant,
                "severity": e.severity,
                **({"lastSnapshotAt": format_time(e.last_snapshot_at)} if e.last_snapshot_at else {}),
            }
            for e in result.out_of_sla
        ],
        "outOfSlaTotal": result.out_of_sla_total,
    }


def register(settings: OperatorSettings) -> None:
    """Register the SnapshotPolicy daemon and the update handler that wakes it."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        one = PolicyPass(kwargs["body"], str(kwargs["namespace"]), str(kwargs["name"]), kwargs["logger"], settings)
        return lambda: one.run(settings)

    register_polling(KIND, "snapshotpolicies", "schedule", settings, make_pass)
