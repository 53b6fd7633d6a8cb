"""The shard gate around each polling daemon: runs it only on the owner, starts it on takeover, stops it
(reason FILTERS_MISMATCH, after its pass in flight) on hand-over; unsharded it is the daemon itself."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import kopf
import pytest
from daytwo.operator.handlers.sharding import SHARD, owned_or_gone, sharded
from daytwo.operator.handlers.users_index import wait_for_no_users
from daytwo.operator.sharding import Membership, ObservedLease, owner

NS = "team-a"


class Stopped:
    """Stands in for ``kopf.DaemonStopped``: truthy once set, ``await wait()``."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.reason: Any = None

    def __bool__(self) -> bool:
        return self.event.is_set()

    async def wait(self) -> Stopped:
        await self.event.wait()
        return self


class Daemon:
    """Records its starts and the stop reason it saw; runs until stopped."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.runs = 0
        self.reasons: list[Any] = []

    async def __call__(self, *, stopped: Any, **_: Any) -> None:
        self.runs += 1
        self.started.set()
        await stopped.wait()
        self.reasons.append(stopped.reason)


@pytest.fixture
def membership() -> Iterator[Membership]:
    """Shard 0 of 2, joined and renewed now, with shard 1 live."""
    now = time.monotonic()
    view = Membership(0, 2, 1000.0, 0.0)
    view.heartbeat(now - 2000.0, now - 2000.0, {})
    view.heartbeat(now, now, {1: ObservedLease("b", "1")})
    SHARD.membership = view
    yield view
    SHARD.membership = None


def name_of(shard: int) -> str:
    """A name shard ``shard`` owns while shards 0 and 1 are live."""
    return next(f"p{i}" for i in range(100) if owner(NS, f"p{i}", [0, 1]) == shard)


async def test_unsharded_the_gate_is_the_daemon() -> None:
    daemon, stopped = Daemon(), Stopped()
    task = asyncio.create_task(sharded("Test", daemon)(stopped=stopped, namespace=NS, name="p1"))
    await asyncio.wait_for(daemon.started.wait(), 10)
    stopped.event.set()
    await asyncio.wait_for(task, 10)
    assert daemon.runs == 1


async def test_the_owner_runs_the_daemon_and_the_other_shard_waits_until_it_takes_over(
    membership: Membership,
) -> None:
    mine, theirs = Daemon(), Daemon()
    stopped = Stopped()
    gate = sharded("Test", mine)(stopped=stopped, namespace=NS, name=name_of(0))
    other = sharded("Test", theirs)(stopped=stopped, namespace=NS, name=name_of(1))
    tasks = [asyncio.create_task(gate), asyncio.create_task(other)]
    await asyncio.wait_for(mine.started.wait(), 10)
    await asyncio.sleep(0.1)
    assert theirs.runs == 0, "shard 1's object does not run here"

    membership.observe(time.monotonic(), {})  # shard 1's Lease is gone: its objects are ours
    SHARD.changed()
    await asyncio.wait_for(theirs.started.wait(), 10)

    stopped.event.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert (mine.runs, theirs.runs) == (1, 1)


async def test_a_daemon_whose_object_moves_away_is_stopped_as_a_filter_mismatch(membership: Membership) -> None:
    membership.observe(time.monotonic(), {})  # alone: shard 0 owns everything
    daemon, stopped = Daemon(), Stopped()
    task = asyncio.create_task(sharded("Test", daemon)(stopped=stopped, namespace=NS, name=name_of(1)))
    await asyncio.wait_for(daemon.started.wait(), 10)

    membership.observe(time.monotonic(), {1: ObservedLease("b", "2")})  # shard 1 is back
    SHARD.changed()
    for _ in range(100):
        if daemon.reasons:
            break
        await asyncio.sleep(0.05)
    assert daemon.reasons == [kopf.DaemonStoppingReason.FILTERS_MISMATCH]
    assert not task.done(), "the gate waits for the object to come back"
    stopped.event.set()
    await asyncio.wait_for(task, 10)
    assert daemon.runs == 1


async def test_a_shard_that_does_not_own_a_credential_holds_its_deletion_without_writing_anything(
    membership: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every shard holds the deletion of a credential in use (they share the finalizer), but only its owner
    reads and writes its status and posts the Event: here no Kubernetes client is even configured."""
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    key = ("CloudCredential", NS, name_of(1))
    index: dict[tuple[str, str, str], list[str]] = {key: ["SnapshotPolicy/a"]}
    body: Any = None  # posting an Event would need it
    task = asyncio.create_task(wait_for_no_users(body, key, index, logging.getLogger(__name__), 0.05))
    await asyncio.sleep(0.5)  # ten rechecks
    assert not task.done(), "the deletion is held"
    index.clear()
    await asyncio.wait_for(task, 10)


async def test_a_deletion_on_a_shard_that_does_not_own_the_object_waits_for_the_owner_or_a_takeover(
    membership: Membership,
) -> None:
    """A deletion handler every shard runs: the non-owner acts only once the object is its own, and returns
    without acting when the owner finished (the object is gone); unsharded it acts at once."""
    checks: list[bool] = []

    def gone() -> bool:
        checks.append(True)
        return len(checks) >= 3

    assert not await owned_or_gone(NS, name_of(1), gone, 0.05), "the owner finished: nothing to do here"
    assert len(checks) == 3

    waiting = asyncio.create_task(owned_or_gone(NS, name_of(1), lambda: False, 3600.0))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    membership.observe(time.monotonic(), {})  # shard 1 is gone: the object is ours now
    SHARD.changed()
    assert await asyncio.wait_for(waiting, 10), "taken over: this shard deletes it"
    assert await owned_or_gone(NS, name_of(0), lambda: False, 3600.0), "its own object: at once"


async def test_unsharded_a_deletion_acts_at_once() -> None:
    assert await owned_or_gone(NS, "p1", lambda: pytest.fail("no lookup when unsharded"), 3600.0)


async def test_a_deleted_object_is_held_by_a_shard_that_does_not_own_it_until_the_owner_let_it_go(
    membership: Membership,
) -> None:
    """The shards share daytwo's finalizer: a non-owner's idle daemon ending at once would let Kopf remove it
    while the owner's last pass still runs. It ends when the object is gone; an operator exit ends it at once."""
    exists = {"object": True}
    daemon, stopped = Daemon(), Stopped()
    gate = sharded("Test", daemon, lambda *_: not exists["object"])
    task = asyncio.create_task(gate(stopped=stopped, namespace=NS, name=name_of(1)))
    await asyncio.sleep(0.1)
    stopped.reason = kopf.DaemonStoppingReason.RESOURCE_DELETED
    stopped.event.set()
    await asyncio.sleep(1.2)  # a few rechecks
    assert not task.done(), "held while the object exists"
    exists["object"] = False
    await asyncio.wait_for(task, 10)
    assert daemon.runs == 0

    exiting = Stopped()
    exiting.reason = kopf.DaemonStoppingReason.OPERATOR_EXITING
    exiting.event.set()
    held = sharded("Test", daemon, lambda *_: False)
    await asyncio.wait_for(held(stopped=exiting, namespace=NS, name=name_of(1)), 10)
