"""``currentRun.inFlightUntil``: how long a resuming operator process waits before it lists and creates.

Cinder accepts duplicate snapshot names, so a create in flight when the operator died would be made
twice by a process that lists too early. Before each create the run records ``inFlightUntil`` (later
than that create's client timeout) and which process set it (:data:`HOLDER`).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.snapshotpolicy import SnapshotRun

__all__ = ["HOLDER", "IN_FLIGHT_RENEW_SECONDS", "InFlight", "whole_seconds"]

#: This operator process, as ``currentRun.inFlightHolder`` names it.
HOLDER = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
#: ``inFlightUntil`` is set this much beyond a create's window, so it is written about this often.
IN_FLIGHT_RENEW_SECONDS = 15.0


def whole_seconds(moment: datetime) -> datetime:
    """``moment`` in UTC without its fraction: status times have one-second precision."""
    return moment.astimezone(UTC).replace(microsecond=0)


class InFlight:
    """Writes ``inFlightUntil`` before a create is sent unless it already covers that create's window
    (client timeout plus margin), so a resuming process knows how long to wait."""

    def __init__(self, patch: Callable[[dict[str, Any]], None], run: SnapshotRun, window_seconds: float) -> None:
        self.patch, self.run, self.window = patch, run, timedelta(seconds=window_seconds)
        self._lock = threading.Lock()

    def hold(self) -> None:
        """Make sure a create sent now ends before ``inFlightUntil`` (called from worker threads)."""
        with self._lock:
            now = datetime.now(UTC)
            until = self.run.in_flight_until
            if self.run.in_flight_holder == HOLDER and until is not None and now + self.window <= until:
                return
            self.run.in_flight_until = whole_seconds(now + self.window + timedelta(seconds=IN_FLIGHT_RENEW_SECONDS))
            self.run.in_flight_holder = HOLDER
            self.patch({"currentRun": self.run.to_k8s()})

    def release(self) -> None:
        """Every create was answered (or abandoned by this live process): nothing is in flight."""
        with self._lock:
            self.run.in_flight_until = None
            self.run.in_flight_holder = None
