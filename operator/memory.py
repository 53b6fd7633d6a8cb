"""Give memory the process freed back to the operating system.

A drift listing of tens of thousands of resources is parsed into hundreds of MB of short-lived objects on
whichever pass thread runs it. glibc keeps what such a thread freed in that thread's own malloc arena, so
over a few passes on different threads the process holds the peak of each of them: the resident size grows
with the number of threads, not with what is alive. :func:`trim` asks glibc to return the free pages of
every arena (``malloc_trim``); elsewhere (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

__all__ = ["trim"]


def _load_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the C library the interpreter already runs on (no search, no subprocess)
        function: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return function


_TRIM = _load_trim()


def trim() -> bool:
    """Return freed heap pages of every malloc arena to the OS; False where the C library cannot."""
    return bool(_TRIM is not None and _TRIM(0) >= 0)
