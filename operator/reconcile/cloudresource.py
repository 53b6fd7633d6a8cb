"""CloudResource decisions, pure: spec -> ProvisionRequest, what the provider reports -> next action and status.

The handler does the I/O in this order, so a crash anywhere leaves exactly one resource:
1. no ``status.externalId``: ``find`` (the owner tag) adopts what an interrupted attempt made, else ``create``
   (idempotent for the token = metadata.uid); the id goes to status *before* anything waits on the provider;
2. with an id: ``observe``, then :func:`assess` says whether to wait (creating, with a backoff growing with the
   resource's age), apply an in-place update (the spec changed since it was last applied), report drift, or
   stop (failed, deleted outside daytwo).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from daytwo.crds.cloudresource import MAX_LOG_LINES, CloudResourceSpec, ResourceKind

from ..backends.provisioning import (
    ProvisionedResource,
    ProvisionRequest,
    ProvisionState,
    ResourceType,
    managed_view,
)
from ..shared.times import format_time
from .conditions import ConditionUpdate

__all__ = [
    "Action",
    "Assessment",
    "append_line",
    "assess",
    "cloud_name",
    "drift_of",
    "phase_of",
    "poll_delay",
    "provision_request",
]

#: The longest wait between two polls of a resource that is still being created or deleted.
MAX_POLL_SECONDS = 30.0
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def cloud_name(name: str, uid: str) -> str:
    """The deterministic cloud-side name: ``d2-<name>-<uid[:8]>``, lower-case [a-z0-9-], at most 63 characters
    (valid for S3 buckets, Azure resources and GCP resources; the uid part keeps it unique)."""
    base = _UNSAFE.sub("-", name.lower()).strip("-")[:50].rstrip("-") or "resource"
    return f"d2-{base}-{uid[:8].lower()}"


def provision_request(spec: CloudResourceSpec, name: str, uid: str) -> ProvisionRequest:
    """The provider-neutral request of a spec (token and owner tag: the object's uid)."""
    settings: dict[str, str | int | bool | tuple[str, ...]] = {}
    if spec.vm is not None:
        vm = spec.vm
        settings = {"size": vm.size, "image": vm.image, "publicIp": vm.public_ip}
        if vm.security_groups:  # none given: the provider's default group, not managed (no drift, no update)
            settings["securityGroups"] = tuple(vm.security_groups)
        settings.update({k: v for k, v in (("subnet", vm.subnet), ("keyName", vm.key_name)) if v})
    elif spec.storage is not None:
        settings = {"storageKind": str(spec.storage.kind)}
        if spec.storage.size_gb is not None:
            settings["sizeGb"] = spec.storage.size_gb
        if spec.storage.zone:
            settings["zone"] = spec.storage.zone
    elif spec.network is not None:
        subnets = tuple(f"{s.name}={s.cidr}" for s in spec.network.subnets or ())
        settings = {"cidr": spec.network.cidr, "subnets": subnets}
    return ProvisionRequest(
        type=ResourceType(str(spec.type)),
        name=cloud_name(name, uid),
        token=uid,
        owner_tag=uid,
        region=spec.region,
        settings=settings,
        tags=dict(spec.tags or {}),
    )


class Action(StrEnum):
    """What the handler does next with an observed resource."""

    WAIT = "wait"
    UPDATE = "update"
    SETTLED = "settled"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Assessment:
    """The next action, the conditions and the status fields that follow from one observation."""

    action: Action
    updates: list[ConditionUpdate]
    fields: dict[str, Any] = field(default_factory=dict)
    line: str = ""


def drift_of(request: ProvisionRequest, observed: ProvisionedResource) -> list[dict[str, str]]:
    """The managed fields whose cloud value differs from the spec (only fields the provider reports)."""
    desired = managed_view(request)
    return [
        {"field": key, "desired": value, "actual": observed.managed[key]}
        for key, value in sorted(desired.items())
        if key in observed.managed and observed.managed[key] != value
    ]


def assess(
    request: ProvisionRequest,
    observed: ProvisionedResource | None,
    *,
    spec_changed: bool,
    refused: str | None = None,
) -> Assessment:
    """Decide from one observation. ``spec_changed``: the generation was not applied yet (or an update was
    refused before and the spec still differs); ``refused`` is the provider's refusal of that update."""
    if observed is None:
        message = "the resource was deleted outside daytwo; delete this CloudResource (or re-create it)"
        stalled = ConditionUpdate("Stalled", True, "ExternallyDeleted", message)
        return Assessment(
            Action.STOPPED,
            [ConditionUpdate("Ready", False, "ExternallyDeleted", message), stalled, _not_reconciling()],
            {"state": "deleted"},
            message,
        )
    fields: dict[str, Any] = {"state": str(observed.state), "outputs": dict(observed.outputs)}
    if observed.state is ProvisionState.FAILED:
        message = f"the provider reports {observed.external_id} failed: {observed.message or 'no details'}"
        updates = [ConditionUpdate("Ready", False, "ProvisioningFailed", message)]
        updates += [ConditionUpdate("Stalled", True, "ProvisioningFailed", message), _not_reconciling()]
        return Assessment(Action.STOPPED, updates, fields, message)
    if observed.state is not ProvisionState.ACTIVE:
        message = f"{observed.external_id} is {observed.state}: {observed.message}".rstrip(": ")
        updates = [ConditionUpdate("Ready", False, "Provisioning", message)]
        updates += [ConditionUpdate("Reconciling", True, "Provisioning", message), _not_stalled()]
        return Assessment(Action.WAIT, updates, fields, message)
    drift = drift_of(request, observed)
    fields["drift"] = drift
    if refused is not None:
        updates = [ConditionUpdate("Ready", False, "UpdateRefused", refused)]
        updates += [ConditionUpdate("Stalled", True, "UpdateRefused", refused), _not_reconciling()]
        return Assessment(Action.STOPPED, updates, fields, f"update refused: {refused}")
    if drift and spec_changed:
        names = ", ".join(d["field"] for d in drift)
        message = f"applying in place: {names}"
        updates = [ConditionUpdate("Ready", False, "Updating", message)]
        updates += [ConditionUpdate("Reconciling", True, "Updating", message), _not_stalled()]
        return Assessment(Action.UPDATE, updates, fields, message)
    summary = ", ".join(f"{k}={v}" for k, v in sorted(observed.outputs.items()) if v)
    message = f"{observed.external_id} is active ({summary})"
    if drift:
        message += "; drift in " + ", ".join(d["field"] for d in drift) + " (see status.drift)"
    updates = [ConditionUpdate("Ready", True, "Active", message), _not_reconciling(), _not_stalled()]
    return Assessment(Action.SETTLED, updates, fields, message)


def _not_reconciling() -> ConditionUpdate:
    return ConditionUpdate("Reconciling", False, "Settled")


def _not_stalled() -> ConditionUpdate:
    return ConditionUpdate("Stalled", False, "Progressing")


def poll_delay(age_seconds: float) -> float:
    """Seconds to the next poll of a resource still in flight: 1 s at first, growing with its age, at most 30 s
    (a VM that takes minutes is not polled every second)."""
    return min(MAX_POLL_SECONDS, max(1.0, age_seconds / 10.0))


def append_line(lines: list[dict[str, Any]] | None, message: str, now: datetime) -> list[dict[str, Any]]:
    """The progress lines with ``message`` appended (unless it repeats the last one), the newest MAX_LOG_LINES."""
    current = list(lines or [])
    if not message or (current and current[-1].get("message") == message[:1024]):
        return current
    current.append({"time": format_time(now), "message": message[:1024]})
    return current[-MAX_LOG_LINES:]


def phase_of(conditions: list[dict[str, Any]]) -> str:
    """A one-word summary for the printer column."""
    ready = next((c for c in conditions if c["type"] == "Ready"), {})
    reason = ready.get("reason")
    if ready.get("status") == "True":
        return "Active"
    if reason in ("Provisioning", "Updating", "Creating"):
        return str(reason)
    if reason in ("ProvisioningFailed", "ExternallyDeleted", "UpdateRefused"):
        return "Failed"
    return "Blocked"


def resource_kind(spec: CloudResourceSpec) -> ResourceKind:
    """The spec's type as the model's enum (pydantic keeps enum values as plain strings)."""
    return ResourceKind(str(spec.type))
