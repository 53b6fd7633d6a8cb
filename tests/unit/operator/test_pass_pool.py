"""The bounded pass pool: a hung endpoint holds at most its share of threads; other endpoints still run."""

from __future__ import annotations

import asyncio
import threading

import pytest
from daytwo.operator.backends.runtime import PassPool
from daytwo.operator.errors import InvalidRequest
from daytwo.operator.settings import OperatorSettings


async def test_a_hung_endpoint_leaves_the_other_threads_to_other_endpoints() -> None:
    pool = PassPool(workers=2, per_endpoint=1)
    release = threading.Event()
    started: list[str] = []

    def hang(name: str) -> str:
        started.append(name)
        release.wait(60)
        return name

    first = asyncio.create_task(pool.run("openstack:hung", lambda: hang("first")))
    second = asyncio.create_task(pool.run("openstack:hung", lambda: hang("second")))
    others = [await asyncio.wait_for(pool.run("proxmox:ok", lambda i=i: i), 30) for i in range(5)]
    assert others == [0, 1, 2, 3, 4]
    assert started == ["first"], "the second pass of the hung endpoint waits without a thread"
    assert pool.busy("openstack:hung") == 2
    release.set()
    assert await asyncio.wait_for(asyncio.gather(first, second), 30) == ["first", "second"]
    assert pool.busy("openstack:hung") == 0, "an endpoint nobody waits for is forgotten"
    pool.shutdown()


async def test_passes_without_an_endpoint_and_errors_pass_through() -> None:
    pool = PassPool(workers=1, per_endpoint=1)
    assert await pool.run(None, lambda: threading.current_thread().name) != threading.current_thread().name

    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await pool.run("e", boom)
    assert pool.busy("e") == 0
    pool.shutdown()


def test_sizes_are_checked_and_one_endpoint_never_gets_the_whole_pool() -> None:
    with pytest.raises(InvalidRequest):
        PassPool(workers=0, per_endpoint=1)
    assert OperatorSettings(workers=6, endpoint_workers=3).pass_slots_per_endpoint() == 3
    assert OperatorSettings(workers=4, endpoint_workers=8).pass_slots_per_endpoint() == 3
    assert OperatorSettings(workers=1, endpoint_workers=8).pass_slots_per_endpoint() == 1
