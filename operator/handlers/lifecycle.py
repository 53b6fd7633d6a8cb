"""The handler every kind starts from: check references, set observedGeneration and conditions.

Level-triggered: create, update, resume and a periodic timer all call :func:`reconcile_object`,
which is idempotent and writes status only when something changed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import kopf
from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.kinds import by_kind

from ..kube import kube_client
from ..reconcile.conditions import ConditionUpdate, ready_changed
from ..reconcile.lifecycle import not_implemented, status_patch
from ..reconcile.references import missing_reference_condition, object_refs, secret_refs
from ..settings import OperatorSettings

__all__ = ["PENDING_ISSUES", "reconcile_object", "register_pending_kinds"]

#: Kinds whose own reconciliation has not landed yet, with the issue that brings it.
PENDING_ISSUES: dict[str, int] = {}


def reference_condition(kind: str, namespace: str, spec: dict[str, Any]) -> ConditionUpdate | None:
    """Ready=False naming the first missing object, Secret or key that ``spec`` references."""
    reader = kube_client()
    objects = {ref: reader.get_object(ref.kind, namespace, ref.name) is not None for ref in object_refs(kind, spec)}
    secrets: dict[Any, set[str] | None] = {}
    not_allowed: set[str] = set()
    for ref in secret_refs(kind, spec):
        found = reader.read_secret(namespace, ref.name)
        secrets[ref] = None if found is None else set(found.keys)
        if found is not None and not found.allowed:
            not_allowed.add(ref.name)
    return missing_reference_condition(objects, secrets, not_allowed)


def apply_status(body: kopf.Body, patch: kopf.Patch, updates: list[ConditionUpdate], phase: str | None = None) -> None:
    """Put the computed status into Kopf's patch and post an Event when Ready changes."""
    status = dict(body.get("status") or {})
    changes = status_patch(
        status, dict(body.metadata.annotations), body.metadata.get("generation"), updates, datetime.now(UTC), phase
    )
    if not changes:
        return
    patch.status.update(changes)
    if "conditions" in changes:
        ready = ready_changed(status.get("conditions", []), changes["conditions"])
        if ready is not None:
            event_type = "Normal" if ready["status"] == "True" else "Warning"
            kopf.event(body, type=event_type, reason=ready["reason"], message=ready["message"])


def reconcile_object(kind: str, body: kopf.Body, patch: kopf.Patch, logger: logging.Logger | kopf.Logger) -> None:
    """Reconcile a kind whose own logic is pending: valid references -> Ready=False NotImplemented."""
    missing = reference_condition(kind, str(body.metadata.namespace), dict(body.spec))
    ready = missing or not_implemented(kind, PENDING_ISSUES[kind])
    updates = [
        ready,
        ConditionUpdate("Stalled", True, ready.reason, ready.message),
        ConditionUpdate("Reconciling", False, ready.reason),
    ]
    apply_status(body, patch, updates, phase="Pending" if missing is None else "Blocked")
    logger.debug("reconciled %s: %s", kind, ready.reason)


def register_pending_kinds(settings: OperatorSettings) -> None:
    """Register create/update/resume/timer handlers for each pending kind (the deletion that waits for a
    credential's users is ``users_index``'s)."""
    for kind in PENDING_ISSUES:
        plural = by_kind(kind).info.plural

        def handler(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, _kind: str = kind, **_: Any) -> None:
            reconcile_object(_kind, body, patch, logger)

        for decorator in (kopf.on.create, kopf.on.update, kopf.on.resume):
            decorator(GROUP, VERSION, plural, id="reconcile")(handler)
        kopf.timer(
            GROUP, VERSION, plural, id="resync", interval=settings.resync_seconds, initial_delay=settings.resync_seconds
        )(handler)
