"""Fixed-window rate limits (login per client IP, other calls per user) with ``X-RateLimit-*`` headers.

In memory, per replica: a limit of N per minute holds per facade process. Windows start at the
first call of a key and last ``window`` seconds; stale keys are dropped as new ones arrive.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Decision", "RateLimiter"]


@dataclass(frozen=True)
class Decision:
    """One call's verdict and the headers that tell the client where it stands."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-Limit/Remaining/Reset`` (plus ``Retry-After`` when refused)."""
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, self.reset - int(time.time())))
        return out


class RateLimiter:
    """``limit`` calls per ``window`` seconds per key; thread-safe."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> Decision:
        """Count one call of ``key`` and say whether it may proceed."""
        now = self._clock()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            allowed = count < self.limit
            if allowed:
                count += 1
            self._windows[key] = (start, count)
            if len(self._windows) > 10_000:
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self.window}
        return Decision(allowed, self.limit, self.limit - count, math.ceil(start + self.window))
