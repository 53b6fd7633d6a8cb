"""A blocking poll helper for tests and scripts. Handlers must not use it: they record the id
and come back later (see ARCHITECTURE.md, "No blocking waits in handlers")."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Protocol, TypeVar

from ...errors import InvalidRequest, NotFound, Timeout
from ...stopping import pause

__all__ = ["wait_for_gone", "wait_for_status"]


class _HasStatus(Protocol):
    @property
    def status(self) -> str: ...


S = TypeVar("S", bound=_HasStatus)


def wait_for_status(
    get: Callable[[], S],
    wanted: str,
    *,
    failures: Collection[str] = ("ERROR", "error"),
    timeout_s: float = 60.0,
    interval_s: float = 0.2,
    on_poll: Callable[[], None] | None = None,
) -> S:
    """Poll ``get()`` until its status is ``wanted``; raise on a failure status or timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        current = get()
        if current.status == wanted:
            return current
        if current.status in failures:
            raise InvalidRequest(f"status became {current.status} while waiting for {wanted}")
        if time.monotonic() >= deadline:
            raise Timeout(f"status still {current.status} after {timeout_s}s waiting for {wanted}")
        if on_poll is not None:
            on_poll()
        pause(interval_s)


def wait_for_gone(
    get: Callable[[], object],
    *,
    timeout_s: float = 60.0,
    interval_s: float = 0.2,
    on_poll: Callable[[], None] | None = None,
) -> None:
    """Poll ``get()`` until it raises NotFound."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            get()
        except NotFound:
            return
        if time.monotonic() >= deadline:
            raise Timeout(f"object still present after {timeout_s}s")
        if on_poll is not None:
            on_poll()
        pause(interval_s)
