"""The facade's audit log: who did what to which object, with what outcome (pf9 /audit/*, horcrux /api/audit/*).

Where it lives: a bounded ring of ConfigMaps ``daytwo-api-audit-0..N-1`` in the served namespace,
labelled ``app.kubernetes.io/part-of=daytwo`` and ``daytwo.io/audit=ring``; each holds up to
``per_segment`` entries as ``<zero-padded sequence>: <JSON>``. Once the ring is full the oldest
segment is emptied and reused, so the log keeps the last ``segments * per_segment`` entries (5,000
by default, ~1.5 MB) and survives restarts. Kubernetes Events were the alternative; they expire
after an hour by default, too soon for an audit trail.

:meth:`AuditLog.record` never blocks a request: entries queue in memory and a background thread
writes them (with the facade's own identity) about once a second. Reading merges the ring from the
ObjectStore's ConfigMap cache with the queue, newest first.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from .store import ObjectStore

__all__ = ["AUDIT_LABEL", "AuditLog", "Entry"]

log = logging.getLogger("daytwo.api.audit")

AUDIT_LABEL = "daytwo.io/audit"
PREFIX = "daytwo-api-audit-"
Entry = dict[str, Any]
#: (method, path, body, content_type) -> decoded JSON; the facade's own identity; raises on HTTP errors.
ConfigMapWriter = Callable[[str, str, Any, str], Any]


class AuditLog:
    """Record audit entries and read them back (paginated, filtered, newest first)."""

    def __init__(
        self,
        store: ObjectStore,
        write: ConfigMapWriter | None,
        namespace: str,
        segments: int = 10,
        per_segment: int = 500,
    ) -> None:
        self.store = store
        self._write = write
        self.namespace = namespace
        self.segments = segments
        self.per_segment = per_segment
        self._pending: list[Entry] = []
        self._lock = threading.Lock()
        self._seq: int | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- writing ---------------------------------------------------------------------------------
    def _stored(self) -> Iterable[Entry]:
        for cm in self.store.list("ConfigMap", labels={AUDIT_LABEL: "ring"}):
            for value in (cm.get("data") or {}).values():
                try:
                    yield json.loads(value)
                except ValueError:
                    continue

    def _next_seq(self) -> int:
        if self._seq is None:
            self._seq = max((int(e.get("id", 0)) for e in self._stored()), default=0)
        self._seq += 1
        return self._seq

    def record(
        self, principal: Any, action: str, target: str, outcome: str = "success", details: dict[str, Any] | None = None
    ) -> Entry:
        """Queue one entry; ``principal`` is a Principal, a username or None (anonymous)."""
        with self._lock:
            entry: Entry = {
                "id": self._next_seq(),
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "user": getattr(principal, "username", principal) or "anonymous",
                "role": getattr(principal, "role", ""),
                "action": action,
                "target": target,
                "outcome": outcome,
                "details": details or {},
            }
            self._pending.append(entry)
            if len(self._pending) > 10 * self.per_segment:
                del self._pending[: len(self._pending) - 10 * self.per_segment]
        self._wake.set()
        return entry

    def flush(self) -> None:
        """Write queued entries into their ring segments (on failure they stay queued)."""
        if self._write is None:
            return
        with self._lock:
            batch = list(self._pending)
        by_segment: dict[int, list[Entry]] = {}
        for entry in batch:
            by_segment.setdefault((entry["id"] - 1) // self.per_segment % self.segments, []).append(entry)
        for segment, entries in by_segment.items():
            name = f"{PREFIX}{segment}"
            data: dict[str, str | None] = {f"{e['id']:012d}": json.dumps(e, separators=(",", ":")) for e in entries}
            if any((e["id"] - 1) % self.per_segment == 0 for e in entries):  # a new lap: empty the segment
                old = self.store.get("ConfigMap", name) or {}
                for key in old.get("data") or {}:
                    data.setdefault(key, None)
            try:
                self._put(name, data)
            except Exception as error:
                log.warning("audit: could not write %s (%s); will retry", name, error)
                return
            written = {e["id"] for e in entries}
            with self._lock:
                self._pending = [e for e in self._pending if e["id"] not in written]

    def _put(self, name: str, data: dict[str, str | None]) -> None:
        assert self._write is not None
        path = f"/api/v1/namespaces/{self.namespace}/configmaps"
        try:
            self._write("PATCH", f"{path}/{name}", {"data": data}, "application/merge-patch+json")
        except Exception as error:
            if getattr(error, "status", None) != 404:
                raise
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "namespace": self.namespace,
                    "labels": {"app.kubernetes.io/part-of": "daytwo", AUDIT_LABEL: "ring"},
                },
                "data": {k: v for k, v in data.items() if v is not None},
            }
            self._write("POST", path, body, "application/json")

    def start(self, interval: float = 1.0) -> None:
        """Flush in a background thread every ``interval`` seconds while entries are queued."""

        def loop() -> None:
            while not self._stop.is_set():
                self._wake.wait(interval)
                self._wake.clear()
                self.flush()

        self._thread = threading.Thread(target=loop, name="audit-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Flush what is queued and stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(5)
        self.flush()

    # -- reading ---------------------------------------------------------------------------------
    def entries(
        self,
        offset: int = 0,
        limit: int = 50,
        user: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        target: str | None = None,
    ) -> tuple[int, list[Entry]]:
        """(total matching, one page) newest first; filters are exact, ``action``/``target`` are prefixes."""
        with self._lock:
            pending = list(self._pending)
        merged = {int(e["id"]): e for e in self._stored()}
        merged.update({int(e["id"]): e for e in pending})
        matching = [
            e
            for _, e in sorted(merged.items(), reverse=True)
            if (user is None or e.get("user") == user)
            and (outcome is None or e.get("outcome") == outcome)
            and (action is None or str(e.get("action", "")).startswith(action))
            and (target is None or str(e.get("target", "")).startswith(target))
        ]
        return len(matching), matching[offset : offset + limit]
