"""The operator's one pass pool (:class:`~daytwo.operator.backends.runtime.PassPool`), sized from the settings.

Every polling daemon's pass runs on it: ``DAYTWO_WORKERS`` threads overall and at most
``DAYTWO_ENDPOINT_WORKERS`` (kept below the pool size) passes of one cloud endpoint at once.
"""

from __future__ import annotations

import threading

from ..backends.runtime import PassPool
from ..settings import OperatorSettings

__all__ = ["configure_pass_pool", "pass_pool"]

_pool: PassPool | None = None
_lock = threading.Lock()


def configure_pass_pool(settings: OperatorSettings) -> PassPool:
    """Make the pass pool with these settings (the previous one, if any, takes no more work)."""
    global _pool
    made = PassPool(settings.workers, settings.pass_slots_per_endpoint())
    with _lock:
        old, _pool = _pool, made
    if old is not None:
        old.shutdown()
    return made


def pass_pool() -> PassPool:
    """The pass pool, made from the environment's settings on first use."""
    with _lock:
        found = _pool
    return found if found is not None else configure_pass_pool(OperatorSettings())
