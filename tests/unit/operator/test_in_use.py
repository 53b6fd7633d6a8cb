"""A deletion that waits for users: the status says why (kstatus: in progress, never current) and the
Warning Event is posted once per change of the blocking users."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from daytwo.operator.reconcile.conditions import ConditionUpdate, apply_conditions
from daytwo.operator.reconcile.lifecycle import in_use_message, in_use_status

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 1, 12, 5, tzinfo=UTC)


def kstatus(obj: dict[str, Any]) -> str:
    """kstatus ``Compute`` (sigs.k8s.io/cli-utils pkg/kstatus/status, generic.go + status.go) for a custom
    resource, whose kind has no built-in rules. In order, the first that applies wins:

    1. ``metadata.deletionTimestamp`` set -> Terminating.
    2. ``status.observedGeneration`` present and != ``metadata.generation`` -> InProgress.
    3. The first condition, in list order, that is ``Reconciling=True`` -> InProgress, or ``Stalled=True``
       -> Failed.
    4. A ``Ready`` condition: True -> Current; False or Unknown -> InProgress.
    5. Otherwise -> Current.
    """
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = obj.get("status") or {}
    if "observedGeneration" in status and status["observedGeneration"] != obj["metadata"].get("generation"):
        return "InProgress"
    conditions = status.get("conditions") or []
    for condition in conditions:
        if condition["type"] == "Reconciling" and condition["status"] == "True":
            return "InProgress"
        if condition["type"] == "Stalled" and condition["status"] == "True":
            return "Failed"
    for condition in conditions:
        if condition["type"] == "Ready":
            return "Current" if condition["status"] == "True" else "InProgress"
    return "Current"


def test_message_names_the_first_users_and_counts_the_rest() -> None:
    assert in_use_message("ProxmoxNode", ["SnapshotPolicy/a"]).startswith(
        "ProxmoxNode is in use by SnapshotPolicy/a; delete or repoint them"
    )
    assert "by DriftRule/b and SnapshotPolicy/a;" in in_use_message(
        "CloudCredential", ["DriftRule/b", "SnapshotPolicy/a"]
    )
    users = ["DriftRule/a", "DriftRule/b", "RestoreJob/c", "SnapshotPolicy/d", "SnapshotPolicy/e"]
    assert "in use by DriftRule/a, DriftRule/b, RestoreJob/c and 2 more; delete or repoint them" in in_use_message(
        "CloudCredential", users
    )


def test_blocked_deletion_is_in_progress_never_current() -> None:
    ready = apply_conditions(
        [],
        [ConditionUpdate("Ready", True, "Ready", "validated"), ConditionUpdate("Stalled", False, "Ready")],
        1,
        T0,
    )
    obj: dict[str, Any] = {"metadata": {"generation": 2}, "status": {"observedGeneration": 1, "conditions": ready}}
    assert kstatus({"metadata": {"generation": 1}, "status": {**obj["status"]}}) == "Current"
    changes, event = in_use_status(obj["status"], 2, "CloudCredential", ["DriftRule/a"], T1)
    blocked = {**obj, "status": {**obj["status"], **changes}}
    assert kstatus(blocked) == "InProgress", "from its conditions and observedGeneration alone"
    assert kstatus({**blocked, "metadata": {**blocked["metadata"], "deletionTimestamp": "2026-11-01T12:05:00Z"}}) == (
        "Terminating"
    )
    by_type = {c["type"]: c for c in changes["conditions"]}
    assert by_type["Ready"]["status"] == "False" and by_type["Ready"]["reason"] == "InUse"
    assert by_type["Reconciling"]["status"] == "True" and "Stalled" not in by_type
    assert changes["observedGeneration"] == 2
    assert event is not None and "in use by DriftRule/a" in event


def test_one_event_per_change_of_the_blocking_users() -> None:
    status: dict[str, Any] = {}
    changes, event = in_use_status(status, 3, "ProxmoxNode", ["SnapshotPolicy/a", "SnapshotPolicy/b"], T0)
    assert event is not None
    status.update(changes)
    again, repeated = in_use_status(status, 3, "ProxmoxNode", ["SnapshotPolicy/a", "SnapshotPolicy/b"], T1)
    assert again == {} and repeated is None, "a retry with the same users writes and posts nothing"
    fewer, event = in_use_status(status, 3, "ProxmoxNode", ["SnapshotPolicy/b"], T1)
    assert event is not None and "SnapshotPolicy/a" not in event
    assert [c["lastTransitionTime"] for c in fewer["conditions"]] == ["2026-11-01T12:00:00Z"] * 2
