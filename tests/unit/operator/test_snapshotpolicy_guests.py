"""The Proxmox side of a SnapshotPolicy run with a fake backend: a guest whose snapshots cannot be
listed is logged and becomes a failure of the run, never "no snapshots" (issue 17 item 5)."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any, cast

import pytest
from daytwo.crds.snapshotpolicy import SnapshotPolicySpec, SnapshotRun
from daytwo.operator.backends.proxmox import GuestRef, ProxmoxBackend
from daytwo.operator.errors import Unavailable
from daytwo.operator.handlers.snapshotpolicy import PolicyPass
from daytwo.operator.handlers.snapshotpolicy.guests import LIST_FAILED, GuestRunExecutor
from daytwo.operator.handlers.snapshotpolicy.runs import RunTally
from daytwo.operator.shared.snapshots import policy_view

SPEC = SnapshotPolicySpec.model_validate(
    {
        "credentialsRef": {"kind": "ProxmoxNode", "name": "pve-lab"},
        "targets": {"proxmox": {"nodes": ["pve1"]}},
        "schedule": "0 2 * * *",
        "retention": {"keepLast": 2},
    }
)


class FakeProxmox:
    """Two guests on pve1; listing the snapshots of vmid 101 fails like an unreachable node."""

    def guests(self) -> list[Any]:
        guest = dict(node="pve1", type="qemu", status="running", tags=(), maxdisk=2**30, template=False)
        return [SimpleNamespace(vmid=100, name="web", **guest), SimpleNamespace(vmid=101, name="db", **guest)]

    def list_snapshots(self, ref: GuestRef) -> list[Any]:
        if ref.vmid == 101:
            raise Unavailable("pve1 answered 595: no route to host")
        return [SimpleNamespace(name="before-upgrade", snaptime=1_700_000_000)]


def test_unlisted_guest_is_logged_and_fails_the_run(caplog: pytest.LogCaptureFixture) -> None:
    executor = GuestRunExecutor(cast(ProxmoxBackend, FakeProxmox()), policy_view("ns", "nightly", SPEC))
    targets = executor.resolve(SPEC.targets)
    tally = RunTally()
    with caplog.at_level(logging.WARNING):
        listed = executor.snapshots(tally)
        executor.snapshots(tally)  # the second listing of the run (retention) fails again
    assert [s.volume_id for s in listed] == ["pve1/100"]
    assert [(f.target, f.name, f.reason) for f in tally.failures] == [("pve1/101", "db", LIST_FAILED)], "once"
    assert "no route to host" in tally.failures[0].message
    assert "pve1/101" in caplog.text and "ns/SnapshotPolicy/nightly" in caplog.text and "Unavailable" in caplog.text
    run = SnapshotRun(id="nightly-202611300200-scheduled", trigger="scheduled")
    PolicyPass.finish_run(run, tally, len(targets))
    assert (run.state, run.failed) == ("PartiallyFailed", 1)


def test_guest_runs_take_the_concurrency_setting() -> None:
    view = policy_view("ns", "nightly", SPEC)
    assert GuestRunExecutor(cast(ProxmoxBackend, FakeProxmox()), view, concurrency=3).concurrency == 3
