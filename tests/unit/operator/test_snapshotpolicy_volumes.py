"""The OpenStack side of a SnapshotPolicy run retries through the backends' one retry policy
(``backends.runtime``), and re-checks before a retry what an earlier attempt may have made (issue 17)."""

from __future__ import annotations

from typing import cast

import pytest
from daytwo.crds.snapshotpolicy import SnapshotPolicySpec
from daytwo.operator.backends.openstack import OpenStackBackend
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import InvalidRequest, Unavailable
from daytwo.operator.handlers.snapshotpolicy.volumes import RUN_RETRIES, RunExecutor
from daytwo.operator.shared.snapshots import policy_view

SPEC = SnapshotPolicySpec.model_validate(
    {
        "credentialsRef": {"kind": "CloudCredential", "name": "openstack-lab"},
        "targets": {"openstack": {"projects": ["prod"]}},
        "schedule": "0 2 * * *",
        "retention": {"keepLast": 2},
    }
)


def _executor(waits: list[float], retries: int = 2) -> RunExecutor:
    policy = RetryPolicy(retries=retries, backoff_seconds=1.0, sleep=waits.append, jitter=lambda: 1.0)
    view = policy_view("ns", "nightly", SPEC)
    return RunExecutor(cast(OpenStackBackend, object()), view, "ns/openstack-lab-test", policy=policy)


def test_run_calls_retry_with_the_shared_policy() -> None:
    waits: list[float] = []
    outcomes: list[Exception | str] = [Unavailable("503 from cinder"), Unavailable("503 again"), "made"]

    def what() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert _executor(waits).call(what) == "made"
    assert waits == [1.0, 2.0], "exponential backoff of the policy"
    assert RUN_RETRIES.retries == 2 and RUN_RETRIES.backoff_seconds == 1.0


def test_a_retry_first_looks_for_what_the_failed_attempt_made() -> None:
    waits: list[float] = []
    sent: list[int] = []

    def create() -> str:
        sent.append(1)
        raise Unavailable("timed out after the POST")

    assert _executor(waits).call(create, before_retry=lambda: "found-snapshot-id") == "found-snapshot-id"
    assert sent == [1], "the create is not sent a second time"


def test_terminal_errors_and_exhausted_retries_raise() -> None:
    waits: list[float] = []
    with pytest.raises(InvalidRequest):
        _executor(waits).call(lambda: (_ for _ in ()).throw(InvalidRequest("bad volume")))
    assert waits == []
    with pytest.raises(Unavailable):
        _executor(waits, retries=1).call(lambda: (_ for _ in ()).throw(Unavailable("down")))
    assert waits == [1.0]
