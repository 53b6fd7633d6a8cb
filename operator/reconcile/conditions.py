"""metav1.Condition bookkeeping in the kstatus style Argo CD and Flux understand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["ConditionUpdate", "apply_conditions", "ready_changed"]

#: Present only while True (kstatus): removed instead of being set to False.
TRANSIENT_TYPES = frozenset({"Reconciling", "Stalled"})


@dataclass(frozen=True)
class ConditionUpdate:
    """The desired state of one condition."""

    type: str
    status: bool
    reason: str
    message: str = ""


def apply_conditions(
    current: list[dict[str, Any]], updates: list[ConditionUpdate], generation: int | None, now: datetime
) -> list[dict[str, Any]]:
    """Merge updates into the current conditions.

    lastTransitionTime changes only when status flips, so repeated reconciles cause no churn;
    Reconciling and Stalled disappear when False; other types keep their place.
    """
    by_type = {condition["type"]: dict(condition) for condition in current}
    for update in updates:
        if update.type in TRANSIENT_TYPES and not update.status:
            by_type.pop(update.type, None)
            continue
        status = "True" if update.status else "False"
        previous = by_type.get(update.type)
        transition = (
            previous["lastTransitionTime"]
            if previous and previous.get("status") == status and previous.get("lastTransitionTime")
            else now.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        condition: dict[str, Any] = {
            "type": update.type,
            "status": status,
            "reason": update.reason,
            "message": update.message,
            "lastTransitionTime": transition,
        }
        if generation is not None:
            condition["observedGeneration"] = generation
        by_type[update.type] = condition
    order = ["Ready", "Reconciling", "Stalled"]
    return sorted(
        by_type.values(), key=lambda c: (order.index(c["type"]) if c["type"] in order else len(order), c["type"])
    )


def ready_changed(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The new Ready condition when its status or reason changed (worth an Event), else None."""
    old = next((c for c in before if c["type"] == "Ready"), None)
    new = next((c for c in after if c["type"] == "Ready"), None)
    if new is None:
        return None
    if old is None or (old.get("status"), old.get("reason")) != (new["status"], new["reason"]):
        return new
    return None
