"""The status every kind computes on every reconcile: generation, references, reconcile token, Ready."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .conditions import ConditionUpdate, apply_conditions

__all__ = ["RECONCILE_ANNOTATION", "not_implemented", "status_patch"]

RECONCILE_ANNOTATION = "daytwo.io/reconcile-requested-at"


def not_implemented(kind: str, issue: int) -> ConditionUpdate:
    """The honest Ready condition of a kind whose reconciliation has not landed yet."""
    return ConditionUpdate(
        "Ready",
        False,
        "NotImplemented",
        f"references are valid; {kind} reconciliation is not implemented yet (daytwo issue #{issue})",
    )


def status_patch(
    status: dict[str, Any],
    annotations: dict[str, str],
    generation: int | None,
    updates: list[ConditionUpdate],
    now: datetime,
    phase: str | None = None,
) -> dict[str, Any]:
    """The status fields to patch, or {} when nothing would change (no churn for GitOps)."""
    conditions = apply_conditions(status.get("conditions", []), updates, generation, now)
    desired: dict[str, Any] = {"observedGeneration": generation, "conditions": conditions}
    token = annotations.get(RECONCILE_ANNOTATION)
    if token is not None:
        desired["lastHandledReconcileAt"] = token
    if phase is not None:
        desired["phase"] = phase
    return {key: value for key, value in desired.items() if status.get(key) != value}
