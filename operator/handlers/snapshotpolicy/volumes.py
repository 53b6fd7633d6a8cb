"""The OpenStack side of one SnapshotPolicy run: inventory, create, wait, retention.

Every decision comes from ``reconcile.snapshotpolicy``; this module only calls the backend. Calls
are bounded per credential (``snapshot_concurrency`` at a time across every policy using it), retryable
errors are retried by the backends' one retry policy (``backends.runtime.call_with_retries``), and a
volume that fails becomes a failure entry with its reason instead of stopping the others. Before
retrying a create, the volume's snapshots are re-listed: a create that timed out may have landed, and
must not be made twice. Cinder accepts
duplicate names, so that re-list cannot be the whole story: ``before_create`` lets the handler record
the creates as in flight (``inFlightUntil``) before each POST, and retention deletes a slot's
duplicates (``slot_duplicates``) that a create answered too late still leaves.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from daytwo.crds.snapshotpolicy import OpenStackVolumeTargets, SnapshotTargets

from ...backends.openstack import OpenStackBackend, Snapshot, Volume
from ...backends.runtime import RetryPolicy, call_with_retries
from ...errors import BackendError
from ...reconcile.snapshotpolicy.decisions import (
    SnapshotInfo,
    VolumeInfo,
    existing_for_slot,
    match_volumes,
    snapshot_metadata,
    snapshot_name,
)
from ...shared.snapshots import PolicyView, parse_time
from ...stopping import pause
from .runs import CONCURRENCY, RunTally, apply_retention

__all__ = ["RunExecutor", "snapshot_info"]

T = TypeVar("T")


#: Seconds past the client timeout a create's POST may still be sent: the client repeats a create only
#: after a 429/503 answer, after at most a few seconds of backoff.
CREATE_MARGIN_SECONDS = 10.0
#: A run's call is tried three times, 1 s then 2 s apart (jittered, as every backend retry is).
RUN_RETRIES = RetryPolicy(retries=2, backoff_seconds=1.0)
_LIMITS: dict[str, threading.BoundedSemaphore] = {}
_LIMITS_GUARD = threading.Lock()


def _limit(key: str, size: int) -> threading.BoundedSemaphore:
    with _LIMITS_GUARD:
        return _LIMITS.setdefault(key, threading.BoundedSemaphore(size))


def snapshot_info(snapshot: Snapshot) -> SnapshotInfo:
    """The backend record as the decisions need it."""
    # Shaped like restorejob's volume_view (duplicate scan): each maps a backend record to its own decisions' type.
    return SnapshotInfo(
        id=snapshot.id,
        name=snapshot.name,
        volume_id=snapshot.volume_id,
        status=snapshot.status,
        created_at=parse_time(snapshot.created_at),
        metadata=dict(snapshot.metadata),
    )


class RunExecutor:
    """Backend calls of one run of one policy."""

    def __init__(
        self,
        backend: OpenStackBackend,
        view: PolicyView,
        limit_key: str,
        *,
        concurrency: int = CONCURRENCY,
        policy: RetryPolicy = RUN_RETRIES,
        wait_seconds: float = 120.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.backend, self.view = backend, view
        self.limit, self.concurrency = _limit(limit_key, concurrency), concurrency
        self.policy, self.wait_seconds, self.clock = policy, wait_seconds, clock
        #: Called before every create is sent (the handler records the creates as in flight).
        self.before_create: Callable[[], None] | None = None

    @property
    def create_window_seconds(self) -> float:
        """How long after it is sent a create may still land unseen: the client timeout plus a margin."""
        return self.backend.params.timeout_seconds + CREATE_MARGIN_SECONDS

    def call(self, what: Callable[[], T], before_retry: Callable[[], T | None] | None = None) -> T:
        """``what()`` under the credential's limit, retried by ``self.policy`` on retryable errors; before each
        retry, ``before_retry()`` (when given) may return what an earlier attempt already made instead."""
        attempts = itertools.count()

        def attempt() -> T:
            if next(attempts) and before_retry is not None:
                with self.limit:
                    found = before_retry()
                if found is not None:
                    return found
            with self.limit:
                return what()

        return call_with_retries("snapshot run call", self.view.owner, attempt, self.policy)

    def resolve(self, targets: SnapshotTargets) -> list[VolumeInfo]:
        """The volumes the policy's ``targets.openstack`` selectors match."""
        return match_volumes(targets.openstack or OpenStackVolumeTargets(), self.inventory())

    def inventory(self) -> list[VolumeInfo]:
        """Every volume the credential sees, with project and domain names."""
        domains = {d.id: d.name for d in self.call(self.backend.list_domains)}
        projects = {p.id: (p.name, p.domain_id) for p in self.call(self.backend.list_projects)}
        volumes: list[Volume] = self.call(lambda: self.backend.list_volumes(all_projects=True))
        result = []
        for volume in volumes:
            pid = volume.project_id or ""
            pname, did = projects.get(pid, (pid, ""))
            result.append(
                VolumeInfo(
                    id=volume.id,
                    name=volume.name,
                    project_id=pid,
                    project_name=pname,
                    domain_id=did,
                    domain_name=domains.get(did, did),
                    status=volume.status,
                    size_gb=volume.size_gb,
                    metadata=dict(volume.metadata),
                )
            )
        return result

    def snapshots(self, tally: RunTally | None = None) -> list[SnapshotInfo]:
        """Every snapshot the credential sees (one listing: an error raises, ``tally`` is not needed)."""
        return [snapshot_info(s) for s in self.call(lambda: self.backend.list_snapshots(all_projects=True))]

    def create_missing(
        self, targets: list[VolumeInfo], slot: datetime, existing: dict[str, SnapshotInfo], tally: RunTally
    ) -> list[str]:
        """Create the slot's snapshot of every target that lacks one; the ids to wait for.

        A snapshot of the slot that already exists was made by this run (the slot is the run's), by an
        earlier pass or an operator process that died: it counts as created, once per target.
        """
        waiting = [s.id for s in existing.values() if s.status == "creating"]
        target_ids = {v.id for v in targets}
        for volume_id, snapshot in existing.items():
            if snapshot.status == "error":
                message = f"snapshot {snapshot.id} of this slot is in error"
                tally.fail(_volume(targets, volume_id), message, "SnapshotError")
            elif volume_id in target_ids:
                tally.created += 1
        missing = [v for v in targets if v.id not in existing]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for volume, outcome in zip(missing, pool.map(lambda v: self._create(v, slot), missing), strict=True):
                if isinstance(outcome, BackendError):
                    tally.fail(volume, outcome)
                else:
                    tally.created += 1
                    if outcome.status != "available":
                        waiting.append(outcome.id)
        return waiting

    def _create(self, volume: VolumeInfo, slot: datetime) -> SnapshotInfo | BackendError:
        name = snapshot_name(self.view, volume.id, slot)

        def already() -> SnapshotInfo | None:
            listed = self.backend.list_snapshots(all_projects=True, volume_id=volume.id)
            found = existing_for_slot(self.view, slot, [snapshot_info(s) for s in listed])
            return found.get(volume.id)

        def create() -> SnapshotInfo:
            if self.before_create is not None:
                self.before_create()
            made = self.backend.create_snapshot(
                volume.id,
                name=name,
                force=self.view.force,
                description=f"daytwo SnapshotPolicy {self.view.owner}",
                metadata=snapshot_metadata(self.view, slot),
            )
            return snapshot_info(made)

        try:
            return self.call(create, before_retry=already)
        except BackendError as error:
            return error

    def wait_available(self, ids: Iterable[str], targets: list[VolumeInfo], tally: RunTally) -> None:
        """Poll until every id left ``creating``; errors and time-outs become failures.

        Each poll lists only the snapshots still ``creating`` and those in ``error`` (server-side
        filters), not every snapshot the credential sees.
        """
        pending = set(ids)
        deadline = time.monotonic() + self.wait_seconds
        while pending:
            creating = {s.id for s in self._listed("creating")}
            finished = pending - creating
            if finished:
                failed = {s.id: s for s in self._listed("error") if s.id in finished}
                for sid in finished:
                    if sid in failed:
                        volume = _volume(targets, failed[sid].volume_id)
                        tally.fail(volume, f"snapshot {sid} ended in error", "SnapshotError")
                pending -= finished
            if pending and time.monotonic() > deadline:
                for sid in pending:
                    tally.fail(_volume(targets, sid), f"snapshot {sid} still creating", "Timeout")
                return
            if pending:
                pause(1.0)

    def _listed(self, status: str) -> list[Snapshot]:
        return self.call(lambda: self.backend.list_snapshots(all_projects=True, status=status))

    def retention(self, targets: list[VolumeInfo], snapshots: list[SnapshotInfo], tally: RunTally) -> None:
        """Delete what retention says, per target; an already-gone snapshot counts as deleted."""

        def delete(volume: VolumeInfo, snapshot: SnapshotInfo) -> None:
            self.call(lambda: self.backend.delete_snapshot(snapshot.id))

        apply_retention(self.view, targets, snapshots, self.clock(), delete, self.concurrency, tally)


def _volume(targets: list[VolumeInfo], volume_id: str) -> VolumeInfo:
    found = next((v for v in targets if v.id == volume_id), None)
    return found or VolumeInfo(volume_id, "", "", "", "", "", "")
