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


def test_pause_sleeps_while_the_operator_runs() -> None:
    pause(0.01)
    pause(-1.0)  # a computed delay below zero is no delay


def test_a_pause_in_a_worker_thread_ends_when_the_operator_stops(stop_signal: threading.Event) -> None:
    outcome: list[BaseException] = []

    def worker() -> None:
        try:
            pause(3600.0)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
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
