"""No status write at rest: routine pass times (coarse fields) are written only with a real change or when
their heartbeat is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.operator.handlers.polling import finish_status
from daytwo.operator.reconcile.conditions import ConditionUpdate

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
OBJ = {"kind": "DriftRule", "metadata": {"namespace": "ns-1", "name": "rule-a", "generation": 3}}


class Patches:
    """Records status patches instead of sending them (finish_status's only use of its client)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def patch_status(self, kind: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.sent.append(status)


def one_pass(client: Patches, status: dict[str, Any], at: datetime, evaluated: int, due: bool) -> None:
    """A DriftRule-like pass: a result field, a transient condition, and the pass time as a coarse field."""
    updates = [ConditionUpdate("Stalled", False, "NotStalled")]
    finish_status(
        client,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  # no Ready flip here: nothing is posted
        OBJ,
        status,
        {"resourcesEvaluated": evaluated},
        updates,
        at,
        lambda _: "Active",
        coarse={"lastEvaluationTime": at.isoformat()},
        coarse_due=due,
    )


def test_a_pass_that_changes_nothing_writes_nothing_and_a_change_carries_the_time() -> None:
    client, status = Patches(), {}
    one_pass(client, status, T0, 10, due=False)
    assert client.sent[-1]["lastEvaluationTime"] == T0.isoformat(), "the first pass writes its time with its result"
    one_pass(client, status, T0 + timedelta(minutes=5), 10, due=False)
    assert len(client.sent) == 1, "same result: no write, the pass time stays in metrics"
    later = T0 + timedelta(minutes=10)
    one_pass(client, status, later, 11, due=False)
    assert client.sent[-1] == {"resourcesEvaluated": 11, "lastEvaluationTime": later.isoformat()}


def test_the_heartbeat_writes_only_the_coarse_field() -> None:
    client, status = Patches(), {}
    one_pass(client, status, T0, 10, due=False)
    hour = T0 + timedelta(hours=1)
    one_pass(client, status, hour, 10, due=True)
    assert client.sent[-1] == {"lastEvaluationTime": hour.isoformat()}
