"""What every RestoreJob step shares: the object, its status writer, and the step bookkeeping.

Every status change is patched at once (:func:`write_status` patches only what differs), so a step
is Running in the apiserver before its cloud call goes out, and what it created is recorded before
the next call. Steps end by calling :meth:`JobContext.succeed` or raising :class:`StepFailed`, or
return a delay when they wait for the cloud.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
from daytwo.crds.restorejob import RestoreJobSpec
from daytwo.crds.restorejob_status import (
    CleanupStatus,
    CreatedResource,
    InFlightCall,
    OriginalVm,
    RestorePlan,
    RetryStatus,
)

from ...kube import KubeClient
from ...reconcile.restorejob.steps import add_resource, fail_step, finish_step, mark_deleted, owner_mark, start_step
from ...settings import OperatorSettings
from ...shared.times import parse_time

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
    """One RestoreJob during one pass: its spec (parsed once, here at the handler boundary), the status as
    last written (the JSON the apiserver holds, so a write patches only what differs; typed views below),
    and how to write it."""

    client: KubeClient
    body: kopf.Body
    obj: dict[str, Any]
    settings: OperatorSettings
    wake: asyncio.Event | None = None
    status: dict[str, Any] = field(default_factory=dict)
    spec: RestoreJobSpec = field(init=False)

    def __post_init__(self) -> None:
        self.status = dict(self.obj.get("status") or {})
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
        return RestorePlan.model_validate(self.status.get("plan") or {})

    @property
    def original(self) -> OriginalVm | None:
        """status.original (REPLACE: the VM as RECORD_ORIGINAL_VM found it)."""
        found = self.status.get("original")
        return OriginalVm.model_validate(found) if found else None

    @property
    def in_flight(self) -> InFlightCall | None:
        """status.inFlight (a create that may still land)."""
        found = self.status.get("inFlight")
        return InFlightCall.model_validate(found) if found else None

    @property
    def retry(self) -> RetryStatus | None:
        """status.retry (the last retry request answered)."""
        found = self.status.get("retry")
        return RetryStatus.model_validate(found) if found else None

    def cleanup(self, key: str) -> CleanupStatus | None:
        """status.cleanup or status.cleanupStorage (``key``)."""
        found = self.status.get(key)
        return CleanupStatus.model_validate(found) if found else None

    def write(self, changes: dict[str, Any]) -> None:
        """Patch the fields that changed, each replaced whole (a key a record no longer has is removed, which
        a plain JSON merge patch would keep); keep ``status`` current."""
        diff = {key: value for key, value in changes.items() if self.status.get(key) != value}
        if not diff:
            return
        patch = {key: merge_patch(self.status.get(key), value) for key, value in diff.items()}
        self.client.patch_status(KIND, self.namespace, self.name, patch)
        for key, value in diff.items():
            if value is None:
                self.status.pop(key, None)
            else:
                self.status[key] = copy.deepcopy(value)

    def woken(self) -> bool:
        """Whether the object changed since the pass began (a cancel, say): end the pass, read it again."""
        return self.wake is not None and self.wake.is_set()

    def event(self, type_: str, reason: str, message: str) -> None:
        """A Kubernetes Event on the RestoreJob."""
        kopf.event(self.body, type=type_, reason=reason, message=message[:1024])

    # steps
    def steps(self) -> list[dict[str, Any]]:
        """status.steps (a copy)."""
        return [dict(step) for step in self.status.get("steps") or []]

    def _put(self, index: int, step: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        steps = self.steps()
        steps[index] = step
        self.write({"steps": steps, **(extra or {})})

    def begin(self, index: int, external_ids: dict[str, str] | None = None) -> None:
        """Record the step Running (one more attempt) before its cloud call."""
        self._put(index, start_step(self.steps()[index], datetime.now(UTC), external_ids))

    def note(self, index: int, external_ids: dict[str, str] | None = None, message: str | None = None) -> None:
        """Record ids (a task UPID, a vmid) or a message on a running step without a new attempt."""
        step = self.steps()[index]
        if external_ids:
            step["externalIds"] = {**(step.get("externalIds") or {}), **external_ids}
        if message is not None:
            step["message"] = message[:4096]
        self._put(index, step)

    def succeed(
        self, index: int, message: str, *, skipped: bool = False, external_ids: dict[str, str] | None = None
    ) -> None:
        """The step is done (Skipped when there was nothing to do)."""
        state = "Skipped" if skipped else "Succeeded"
        self._put(index, finish_step(self.steps()[index], datetime.now(UTC), message, state=state,
                                     external_ids=external_ids))  # fmt: skip

    def fail(self, index: int, reason: str, message: str) -> None:
        """The step failed for good."""
        self._put(index, fail_step(self.steps()[index], datetime.now(UTC), reason, message))

    def waited_too_long(self, index: int) -> bool:
        """Whether a waiting step has waited longer than WAIT_TIMEOUT."""
        return self.waited_too_long_since(self.steps()[index].get("startedAt"))

    @staticmethod
    def waited_too_long_since(started: str | None) -> bool:
        """Whether WAIT_TIMEOUT has passed since ``started`` (an RFC 3339 UTC time)."""
        begun = parse_time(started)
        return begun is not None and datetime.now(UTC) - begun > WAIT_TIMEOUT

    # created resources
    def resources(self, type_: str | None = None, *, live: bool = True) -> list[CreatedResource]:
        """createdResources (of one type; only those not deleted unless ``live`` is False)."""
        return [
            found
            for found in map(CreatedResource.model_validate, self.status.get("createdResources") or [])
            if (type_ is None or found.type == type_) and not (live and found.deleted)
        ]

    def record(self, entry: dict[str, Any]) -> None:
        """Add (or update) a created resource."""
        self.write({"createdResources": add_resource(self.status.get("createdResources") or [], entry)})

    def forget(self, type_: str, id_: str) -> None:
        """Mark a created resource deleted."""
        self.write({"createdResources": mark_deleted(self.status.get("createdResources") or [], type_, id_)})
