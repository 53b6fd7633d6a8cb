"""The polling daemons' loop: it waits on its wake event, its stop flag or its deadline; no polling tick."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from daytwo.operator.handlers.polling import BackOff, Backoff, daemon_loop, sleep_until_woken

LOG = logging.getLogger(__name__)


class Stopped:
    """Stands in for ``kopf.DaemonStopped``: truthy once set, ``await wait()``; counts how often it is consulted
    (a loop with a polling tick consults it on every tick)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.reason: Any = None
        self.consulted = 0

    def __bool__(self) -> bool:
        self.consulted += 1
        return self.event.is_set()

    async def wait(self) -> Stopped:
        await self.event.wait()
        return self


class Passes:
    """A fake pass that records each run (from its worker thread) and returns the delays it is given."""

    def __init__(self, *delays: float | Exception) -> None:
        self.loop = asyncio.get_running_loop()
        self.runs: asyncio.Queue[int] = asyncio.Queue()
        self.delays = list(delays)
        self.count = 0

    def __call__(self) -> float:
        self.count += 1
        self.loop.call_soon_threadsafe(self.runs.put_nowait, self.count)
        delay = self.delays.pop(0) if len(self.delays) > 1 else self.delays[0]
        if isinstance(delay, Exception):
            raise delay
        return delay

    async def next(self) -> int:
        return await asyncio.wait_for(self.runs.get(), 30)


async def test_a_daemon_sleeping_60s_wakes_at_once_when_poked_and_not_before_otherwise() -> None:
    stopped, wake, passes = Stopped(), asyncio.Event(), Passes(60.0)
    loop = asyncio.create_task(daemon_loop("Test", stopped, wake, lambda: passes, 1.0, LOG))  # type: ignore[arg-type]
    assert await passes.next() == 1
    await asyncio.sleep(0.2)  # the loop is now waiting out its 60 s
    consulted = stopped.consulted
    await asyncio.sleep(1.0)
    assert passes.runs.empty() and passes.count == 1, "no pass before the deadline"
    assert stopped.consulted == consulted, "nothing polled while idle"
    wake.set()
    assert await passes.next() == 2
    assert not wake.is_set(), "the wake-up was cleared before the pass"
    stopped.event.set()
    await asyncio.wait_for(loop, 30)
    assert passes.count == 2


async def test_the_deadline_runs_the_next_pass_without_a_poke() -> None:
    stopped, wake, passes = Stopped(), asyncio.Event(), Passes(0.01, 0.01, 3600.0)
    loop = asyncio.create_task(daemon_loop("Test", stopped, wake, lambda: passes, 1.0, LOG))  # type: ignore[arg-type]
    assert [await passes.next() for _ in range(3)] == [1, 2, 3]
    stopped.event.set()
    await asyncio.wait_for(loop, 30)


async def test_a_failed_pass_is_retried_after_the_retry_delay() -> None:
    stopped, wake, passes = Stopped(), asyncio.Event(), Passes(RuntimeError("boom"), 3600.0)
    loop = asyncio.create_task(daemon_loop("Test", stopped, wake, lambda: passes, 0.01, LOG))  # type: ignore[arg-type]
    assert [await passes.next() for _ in range(2)] == [1, 2]
    stopped.event.set()
    await asyncio.wait_for(loop, 30)


async def test_a_poke_during_a_pass_runs_another_pass() -> None:
    """The wake-up is cleared before a pass, so a change seen while it runs is not swallowed."""
    stopped, wake = Stopped(), asyncio.Event()
    loop_ = asyncio.get_running_loop()
    count = 0

    def poking_pass() -> float:
        nonlocal count
        count += 1
        if count == 1:
            loop_.call_soon_threadsafe(wake.set)
        else:
            loop_.call_soon_threadsafe(stopped.event.set)
        return 3600.0

    await asyncio.wait_for(daemon_loop("Test", stopped, wake, lambda: poking_pass, 1.0, LOG), 30)  # type: ignore[arg-type]
    assert count == 2


async def test_sleep_ends_when_woken_or_stopped() -> None:
    stopped, wake = Stopped(), asyncio.Event()
    sleeping = asyncio.create_task(sleep_until_woken(wake, stopped, 3600.0))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    stopped.event.set()
    await asyncio.wait_for(sleeping, 30)
    wake.set()
    await asyncio.wait_for(sleep_until_woken(wake, Stopped(), 3600.0), 30)  # type: ignore[arg-type]
    assert len(asyncio.all_tasks()) == 1, "no waiter left behind"


async def test_a_broken_reference_backs_off_exponentially_up_to_the_ceiling_and_resets() -> None:
    backoff = Backoff(2.0, 60.0)
    assert [backoff.next_delay() for _ in range(7)] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    backoff.reset()
    assert backoff.next_delay() == 2.0


async def until(check: Any) -> None:
    """Wait (bounded) until ``check()`` holds: the loop handles a pass's result just after it is recorded."""

    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 30)


async def test_the_loop_waits_the_backoff_after_a_broken_reference_and_a_poke_ends_it() -> None:
    stopped, wake = Stopped(), asyncio.Event()
    passes = Passes(BackOff(), BackOff(), 3600.0)
    backoff = Backoff(3600.0, 7200.0)
    loop = asyncio.create_task(
        daemon_loop("Test", stopped, wake, lambda: passes, 0.01, LOG, backoff=backoff)  # type: ignore[arg-type]
    )
    assert await passes.next() == 1
    await until(lambda: backoff.failures == 1)
    await asyncio.sleep(0.5)
    assert passes.count == 1, "a broken reference is not retried after the short retry delay (0.01 s here)"
    wake.set()  # the reference changed
    assert await passes.next() == 2
    await until(lambda: backoff.failures == 2)
    wake.set()
    assert await passes.next() == 3
    await until(lambda: backoff.failures == 0)  # a pass that got through resets the back-off
    stopped.event.set()
    await asyncio.wait_for(loop, 30)
