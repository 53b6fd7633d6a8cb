"""Sharding: which operator replica (shard) reconciles which object, decided without talking to the others.

N replicas run with ``DAYTWO_SHARDS=N``, each with its own shard id (``DAYTWO_SHARD_ID``, or the ordinal of
its StatefulSet Pod name). Each shard renews a coordination.k8s.io Lease of its own
(:mod:`daytwo.operator.shardleases`) and lists the others'. An object belongs to the live shard with the
highest rendezvous score for its ``namespace/name`` (:func:`owner`): every shard that sees the same live set
picks the same owner, and when a shard dies only its objects move, spread over the survivors.

Liveness is judged from *local* observation times, never from the ``renewTime`` a peer wrote (clocks may
differ): a peer is live while its Lease changed (resourceVersion) within ``lease + grace`` seconds before
this shard's last listing, by this process's clock; a Lease seen for the first time counts as just renewed
(a newcomer waits rather than guesses), and without a fresh listing nobody is declared dead.
A shard fences itself: it owns nothing once ``lease`` seconds passed since the start of its last heartbeat
that both renewed its Lease and listed the others. Since a peer saw that renewal no earlier than it was
sent, the peer takes over at least ``grace`` seconds after this shard stopped starting passes. A shard that
joins owns nothing for ``lease + grace`` seconds after its first renewal, so the shards that owned its
objects until then have seen it and stopped first. A pass already running when ownership moves finishes
(a worker thread cannot be cancelled); the in-flight windows the kinds record in status before calling a
cloud (SnapshotPolicy ``currentRun.inFlightUntil``, RestoreJob ``inFlight`` and adoption) make the new
owner wait for or adopt what that pass may still do.

Everything here is pure (no I/O, no clock of its own): times are passed in, from :func:`time.monotonic`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Membership", "ObservedLease", "lease_name", "owner", "shard_from_hostname", "shard_score"]

_ORDINAL = re.compile(r"-(\d+)$")


def shard_score(shard: int, namespace: str, name: str) -> int:
    """Rendezvous (highest random weight) score of ``shard`` for the object ``namespace/name``."""
    digest = hashlib.sha256(f"{shard}\x00{namespace}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def owner(namespace: str, name: str, live: Iterable[int]) -> int | None:
    """The shard among ``live`` that owns ``namespace/name`` (None when no shard is live)."""
    return max(live, key=lambda shard: (shard_score(shard, namespace, name), shard), default=None)


def shard_from_hostname(hostname: str, shards: int) -> int:
    """The shard id a StatefulSet Pod name ends with (``daytwo-operator-2`` -> 2); ValueError otherwise."""
    match = _ORDINAL.search(hostname)
    if match is None:
        raise ValueError(
            f"cannot derive the shard id from the host name {hostname!r} (no -<ordinal> suffix): "
            "set DAYTWO_SHARD_ID, or run the shards as a StatefulSet"
        )
    shard = int(match.group(1))
    if shard >= shards:
        raise ValueError(f"shard id {shard} (from host name {hostname!r}) is not below DAYTWO_SHARDS={shards}")
    return shard


def lease_name(prefix: str, shard: int) -> str:
    """The Lease shard ``shard`` renews."""
    return f"{prefix}-{shard}"


@dataclass(frozen=True)
class ObservedLease:
    """A shard's Lease as one listing showed it: who holds it and its resourceVersion (changes on renewal)."""

    holder: str
    version: str


@dataclass
class _Seen:
    version: str
    at: float


# Duplicate scan: alike RestoreJob's plan Request in shape only (typed fields with defaults); deliberate.
@dataclass
class Membership:
    """One shard's view of which shards are live, fed by its heartbeats; answers who owns an object."""

    me: int
    shards: int
    lease_seconds: float
    grace_seconds: float
    _seen: dict[int, _Seen] = field(default_factory=dict)
    _first_renewal: float | None = None
    _renewed_at: float | None = None
    _listed_at: float | None = None
    _foreign: _Seen | None = None

    def may_claim(self, current: ObservedLease | None, identity: str, now: float) -> bool:
        """Whether this process may write itself into its shard's Lease ``current`` (None: absent): it is
        absent, released, already ours, or another holder left it unchanged for ``lease + grace`` seconds
        (two processes configured with one shard id: the second waits, and takes over only a dead one)."""
        if current is None or not current.holder or current.holder == identity:
            self._foreign = None
            return True
        if self._foreign is None or self._foreign.version != current.version:
            self._foreign = _Seen(current.version, now)
        return now - self._foreign.at >= self.lease_seconds + self.grace_seconds

    def heartbeat(self, renewed_at: float, listed_at: float, leases: Mapping[int, ObservedLease]) -> None:
        """Record a heartbeat: this shard's Lease renewed by a request sent at ``renewed_at``, then the
        shards' Leases listed (shard id -> Lease; no holder = released by a graceful exit), the listing
        answered at ``listed_at``. Use :meth:`observe` when the renewal failed."""
        if self._first_renewal is None:
            self._first_renewal = renewed_at
        self._renewed_at = renewed_at
        self.observe(listed_at, leases)

    def observe(self, listed_at: float, leases: Mapping[int, ObservedLease]) -> None:
        """Record a listing of the shards' Leases answered at ``listed_at``: a peer whose Lease changed is
        seen renewed at ``listed_at`` (no earlier than it renewed)."""
        self._listed_at = listed_at
        for shard in list(self._seen):
            if shard not in leases:
                del self._seen[shard]
        for shard, lease in leases.items():
            if shard == self.me or not 0 <= shard < self.shards:
                continue
            seen = self._seen.get(shard)
            if not lease.holder:
                self._seen.pop(shard, None)
            elif seen is None or seen.version != lease.version:
                self._seen[shard] = _Seen(lease.version, listed_at)

    def fenced(self, now: float) -> bool:
        """Whether this shard must not start work: no renewal sent within the last ``lease`` seconds, or
        still joining (``lease + grace`` after its first renewal)."""
        if self._renewed_at is None or self._first_renewal is None:
            return True
        if now - self._renewed_at >= self.lease_seconds:
            return True
        return now - self._first_renewal < self.lease_seconds + self.grace_seconds

    def live(self, now: float) -> tuple[int, ...]:
        """The shards this one counts as live, sorted: itself unless fenced, and each peer whose Lease
        changed within ``lease + grace`` seconds before the last listing (no listing since: still live)."""
        window = self.lease_seconds + self.grace_seconds
        listed = self._listed_at
        peers = {shard for shard, seen in self._seen.items() if listed is None or listed - seen.at < window}
        if not self.fenced(now):
            peers.add(self.me)
        return tuple(sorted(peers))

    def owns(self, namespace: str, name: str, now: float) -> bool:
        """Whether this shard reconciles ``namespace/name`` now."""
        return not self.fenced(now) and owner(namespace, name, self.live(now)) == self.me
