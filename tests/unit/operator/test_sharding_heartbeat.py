"""The Lease heartbeat of each shard against an in-memory Lease store with the apiserver's optimistic
concurrency: shards see each other, a silent shard drops out, a second holder of one shard id waits for the
first to go silent, and a released Lease is dropped at the next listing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, cast

from daytwo.operator.handlers.sharding import _heartbeats
from daytwo.operator.sharding import Membership, ObservedLease
from daytwo.operator.shardleases import LeaseStore

LEASE, GRACE = 0.6, 0.2


class Leases:
    """The apiserver's Leases of one prefix: a write must name the version it read (else a conflict)."""

    def __init__(self) -> None:
        self.leases: dict[int, ObservedLease] = {}
        self.writes = 0

    def store(self, identity: str) -> LeaseStore:
        """A LeaseStore-shaped client writing as ``identity``."""
        leases = self

        class Store:
            def __init__(self) -> None:
                self.identity = identity

            def read(self, shard: int) -> ObservedLease | None:
                return leases.leases.get(shard)

            def renew(self, shard: int, current: ObservedLease | None) -> bool:
                if leases.leases.get(shard) != current:
                    return False
                leases.writes += 1
                leases.leases[shard] = ObservedLease(identity, str(leases.writes))
                return True

            def release(self, shard: int) -> None:
                leases.writes += 1
                leases.leases[shard] = ObservedLease("", str(leases.writes))

            def list(self) -> dict[int, ObservedLease]:
                return dict(leases.leases)

        return cast(LeaseStore, Store())


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until ``check()`` holds (TimeoutError naming ``what`` after 20 s)."""
    async with asyncio.timeout(20):
        while not check():
            await asyncio.sleep(0.05)


def live(membership: Membership) -> tuple[int, ...]:
    """The live shards ``membership`` sees now."""
    return membership.live(time.monotonic())


def start(leases: Leases, shard: int, identity: str) -> tuple[Membership, asyncio.Event, asyncio.Task[Any]]:
    """One shard's heartbeat loop; its membership, its stop event and its task."""
    membership, stop = Membership(shard, 2, LEASE, GRACE), asyncio.Event()
    task = asyncio.create_task(_heartbeats(leases.store(identity), membership, shard, stop))
    return membership, stop, task


async def test_shards_see_each_other_and_a_silent_one_drops_out() -> None:
    leases = Leases()
    a, stop_a, task_a = start(leases, 0, "a")
    b, stop_b, task_b = start(leases, 1, "b")
    await eventually(lambda: live(a) == (0, 1) and live(b) == (0, 1), "both shards live in both views")
    stop_b.set()  # b dies without releasing its Lease (kill -9)
    await task_b
    await eventually(lambda: live(a) == (0,), "b dropped out of a's view")
    assert leases.leases[1].holder == "b", "nothing released it"

    c, stop_c, task_c = start(leases, 1, "c")  # b's replacement, a new process with shard id 1
    await eventually(lambda: leases.leases[1].holder == "c", "c to claim the Lease b left unrenewed")
    await eventually(lambda: live(a) == (0, 1) and live(c) == (0, 1), "c live in both views")

    stop_c.set()
    await task_c
    leases.store("c").release(1)  # a graceful exit
    await eventually(lambda: live(a) == (0,), "the released shard dropped at once")
    stop_a.set()
    await task_a


async def test_a_second_process_with_a_live_holders_shard_id_never_takes_it() -> None:
    leases = Leases()
    a, stop_a, task_a = start(leases, 0, "a")
    _, stop_b, task_b = start(leases, 1, "b")
    await eventually(lambda: live(a) == (0, 1), "b live")
    intruder, stop_i, task_i = start(leases, 1, "intruder")
    await asyncio.sleep(3 * (LEASE + GRACE))  # long past the intruder's wait, had b gone silent
    assert leases.leases[1].holder == "b" and intruder.fenced(time.monotonic())
    for stop in (stop_a, stop_b, stop_i):
        stop.set()
    await asyncio.gather(task_a, task_b, task_i)
