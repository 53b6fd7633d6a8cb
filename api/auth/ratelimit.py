"""Fixed-window rate limits (login per client IP, other calls per user) with ``X-RateLimit-*`` headers,
and a per-account backoff for failed logins.

In memory, per replica: a limit of N per minute holds per facade process. Windows start at the
first call of a key and last ``window`` seconds; stale keys are dropped as new ones arrive.

:class:`AccountBackoff` counts failed logins per account name, whatever the client IP (behind an
ingress every client may share one; a distributed guesser has many): after ``threshold`` consecutive
failures each further failure blocks the account's logins for 2, 4, 8, ... seconds, capped at
``cap``. A blocked attempt is refused without checking the password and does not extend the block,
so the owner gets in at most ``cap`` seconds after the last wrong guess; a success resets the count.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AccountBackoff", "Decision", "RateLimiter"]


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


class AccountBackoff:
    """Failed logins per account with exponential backoff (see the module docstring); thread-safe.

    ``forget_after``: failures older than this (counted from the last one) are forgotten.
    """

    MAX_KEYS = 10_000

    def __init__(
        self,
        threshold: int,
        cap: float,
        forget_after: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.threshold = threshold
        self.cap = cap
        self.forget_after = forget_after if forget_after is not None else max(3600.0, 2 * cap)
        self._clock = clock
        # account -> (consecutive failures, time of the last one, blocked until)
        self._failures: dict[str, tuple[int, float, float]] = {}
        self._lock = threading.Lock()

    def _current(self, key: str, now: float) -> tuple[int, float, float]:
        count, last, until = self._failures.get(key, (0, now, 0.0))
        if count and now - last >= self.forget_after:
            return 0, now, 0.0
        return count, last, until

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            _, _, until = self._current(key, now)
        return max(0, math.ceil(until - now))

    def failed(self, key: str) -> int:
        """Count one failed login of ``key``; returns the block it now has in seconds (0: none yet)."""
        now = self._clock()
        with self._lock:
            count, _, _ = self._current(key, now)
            count += 1
            delay = 0.0
            if count >= self.threshold:
                delay = min(self.cap, 2.0 ** min(count - self.threshold + 1, 32))
            self._failures[key] = (count, now, now + delay)
            if len(self._failures) > self.MAX_KEYS:
                self._prune(now)
        return math.ceil(delay)

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` (a correct password)."""
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        kept = {k: v for k, v in self._failures.items() if now - v[1] < self.forget_after}
        if len(kept) > self.MAX_KEYS:  # a spray of names: keep the most-failed, then most recent, half
            ranked = sorted(kept.items(), key=lambda item: (item[1][0], item[1][1]))[-self.MAX_KEYS // 2 :]
            kept = dict(ranked)
        self._failures = kept
