"""The operator's stop signal for blocking work in worker threads.

Passes run in threads (``asyncio.to_thread``) that Kopf cannot cancel, and the interpreter waits for
them before it exits: a pass sleeping through backend retries or polling a snapshot kept a stopping
operator alive for minutes. Every such sleep is :func:`pause`, which returns early and raises
:class:`OperatorStopping` once :data:`STOP` is set (by the Kopf cleanup handler in operator/handlers/runner.py).

``OperatorStopping`` is a BaseException, like KeyboardInterrupt: ``except Exception`` blocks that
turn failures into status must not record an interrupted step as failed. The step stays as it was
written before its call, and the restarted operator finishes it (deterministic names, ids in status).
"""

from __future__ import annotations

import threading

__all__ = ["STOP", "OperatorStopping", "pause"]

#: Set once when the operator begins to stop; never cleared in a process.
STOP = threading.Event()


class OperatorStopping(BaseException):
    """The operator is stopping: abandon the pass; the restarted operator resumes it."""


def pause(seconds: float) -> None:
    """Sleep ``seconds`` (retry backoff, poll interval), or raise OperatorStopping as soon as the operator stops."""
    if STOP.wait(max(0.0, seconds)):
        raise OperatorStopping("the operator is stopping")
