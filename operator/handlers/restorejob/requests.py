"""Requests on a RestoreJob after it ran: retry, cleanup (requested or by cleanupPolicy), cleanup-storage.

Each request is a ``requestedAt`` token in the spec, answered once: the token is echoed in
``status.retry``, ``status.lastHandledCleanupAt`` or ``status.cleanupStorage``, with what was done, or
why it was refused (``accepted: false`` / ``state: Refused``) and a Warning Event. A cleanup runs
over several passes (a server must be gone before its ports and volume come free); while one runs,
no step runs and no retry starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from daytwo.crds.base import Step, StepState
from daytwo.crds.restorejob import CleanupPolicy
from daytwo.crds.restorejob_status import CleanupStatus, RetryStatus

from ...errors import NotFound
from ...reconcile.restorejob.plan import Request
from ...reconcile.restorejob.steps import (
    CREATE_PORTS,
    CREATE_SERVER,
    CREATE_VOLUME,
    Progress,
    phase,
    progress,
    reset_from,
    resume_index,
    step_index,
)
from ...shared.times import format_time
from .cleanup import cleanup_openstack, cleanup_storage_openstack
from .context import JobContext
from .engine import StepEngine
from .openstack import OpenStackEngine
from .proxmox import ProxmoxEngine

__all__ = ["Requests"]

_FINAL_FAILURES = (Progress.FAILED, Progress.CANCELED)


def _now() -> str:
    return format_time(datetime.now(UTC))


def _failed_at(steps: list[Step]) -> str:
    """When the restore failed or was canceled (the latest finishedAt of such a step, RFC 3339)."""
    ended = [s.finished_at for s in steps if s.state in (StepState.FAILED, StepState.CANCELED) and s.finished_at]
    return format_time(max(ended)) if ended else ""


class Requests:
    """Answers the requests of one RestoreJob during one pass."""

    def __init__(self, ctx: JobContext, engine: Callable[[], StepEngine], request: Request) -> None:
        self.ctx, self.engine, self.request = ctx, engine, request

    @property
    def poll(self) -> float:
        """Seconds until a running cleanup is looked at again."""
        return self.ctx.settings.restore_poll_seconds

    # the order of a pass ------------------------------------------------------------------------------
    def before_steps(self) -> float | None:
        """Continue a running cleanup (nothing else happens meanwhile), then answer a retry request."""
        for key in ("cleanup", "cleanup_storage"):
            record = self.ctx.cleanup(key)
            if record is not None and record.state == "Running" and not self.advance(key, record.model_copy()):
                return self.poll
        self.retry()
        return None

    def after_steps(self) -> float | None:
        """Start the automatic cleanup of a failed or canceled restore, then requested cleanups."""
        state = progress(self.ctx.steps())
        spec = self.ctx.spec
        policy = spec.cleanup_policy
        record = self.ctx.cleanup("cleanup")
        automatic = state in _FINAL_FAILURES and policy != CleanupPolicy.RETAIN and not self.running("cleanup")
        if automatic and ((record.started_at if record else None) or "") < _failed_at(self.ctx.steps()):
            delete_volume = policy == CleanupPolicy.DELETE_PORTS_AND_VOLUME or self.ctx.settings.restore_cleanup_volumes
            self.start("cleanup", "cleanupPolicy", {"delete_volume": delete_volume})
        wanted = spec.cleanup
        token = wanted.requested_at if wanted else None
        if wanted and token != self.ctx.status.last_handled_cleanup_at and not self.running("cleanup"):
            self.ctx.write(last_handled_cleanup_at=token)
            if state in _FINAL_FAILURES:
                self.start("cleanup", wanted.requested_at, {"delete_volume": wanted.delete_volume})
            else:
                self.refuse("cleanup", wanted.requested_at, "only a failed or canceled restore can be cleaned up")
        storage, answered = spec.cleanup_storage, self.ctx.cleanup("cleanup_storage")
        if storage and storage.requested_at != (answered.requested_at if answered else None):
            token = storage.requested_at
            options = {
                "delete_old_volume": storage.delete_old_volume,
                "delete_source_snapshot": storage.delete_source_snapshot,
            }
            if state is not Progress.SUCCEEDED or self.ctx.dry_run:
                self.refuse("cleanup_storage", token, "only a completed (not dry-run) restore has storage to clean up")
            elif self.request.provider != "openstack":
                self.refuse("cleanup_storage", token, "Proxmox restores leave no storage behind")
            else:
                self.start("cleanup_storage", token, options)
        return self.poll if self.running("cleanup") or self.running("cleanup_storage") else None

    # cleanups -----------------------------------------------------------------------------------------
    def running(self, key: str) -> bool:
        """Whether that cleanup is still in progress."""
        record = self.ctx.cleanup(key)
        return record is not None and record.state == "Running"

    def start(self, key: str, token: str, options: dict[str, Any]) -> None:
        """Record a new cleanup (``key``: cleanup or cleanup_storage) as Running and make its first pass."""
        record = CleanupStatus(requested_at=token, state="Running", started_at=_now(), **options)
        self.ctx.write(**{key: record})
        self.advance(key, record.model_copy())

    def refuse(self, key: str, token: str, why: str) -> None:
        """Answer a cleanup request that cannot run."""
        message = f"refused: {why}; this restore is {phase(True, progress(self.ctx.steps()), None)}"
        self.ctx.write(**{key: CleanupStatus(requested_at=token, state="Refused", finished_at=_now(), message=message)})
        self.ctx.event("Warning", "CleanupRefused", f"{_FIELD[key]}: {message}")

    def advance(self, key: str, record: CleanupStatus) -> bool:
        """One pass of a running cleanup (``record``: a copy to fill in); records the outcome when it
        finishes. True when finished."""
        done = self.cleanup_pass(key, record)
        if done:
            record.state = "Failed" if record.errors else "Succeeded"
            record.finished_at = _now()
            record.message = _summary(record)
            if record.errors:
                self.ctx.event("Warning", "CleanupFailed", f"{_FIELD[key]}: {record.message}")
            else:
                self.ctx.event("Normal", "CleanedUp", f"{_FIELD[key]}: {record.message}")
        for field in _LIST_FIELDS:  # an empty list is not written (as before: no churn of [] vs absent)
            if getattr(record, field) == []:
                setattr(record, field, None)
        self.ctx.write(**{key: record})
        return done

    def cleanup_pass(self, key: str, record: CleanupStatus) -> bool:
        """Delegate to the provider's cleanup."""
        engine = self.engine()
        if isinstance(engine, ProxmoxEngine):
            return engine.cleanup(record)
        if not isinstance(engine, OpenStackEngine):
            return True
        if key == "cleanup":
            return cleanup_openstack(engine, record)
        return cleanup_storage_openstack(engine, record, self.request.mode)

    # retry --------------------------------------------------------------------------------------------
    def retry(self) -> None:
        """Resume a failed restore from its failed step, reusing what still exists (pf9's retry)."""
        wanted, previous = self.ctx.spec.retry, self.ctx.retry
        if wanted is None or (previous is not None and wanted.requested_at == previous.requested_at):
            return
        token = wanted.requested_at
        steps = self.ctx.steps()
        state = progress(steps)
        count = previous.count if previous else 0
        if state is not Progress.FAILED:
            message = f"refused: only a failed restore can be retried; this one is {phase(True, state, None)}"
            refused = RetryStatus(requested_at=token, handled_at=_now(), count=count, accepted=False, message=message)
            self.ctx.write(retry=refused)
            self.ctx.event("Warning", "RetryRefused", message)
            return
        strategy = wanted.ip_strategy or self.request.ip_strategy
        vanished, reused = self.live_products(steps)
        index = resume_index(steps, vanished, redo_ports=strategy != self.request.ip_strategy)
        if index is None:
            return
        resumed = steps[index].name
        reused = {k: v for k, v in reused.items() if (step_index(steps, _MADE_BY[k]) or 0) < index}
        message = f"retry {count + 1}: resumed from {resumed}" + (
            f", reusing {', '.join(f'{k} {v}' for k, v in reused.items())}" if reused else ""
        )
        answer = RetryStatus(
            requested_at=token,
            handled_at=_now(),
            count=count + 1,
            accepted=True,
            ip_strategy=strategy,
            resumed_from_step=resumed,
            reused_resources=reused or None,
            message=message,
        )
        self.ctx.write(steps=reset_from(steps, index, f"retry {count + 1}"), retry=answer, result=None)
        self.ctx.event("Normal", "Retrying", message)

    def live_products(self, steps: list[Step]) -> tuple[set[str], dict[str, str]]:
        """(steps whose products are gone, reusable products by pf9 key) of an OpenStack restore."""
        engine = self.engine()
        if not isinstance(engine, OpenStackEngine) or not self.ctx.plan.project_id:
            return set(), {}
        vanished: set[str] = set()
        reused: dict[str, str] = {}
        finished = {s.name for s in steps if s.state in (StepState.SUCCEEDED, StepState.SKIPPED)}
        for type_, key, step in (("volume", "volume_id", CREATE_VOLUME), ("server", "server_id", CREATE_SERVER)):
            live = [r for r in self.ctx.resources(type_) if _exists(engine, type_, r.id)]
            if live:
                reused[key] = live[-1].id
            elif step in finished:
                vanished.add(step)
        ports = [r for r in self.ctx.resources("port") if _exists(engine, "port", r.id)]
        expected = len(self.ctx.plan.networks or [])
        if ports:
            reused["port_ids"] = ",".join(r.id for r in ports)
        if CREATE_PORTS in finished and len(ports) < expected:
            vanished.add(CREATE_PORTS)
        return vanished, reused


_MADE_BY = {"volume_id": CREATE_VOLUME, "port_ids": CREATE_PORTS, "server_id": CREATE_SERVER}
#: The status field of each cleanup record, as Events name it.
_FIELD = {"cleanup": "cleanup", "cleanup_storage": "cleanupStorage"}
#: The list fields of a cleanup record (left out of status while empty).
_LIST_FIELDS = ("deleted_servers", "deleted_ports", "deleted_volumes", "deleted_snapshots", "skipped", "errors")


def _exists(engine: OpenStackEngine, type_: str, id_: str) -> bool:
    get = {"volume": engine.admin.get_volume, "server": engine.admin.get_server, "port": engine.admin.get_port}[type_]
    try:
        found = get(id_)
    except NotFound:
        engine.ctx.forget(type_, id_)
        return False
    return str(getattr(found, "status", "")).lower() not in ("error", "deleting", "error_deleting")


def _summary(record: CleanupStatus) -> str:
    parts = [
        f"deleted {label}: {', '.join(items)}"
        for items, label in (
            (record.deleted_servers, "servers"),
            (record.deleted_ports, "ports"),
            (record.deleted_volumes, "volumes"),
            (record.deleted_snapshots, "snapshots"),
        )
        if items
    ]
    if record.skipped:
        parts.append(f"kept: {'; '.join(record.skipped)}")
    if record.errors:
        parts.append(f"errors: {'; '.join(record.errors)}")
    return ("; ".join(parts) or "nothing to clean up")[:4096]
