"""The status every kind computes on every reconcile: generation, references, reconcile token, Ready;
and the status of a credential whose deletion waits for the objects that still use it.

A blocked deletion shows ``Ready=False`` and ``Reconciling=True``, both with reason ``InUse``, naming the
first users and how many more there are. kstatus (what Flux and ``kubectl wait`` build on) reports any
object with a deletionTimestamp as Terminating; read from its conditions alone (tools that ignore the
deletionTimestamp, or a view of the conditions only) Reconciling=True makes it InProgress, never Current.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from daytwo.crds.base import RECONCILE_ANNOTATION

from .conditions import ConditionUpdate, apply_conditions

__all__ = [
    "IN_USE",
    "RECONCILE_ANNOTATION",
    "in_use_conditions",
    "in_use_message",
    "in_use_status",
    "not_implemented",
    "status_patch",
]

#: The reason of Ready and Reconciling while a deletion waits for users.
IN_USE = "InUse"
#: How many users the message names before "and N more".
SHOWN_USERS = 3


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


def in_use_message(kind: str, users: Sequence[str], shown: int = SHOWN_USERS) -> str:
    """The message naming the first ``shown`` users: "X is in use by SnapshotPolicy/a, DriftRule/b and 3 more; ..."."""
    named = list(users[:shown])
    more = len(users) - len(named)
    if more:
        listed = f"{', '.join(named)} and {more} more"
    elif len(named) > 1:
        listed = f"{', '.join(named[:-1])} and {named[-1]}"
    else:
        listed = "".join(named)
    return f"{kind} is in use by {listed}; delete or repoint them (the deletion completes when the last one goes)"


def in_use_conditions(kind: str, users: Sequence[str]) -> list[ConditionUpdate]:
    """Ready=False and Reconciling=True (reason InUse, naming the users), Stalled cleared: in progress."""
    message = in_use_message(kind, users)
    return [
        ConditionUpdate("Ready", False, IN_USE, message),
        ConditionUpdate("Reconciling", True, IN_USE, message),
        ConditionUpdate("Stalled", False, IN_USE),
    ]


def in_use_status(
    status: dict[str, Any], generation: int | None, kind: str, users: Sequence[str], now: datetime
) -> tuple[dict[str, Any], str | None]:
    """The status fields to patch while a deletion waits for ``users`` ({} when status already says so),
    and the message of the Warning Event to post: only when the blocking users changed (else None)."""
    before = list(status.get("conditions") or [])
    after = apply_conditions(before, in_use_conditions(kind, users), generation, now)
    desired = {"conditions": after, "observedGeneration": generation}
    changes = {key: value for key, value in desired.items() if status.get(key) != value}
    old = next((c for c in before if c["type"] == "Ready"), None)
    new = next(c for c in after if c["type"] == "Ready")
    changed = old is None or (old.get("reason"), old.get("message")) != (new["reason"], new["message"])
    return changes, new["message"] if changed else None
