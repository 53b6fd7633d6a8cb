"""What every RestoreJob step shares: the object, its status writer, and the step bookkeeping.

Every status change is patched at once (:func:`write_status` patches only what differs), so a step
is Running in the apiserver before its cloud call goes out, and what it created is recorded before
the next call. Steps end by calling :meth:`JobContext.succeed` or raising :class:`StepFailed`, or
return a delay when they wait for the cloud.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
from daytwo.crds.base import Step, StepState
from daytwo.crds.restorejob import RestoreJobSpec
from daytwo.crds.restorejob_status import (
    CleanupStatus,
    CreatedResource,
    InFlightCall,
    OriginalVm,
    RestoreJobStatus,
    RestorePlan,
    RetryStatus,
)

from ...kube import KubeClient
from ...reconcile.restorejob.steps import (
    add_resource,
    fail_step,
    finish_step,
    mark_deleted,
    note_step,
    owner_mark,
    start_step,
)
from ...settings import OperatorSettings

__all__ = ["KIND", "WAIT_TIMEOUT", "JobContext", "Retry", "StepFailed", "merge_patch"]

KIND = "RestoreJob"
#: A volume, server or task that is not ready after this long fails its step.
WAIT_TIMEOUT = timedelta(minutes=30)


def merge_patch(old: Any, new: Any) -> Any:
    """The RFC 7386 merge patch that turns ``old`` into ``new`` (removed keys become null)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old or old[key] != value:
            patch[key] = merge_patch(old.get(key), value)
    return patch


class Retry(Exception):
    """A transient failure: come back after ``delay`` seconds."""

    def __init__(self, delay: float, message: str) -> None:
        super().__init__(message)
        self.delay, self.message = delay, message


class StepFailed(Exception):
    """The current step cannot succeed; ``reason`` becomes the condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass
class JobContext:
    """One RestoreJob during one pass: its spec and status (parsed once, here at the handler boundary), the
    status as last written (the JSON the apiserver holds, so a write patches only what differs), and how to
    write it."""

    client: KubeClient
    body: kopf.Body
    obj: dict[str, Any]
    settings: OperatorSettings
    wake: asyncio.Event | None = None
    status: RestoreJobStatus = field(init=False)
    written: dict[str, Any] = field(init=False)
    spec: RestoreJobSpec = field(init=False)

    def __post_init__(self) -> None:
        self.status = RestoreJobStatus.model_validate(self.obj.get("status") or {})
        self.written = self.status.to_k8s()
        self.spec = RestoreJobSpec.model_validate(self.obj["spec"])

    @property
    def namespace(self) -> str:
        """metadata.namespace."""
        return str(self.obj["metadata"]["namespace"])

    @property
    def name(self) -> str:
        """metadata.name."""
        return str(self.obj["metadata"]["name"])

    @property
    def uid(self) -> str:
        """metadata.uid: tells this job's cloud objects from those of an earlier job of the same name."""
        return str(self.obj["metadata"].get("uid") or "")

    @property
    def owner(self) -> str:
        """The ``daytwo.io/owner`` mark."""
        return owner_mark(self.namespace, self.name)

    @property
    def dry_run(self) -> bool:
        """spec.dryRun, or the operator's restore dry-run setting."""
        return self.spec.dry_run or self.settings.restore_dry_run

    @property
    def plan(self) -> RestorePlan:
        """status.plan (what VALIDATE_LIVE_STATE recorded; empty before)."""
        return self.status.plan or RestorePlan()

    @property
    def original(self) -> OriginalVm | None:
        """status.original (REPLACE: the VM as RECORD_ORIGINAL_VM found it)."""
        return self.status.original

    @property
    def in_flight(self) -> InFlightCall | None:
        """status.inFlight (a create that may still land)."""
        return self.status.in_flight

    @property
    def retry(self) -> RetryStatus | None:
        """status.retry (the last retry request answered)."""
        return self.status.retry

    def cleanup(self, key: str) -> CleanupStatus | None:
        """status.cleanup or status.cleanupStorage (``key``: cleanup or cleanup_storage)."""
        found = getattr(self.status, key)
        return found if isinstance(found, CleanupStatus) else None

    def write(self, **changes: Any) -> None:
        """Set status fields (snake_case, typed values) and patch those that changed, each replaced whole (a key
        a record no longer has is removed, which a plain JSON merge patch would keep)."""
        self.status = self.status.model_copy(update=changes)
        fields = self.status.patch_of(*changes)
        diff = {key: value for key, value in fields.items() if self.written.get(key) != value}
        if not diff:
            return
        patch = {key: merge_patch(self.written.get(key), value) for key, value in diff.items()}
        self.client.patch_status(KIND, self.namespace, self.name, patch)
        for key, value in diff.items():
            if value is None:
                self.written.pop(key, None)
            else:
                self.written[key] = value

    def woken(self) -> bool:
        """Whether the object changed since the pass began (a cancel, say): end the pass, read it again."""
        return self.wake is not None and self.wake.is_set()

    def event(self, type_: str, reason: str, message: str) -> None:
        """A Kubernetes Event on the RestoreJob."""
        kopf.event(self.body, type=type_, reason=reason, message=message[:1024])

    # steps
    def steps(self) -> list[Step]:
        """status.steps (a copy of the list)."""
        return list(self.status.steps or [])

    def _put(self, index: int, step: Step) -> None:
        steps = self.steps()
        steps[index] = step
        self.write(steps=steps)

    def begin(self, index: int, external_ids: dict[str, str] | None = None) -> None:
        """Record the step Running (one more attempt) before its cloud call."""
        self._put(index, start_step(self.steps()[index], datetime.now(UTC), external_ids))

    def note(self, index: int, external_ids: dict[str, str] | None = None, message: str | None = None) -> None:
        """Record ids (a task UPID, a vmid) or a message on a running step without a new attempt."""
        self._put(index, note_step(self.steps()[index], external_ids, message))

    def succeed(
        self, index: int, message: str, *, skipped: bool = False, external_ids: dict[str, str] | None = None
    ) -> None:
        """The step is done (Skipped when there was nothing to do)."""
        state = StepState.SKIPPED if skipped else StepState.SUCCEEDED
        self._put(index, finish_step(self.steps()[index], datetime.now(UTC), message, state=state,
                                     external_ids=external_ids))  # fmt: skip

    def fail(self, index: int, reason: str, message: str) -> None:
        """The step failed for good."""
        self._put(index, fail_step(self.steps()[index], datetime.now(UTC), reason, message))

    def waited_too_long(self, index: int) -> bool:
        """Whether a waiting step has waited longer than WAIT_TIMEOUT."""
        return self.waited_too_long_since(self.steps()[index].started_at)

    @staticmethod
    def waited_too_long_since(started: datetime | None) -> bool:
        """Whether WAIT_TIMEOUT has passed since ``started``."""
        return started is not None and datetime.now(UTC) - started > WAIT_TIMEOUT

    # created resources
    def resources(self, type_: str | None = None, *, live: bool = True) -> list[CreatedResource]:
        """createdResources (of one type; only those not deleted unless ``live`` is False)."""
        return [
            found
            for found in self.status.created_resources or []
            if (type_ is None or found.type == type_) and not (live and found.deleted)
        ]

    def record(self, entry: CreatedResource) -> None:
        """Add (or update) a created resource."""
        self.write(created_resources=add_resource(self.status.created_resources or [], entry))

    def forget(self, type_: str, id_: str) -> None:
        """Mark a created resource deleted."""
        self.write(created_resources=mark_deleted(self.status.created_resources or [], type_, id_))
