"""A step Nova refused whose membership cannot be read: a condition with the read error's reason and a
retry, never "not in place" (which would fail the step and roll the migration back on a guess)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import kopf
import pytest
from daytwo.crds.aggregatemigration import AggregateMigrationStatus, OnFailure
from daytwo.crds.base import Step
from daytwo.operator.backends.openstack import OpenStackBackend
from daytwo.operator.errors import AuthFailed, BackendError, Conflict, Unavailable
from daytwo.operator.handlers.aggregatemigration import Pass, Retry
from daytwo.operator.handlers.polling import PassInputs
from daytwo.operator.kube import KubeClient
from daytwo.operator.reconcile.aggregatemigration.plan import AggregateState, Request
from daytwo.operator.reconcile.aggregatemigration.steps import forward_steps
from daytwo.operator.settings import OperatorSettings

HOST = "gpu-node-07"
AGGREGATE_ID = "7f3c2a9e-51d4-4b0e-9c61-2f8d0a4b6e13"


@dataclass(frozen=True)
class Members:
    """What the handler reads of an aggregate."""

    hosts: tuple[str, ...]


class RefusingNova:
    """Nova that refuses the add; the membership read after it raises ``read_error``, else lists ``after``."""

    def __init__(self, read_error: BackendError | None, after: tuple[str, ...] = ()) -> None:
        self.read_error, self.after = read_error, after
        self.reads = 0

    def get_aggregate(self, name_or_id: str) -> Members:
        self.reads += 1
        if self.reads == 1:
            return Members(())  # before the call: not in place, so the add is made
        if self.read_error is not None:
            raise self.read_error
        return Members(self.after)

    def add_host_to_aggregate(self, aggregate_id: str, host: str) -> Members:
        raise Conflict("Cannot add host to aggregate: conflicting availability zone")


class StatusRecorder:
    """The KubeClient part the pass writes status with."""

    def __init__(self) -> None:
        self.patches: list[dict[str, Any]] = []

    def patch_status(self, kind: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.patches.append(status)


@dataclass
class Setup:
    """A pass about to run the first forward step of a move against RefusingNova."""

    migration: Pass
    recorder: StatusRecorder
    steps: list[Step]

    def run(self) -> None:
        request = Request(HOST, (), ("L40-n3-spot",), False, False, True, OnFailure.ROLLBACK, "alice")
        self.migration.run_step(request, self.steps, 0)


def setup(nova: RefusingNova) -> Setup:
    recorder = StatusRecorder()
    client = cast(KubeClient, recorder)
    inputs = PassInputs(cast(kopf.Body, {}), "tenant-a", "move-gpu-node-07", logging.getLogger(__name__), None)
    migration = Pass(inputs, OperatorSettings(), client=client)
    migration.backend = cast(OpenStackBackend, nova)
    steps = forward_steps(HOST, [AggregateState(AGGREGATE_ID, "L40-n3-spot", None, frozenset())], [])
    migration.read(AggregateMigrationStatus(steps=list(steps)))
    return Setup(migration, recorder, steps)


@pytest.mark.parametrize(
    "read_error",
    [AuthFailed("The request you have made requires authentication"), Unavailable("connection refused")],
    ids=["auth", "transport"],
)
def test_unreadable_membership_after_a_refusal_is_a_retry_with_the_reason(read_error: BackendError) -> None:
    pending = setup(RefusingNova(read_error))
    with pytest.raises(Retry) as raised:
        pending.run()
    assert raised.value.reason == read_error.reason
    assert "unknown" in raised.value.message and read_error.message in raised.value.message
    assert raised.value.delay > 0
    assert [step.state for step in pending.steps] == ["Running"], "neither failed nor rolled back"
    written = pending.recorder.patches[-1]
    assert written["steps"][0]["state"] == "Running" and "unknown" in written["steps"][0]["message"]
    assert written["commandLog"][-1]["status"] == "error"


def test_a_readable_membership_still_decides_after_a_refusal() -> None:
    pending = setup(RefusingNova(None, after=(HOST,)))
    pending.run()
    assert pending.steps[0].state == "Succeeded" and "in place despite" in (pending.steps[0].message or "")
