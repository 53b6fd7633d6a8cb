"""The facade's audit log: who did what to which object, with what outcome (pf9 /audit/*, horcrux /api/audit/*).

Where it lives: two bounded rings of ConfigMaps in the served namespace, labelled
``app.kubernetes.io/part-of=daytwo``:

- the *routine* ring ``daytwo-api-audit-0..N-1`` (``daytwo.io/audit=ring``): successful calls of
  viewers and operators;
- the *security* ring ``daytwo-api-audit-security-0..N-1`` (``daytwo.io/audit=security``): every
  entry whose outcome is not ``success`` (denials 401/403, failed logins, failed writes), everything
  an admin or superadmin does, and ``auth.*`` / ``apikey.*`` / ``users.*`` entries.

Each ring holds up to ``per_segment`` entries per ConfigMap as ``<zero-padded ring slot>: <JSON>``.
Once a ring is full its oldest segment is emptied and reused, so each keeps its last
``segments * per_segment`` entries (5,000 by default, ~1.5 MB) and survives restarts. Kubernetes
Events were the alternative; they expire after an hour by default, too soon for an audit trail.

Surviving a noisy caller: ordinary writes can never rotate the security ring, and within each ring
one non-admin caller (a user; anonymous callers per client IP) adds at most ``quota_per_minute``
entries a minute. Beyond that their entries are counted in one ``audit.suppressed`` entry per
caller, ring and minute (the count and the actions, updated in place), so 6,000 calls of one viewer
cost about 60 slots, not 6,000, and an admin's entries or a denial stay. Admin and superadmin
entries have no quota (they are trusted to write the trail).

Client IP and user agent: the front door (api/app.py) opens a :func:`request_context` for every
request of the five APIs; :meth:`AuditLog.record` fills ``ip_address`` and ``user_agent`` from it and
marks the request as audited, so the front door adds a generic entry (method, route template,
status) only for writes and denials no route recorded itself: no write recorded twice, none missed.

:meth:`AuditLog.record` never blocks a request: entries queue in memory and a background thread
writes them (with the facade's own identity) about once a second. Reading merges both rings from
the ObjectStore's ConfigMap cache with the queue, newest first (ids are one sequence across rings).
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from daytwo.operator.shared.times import format_time

from .store import ObjectStore

__all__ = ["AUDIT_LABEL", "AuditLog", "Entry", "RequestContext", "current_request", "request_context"]

log = logging.getLogger("daytwo.api.audit")

AUDIT_LABEL = "daytwo.io/audit"
PREFIX = "daytwo-api-audit-"
SECURITY_PREFIX = "daytwo-api-audit-security-"
Entry = dict[str, Any]
#: (method, path, body, content_type) -> decoded JSON; the facade's own identity; raises on HTTP errors.
ConfigMapWriter = Callable[[str, str, Any, str], Any]
#: Roles whose entries are always kept (no quota) and go to the security ring.
TRUSTED_ROLES = frozenset({"admin", "superadmin"})
#: Action prefixes that are security events whatever the outcome.
SECURITY_ACTIONS = ("auth.", "apikey.", "users.")
SUPPRESSED = "audit.suppressed"
#: Distinct actions named in one suppression entry.
MAX_SUPPRESSED_ACTIONS = 20


@dataclass
class RequestContext:
    """The request an entry is recorded in: client IP and user agent, and whether anything was recorded."""

    ip_address: str | None
    user_agent: str | None
    recorded: bool = False


_CURRENT: ContextVar[RequestContext | None] = ContextVar("daytwo_audit_request", default=None)


@contextmanager
def request_context(ip_address: str | None, user_agent: str | None) -> Iterator[RequestContext]:
    """Make entries recorded inside (this task and the threads it hands work to) carry ``ip``/``ua``."""
    context = RequestContext(ip_address, (user_agent or "")[:256] or None)
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current_request() -> RequestContext | None:
    """The request being served, if any."""
    return _CURRENT.get()


class _Ring:
    """One ring of ConfigMaps: its queue (slot -> entry) and its next slot."""

    def __init__(self, prefix: str, label: str, segments: int, per_segment: int) -> None:
        self.prefix = prefix
        self.label = label
        self.segments = segments
        self.per_segment = per_segment
        self.pending: dict[int, Entry] = {}
        self.slot: int | None = None
        #: the highest slot written (a rewrite of an older slot must not empty its segment again)
        self.flushed = 0

    def segment(self, slot: int) -> int:
        """The segment (ConfigMap index) ``slot`` lives in."""
        return (slot - 1) // self.per_segment % self.segments


class AuditLog:
    """Record audit entries and read them back (paginated, filtered, newest first)."""

    def __init__(
        self,
        store: ObjectStore,
        write: ConfigMapWriter | None,
        namespace: str,
        segments: int = 10,
        per_segment: int = 500,
        quota_per_minute: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._write = write
        self.namespace = namespace
        self.segments = segments
        self.per_segment = per_segment
        self.quota_per_minute = quota_per_minute
        self._clock = clock
        self._routine = _Ring(PREFIX, "ring", segments, per_segment)
        self._security = _Ring(SECURITY_PREFIX, "security", segments, per_segment)
        #: (ring label, caller key) -> [minute, entries this minute, suppression entry or None]
        self._quota: dict[tuple[str, str], list[Any]] = {}
        self._lock = threading.Lock()
        self._seq: int | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- writing ---------------------------------------------------------------------------------
    def _stored_maps(self, ring: _Ring) -> Iterable[dict[str, Any]]:
        return self.store.list("ConfigMap", labels={AUDIT_LABEL: ring.label})

    def _stored(self) -> Iterable[Entry]:
        for ring in (self._routine, self._security):
            for cm in self._stored_maps(ring):
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

    def _next_slot(self, ring: _Ring) -> int:
        if ring.slot is None:
            keys = (key for cm in self._stored_maps(ring) for key in (cm.get("data") or {}))
            ring.slot = ring.flushed = max((int(key) for key in keys if key.isdigit()), default=0)
        ring.slot += 1
        return ring.slot

    def _ring_of(self, role: str, action: str, outcome: str) -> _Ring:
        if outcome != "success" or role in TRUSTED_ROLES or action.startswith(SECURITY_ACTIONS):
            return self._security
        return self._routine

    def record(
        self, principal: Any, action: str, target: str, outcome: str = "success", details: dict[str, Any] | None = None
    ) -> Entry:
        """Queue one entry; ``principal`` is a Principal, a username or None (anonymous).

        Inside a request (:func:`request_context`) the entry gets the client's ``ip_address`` and
        ``user_agent`` and the request counts as audited. Past the caller's quota the entry is
        folded into the caller's ``audit.suppressed`` entry of this minute (returned instead).
        """
        context = _CURRENT.get()
        details = dict(details or {})
        if context is not None:
            context.recorded = True
            details.setdefault("ip_address", context.ip_address)
            details.setdefault("user_agent", context.user_agent)
        user = str(getattr(principal, "username", principal) or "anonymous")
        role = str(getattr(principal, "role", "") or "")
        now = self._clock()
        ring = self._ring_of(role, action, outcome)
        with self._lock:
            if role not in TRUSTED_ROLES:
                suppressed = self._over_quota(ring, user, role, action, details, now)
                if suppressed is not None:
                    self._wake.set()
                    return suppressed
            entry, _ = self._append(ring, user, role, action, target, outcome, details, now)
        self._wake.set()
        return entry

    def _append(
        self, ring: _Ring, user: str, role: str, action: str, target: str, outcome: str, details: Entry, now: float
    ) -> tuple[Entry, int]:
        entry: Entry = {
            "id": self._next_seq(),
            "timestamp": format_time(datetime.fromtimestamp(now, UTC)),
            "user": user,
            "role": role,
            "action": action,
            "target": target,
            "outcome": outcome,
            "details": details,
        }
        slot = self._next_slot(ring)
        ring.pending[slot] = entry
        if len(ring.pending) > 10 * ring.per_segment:  # the apiserver is away: keep the newest
            for old in sorted(ring.pending)[: len(ring.pending) - 10 * ring.per_segment]:
                del ring.pending[old]
        return entry, slot

    def _over_quota(self, ring: _Ring, user: str, role: str, action: str, details: Entry, now: float) -> Entry | None:
        """None while the caller is within its quota (counted); else its updated suppression entry."""
        # Unauthenticated callers (``anonymous``, and ``anonymous:<api>`` under an anonymous role) share one name:
        # their quota is per client address, so one noisy client cannot fold the others' entries away.
        anonymous = user == "anonymous" or user.startswith("anonymous:")
        caller = f"{user}@{details.get('ip_address') or 'unknown'}" if anonymous else user
        minute = int(now // 60)
        key = (ring.label, caller)
        state = self._quota.get(key)
        if state is None or state[0] != minute:
            if len(self._quota) > 10_000:
                self._quota = {k: v for k, v in self._quota.items() if v[0] == minute}
            state = self._quota[key] = [minute, 0, None, 0]
        state[1] += 1
        if state[1] <= self.quota_per_minute:
            return None
        if state[2] is None:
            first: Entry = {
                "suppressed": 0,
                "quota_per_minute": self.quota_per_minute,
                "actions": {},
                "ip_address": details.get("ip_address"),
                "user_agent": details.get("user_agent"),
            }
            state[2], state[3] = self._append(ring, user, role, SUPPRESSED, caller, "suppressed", first, now)
        summary: Entry = state[2]
        slot: int = state[3]
        summary["details"]["suppressed"] += 1
        actions = summary["details"]["actions"]
        if action in actions or len(actions) < MAX_SUPPRESSED_ACTIONS:
            actions[action] = actions.get(action, 0) + 1
        assert ring.slot is not None
        if ring.slot - slot < (ring.segments - 1) * ring.per_segment:  # its segment was not reused since
            ring.pending[slot] = summary  # written again with the new count
        return summary

    def flush(self) -> None:
        """Write queued entries into their ring segments (on failure they stay queued)."""
        if self._write is None:
            return
        for ring in (self._routine, self._security):
            if not self._flush(ring):
                return

    def _flush(self, ring: _Ring) -> bool:
        with self._lock:
            batch = {slot: json.dumps(entry, separators=(",", ":")) for slot, entry in ring.pending.items()}
        by_segment: dict[int, dict[int, str]] = {}
        for slot, text in batch.items():
            by_segment.setdefault(ring.segment(slot), {})[slot] = text
        for segment, texts in by_segment.items():
            name = f"{ring.prefix}{segment}"
            data: dict[str, str | None] = {f"{slot:012d}": text for slot, text in texts.items()}
            if any((slot - 1) % ring.per_segment == 0 and slot > ring.flushed for slot in texts):  # a new lap
                old = self.store.get("ConfigMap", name) or {}
                for key in old.get("data") or {}:
                    data.setdefault(key, None)
            try:
                self._put(ring, name, data)
            except Exception as error:
                log.warning("audit: could not write %s (%s); will retry", name, error)
                return False
            with self._lock:
                ring.flushed = max(ring.flushed, *texts)
                for slot, text in texts.items():
                    entry = ring.pending.get(slot)
                    if entry is not None and json.dumps(entry, separators=(",", ":")) == text:
                        del ring.pending[slot]
        return True

    def _put(self, ring: _Ring, name: str, data: dict[str, str | None]) -> None:
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
                    "labels": {"app.kubernetes.io/part-of": "daytwo", AUDIT_LABEL: ring.label},
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
    def _ring_walk(self, ring: _Ring, pending: dict[int, Entry]) -> Iterator[Entry]:
        """One ring's entries, newest slot first, each decoded only when reached (queued ones win)."""
        stored: dict[int, tuple[str, str]] = {}
        for cm in self._stored_maps(ring):
            for key in cm.get("data") or {}:
                if key.isdigit():
                    stored[int(key)] = (cm["metadata"]["name"], key)
        for slot in sorted(stored.keys() | pending.keys(), reverse=True):
            if slot in pending:
                yield pending[slot]
                continue
            name, key = stored[slot]
            text = ((self.store.get("ConfigMap", name) or {}).get("data") or {}).get(key)
            try:
                entry = json.loads(text) if text else None
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry

    def iter_entries(
        self,
        user: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        target: str | None = None,
    ) -> Iterator[Entry]:
        """Matching entries newest first, lazily (the filters of :meth:`entries`), for exports.

        Each ring is walked by slot (slots and ids rise together within a ring) and the two are merged
        by id, so only the slot numbers and one entry per ring are held, never the whole trail.
        """
        with self._lock:
            queued = [
                {s: dict(e, details=dict(e["details"])) for s, e in r.pending.items()}
                for r in (self._routine, self._security)
            ]
        walks = (self._ring_walk(ring, q) for ring, q in zip((self._routine, self._security), queued, strict=True))
        for e in heapq.merge(*walks, key=lambda e: -int(e.get("id", 0))):
            if (
                (user is None or e.get("user") == user)
                and (outcome is None or e.get("outcome") == outcome)
                and (action is None or str(e.get("action", "")).startswith(action))
                and (target is None or str(e.get("target", "")).startswith(target))
            ):
                yield e

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
            pending = [
                dict(e, details=dict(e["details"])) for r in (self._routine, self._security) for e in r.pending.values()
            ]
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
