"""The operator's stop signal: sleeps in worker threads end as soon as it is set, and nothing catches it by accident."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from daytwo.operator.stopping import STOP, OperatorStopping, pause


@pytest.fixture
def stop_signal() -> Iterator[threading.Event]:
    """STOP, cleared again afterwards (it is process-wide; other tests' backends pause on it)."""
    yield STOP
    STOP.clear()


def paused(seconds: float) -> tuple[threading.Thread, list[object]]:
    """A started worker thread that pauses ``seconds``; its list receives "returned" or what it raised."""
    outcome: list[object] = []

    def worker() -> None:
        try:
            pause(seconds)
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append("returned")

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    return thread, outcome


def test_pause_sleeps_while_the_operator_runs(stop_signal: threading.Event) -> None:
    """A long pause is still asleep while STOP is unset; a short one returns without raising."""
    assert pause(0.0) is None
    thread, outcome = paused(3600.0)
    thread.join(timeout=0.2)  # an hour-long pause cannot have ended: only a broken pause returns here
    assert thread.is_alive() and outcome == []
    stop_signal.set()
    thread.join(timeout=60)
    assert not thread.is_alive() and len(outcome) == 1 and isinstance(outcome[0], OperatorStopping)


def test_a_negative_delay_is_no_delay() -> None:
    """A computed delay below zero returns at once (Event.wait(-1) would block for ever)."""
    thread, outcome = paused(-1.0)
    thread.join(timeout=60)
    assert not thread.is_alive() and outcome == ["returned"]
    assert not STOP.is_set()


def test_a_pause_in_a_worker_thread_ends_when_the_operator_stops(stop_signal: threading.Event) -> None:
    thread, outcome = paused(3600.0)
    stop_signal.set()
    thread.join(timeout=60)
    assert not thread.is_alive() and len(outcome) == 1 and isinstance(outcome[0], OperatorStopping)


def test_stopping_is_not_an_ordinary_failure(stop_signal: threading.Event) -> None:
    """Code that turns ``Exception`` into a recorded failure lets it through (the step resumes after restart)."""
    stop_signal.set()
    with pytest.raises(OperatorStopping):
        try:
            pause(1.0)
        except Exception:
            pytest.fail("OperatorStopping was caught as an ordinary exception")
