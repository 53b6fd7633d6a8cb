"""Condition bookkeeping: no churn, kstatus transient conditions, transition times."""

from __future__ import annotations

from datetime import UTC, datetime

from daytwo.operator.reconcile.conditions import ConditionUpdate, apply_conditions, ready_changed
from daytwo.operator.reconcile.lifecycle import not_implemented, status_patch

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_transition_time_kept_while_status_unchanged() -> None:
    first = apply_conditions([], [ConditionUpdate("Ready", False, "A", "a")], 1, T0)
    second = apply_conditions(first, [ConditionUpdate("Ready", False, "B", "b")], 2, T1)
    assert second[0]["lastTransitionTime"] == "2026-11-01T12:00:00Z"
    assert second[0]["reason"] == "B" and second[0]["observedGeneration"] == 2
    flipped = apply_conditions(second, [ConditionUpdate("Ready", True, "Ok")], 2, T1)
    assert flipped[0]["lastTransitionTime"] == "2026-11-01T13:00:00Z"


def test_reconciling_and_stalled_only_while_true() -> None:
    on = apply_conditions([], [ConditionUpdate("Stalled", True, "X"), ConditionUpdate("Reconciling", True, "Y")], 1, T0)
    assert {c["type"] for c in on} == {"Stalled", "Reconciling"}
    off = apply_conditions(
        on, [ConditionUpdate("Stalled", False, "X"), ConditionUpdate("Reconciling", False, "Y")], 1, T0
    )
    assert off == []


def test_ready_sorted_first() -> None:
    result = apply_conditions(
        [], [ConditionUpdate("Validated", True, "Ok"), ConditionUpdate("Ready", True, "Ok")], 1, T0
    )
    assert [c["type"] for c in result] == ["Ready", "Validated"]


def test_ready_changed_only_on_status_or_reason() -> None:
    before = apply_conditions([], [ConditionUpdate("Ready", False, "A", "one")], 1, T0)
    same = apply_conditions(before, [ConditionUpdate("Ready", False, "A", "two")], 1, T1)
    assert ready_changed(before, same) is None
    other = apply_conditions(before, [ConditionUpdate("Ready", False, "B")], 1, T1)
    assert ready_changed(before, other) is not None
    assert ready_changed([], before) is not None


def test_second_reconcile_patches_nothing() -> None:
    updates = [not_implemented("DriftRule", 6), ConditionUpdate("Stalled", True, "NotImplemented")]
    annotations = {"daytwo.io/reconcile-requested-at": "t1"}
    first = status_patch({}, annotations, 3, updates, T0, phase="Pending")
    assert first["observedGeneration"] == 3 and first["lastHandledReconcileAt"] == "t1"
    assert status_patch(first, annotations, 3, updates, T1, phase="Pending") == {}
    assert status_patch(first, {"daytwo.io/reconcile-requested-at": "t2"}, 3, updates, T1, phase="Pending") == {
        "lastHandledReconcileAt": "t2"
    }
