"""The stand-in's clock: manual (tests call ``advance``) or real (follows wall time, for demos)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

__all__ = ["Clock"]


class Clock:
    """Seconds since the epoch as the stand-in sees them.

    In ``manual`` mode time stands still until :meth:`advance`; asynchronous transitions
    (creating -> available, BUILD -> ACTIVE, deletes) and token expiry follow this clock.
    In ``real`` mode it tracks wall time plus any advance.
    """

    def __init__(self, mode: str = "manual", start: float | None = None) -> None:
        if mode not in ("manual", "real"):
            raise ValueError("mode must be 'manual' or 'real'")
        self.mode = mode
        self._lock = threading.Lock()
        self._base = time.time() if start is None else start
        self._wall_base = time.monotonic()
        self._offset = 0.0
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Current stand-in time (epoch seconds)."""
        with self._lock:
            elapsed = time.monotonic() - self._wall_base if self.mode == "real" else 0.0
            return self._base + self._offset + elapsed

    def advance(self, seconds: float) -> float:
        """Move time forward and run due transitions; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        for listener in list(self._listeners):
            listener()
        return self.now()

    def on_advance(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every advance (the model settles transitions)."""
        self._listeners.append(listener)

    def clear_listeners(self) -> None:
        """Forget advance listeners (a reset model registers itself again)."""
        self._listeners.clear()

    def reset(self) -> None:
        """Back to the start (used between tests)."""
        with self._lock:
            self._offset = 0.0
            self._wall_base = time.monotonic()

    def iso(self, at: float | None = None, *, micro: bool = False) -> str:
        """ISO-8601 UTC timestamp (Nova style ``...Z``; Cinder style with microseconds)."""
        moment = dt.datetime.fromtimestamp(self.now() if at is None else at, tz=dt.UTC)
        if micro:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def datetime(self, at: float | None = None) -> dt.datetime:
        """A timezone-aware datetime for ``at`` (default now)."""
        return dt.datetime.fromtimestamp(self.now() if at is None else at, tz=dt.UTC)
