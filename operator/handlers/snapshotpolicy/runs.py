"""What every SnapshotPolicy run shares, OpenStack volumes or Proxmox guests: the backend calls a run
makes (:class:`TargetRunner`), its tally, and retention applied per target in parallel."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from daytwo.crds.snapshotpolicy import RunFailure, SnapshotTargets

from ...errors import BackendError
from ...reconcile.snapshotpolicy.decisions import SnapshotInfo, VolumeInfo, retention_deletions
from ...shared.snapshots import PolicyView

__all__ = ["CONCURRENCY", "RunTally", "TargetRunner", "apply_retention"]

#: Default for backend calls in flight at once per credential, across all policies that use it
#: (``OperatorSettings.snapshot_concurrency``).
CONCURRENCY = 8


@dataclass
class RunTally:
    """What a run did so far; failures are the status's ``RunFailure`` entries."""

    created: int = 0
    deleted_ids: set[str] = field(default_factory=set)
    failures: list[RunFailure] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        """Snapshots retention deleted."""
        return len(self.deleted_ids)

    def fail(self, volume: VolumeInfo, error: BackendError | str, reason: str = "SnapshotError") -> None:
        """Record one failed volume with its reason."""
        message = error.message if isinstance(error, BackendError) else error
        reason = error.reason if isinstance(error, BackendError) else reason
        self.failures.append(RunFailure(target=volume.id, name=volume.name, reason=reason, message=message[:2048]))


class TargetRunner(Protocol):
    """One run's backend calls, the same for OpenStack volumes and Proxmox guests."""

    def resolve(self, targets: SnapshotTargets) -> list[VolumeInfo]:
        """The targets the policy's selectors (its platform's part of ``targets``) match now."""
        ...

    def snapshots(self, tally: RunTally) -> list[SnapshotInfo]:
        """Every snapshot of (at least) the resolved targets; a target that cannot be listed is a failure
        in ``tally`` or raises, never an empty listing."""
        ...

    def create_missing(
        self, targets: list[VolumeInfo], slot: datetime, existing: dict[str, SnapshotInfo], tally: RunTally
    ) -> list[str]:
        """Create the slot's snapshot where missing; ids still to wait for."""
        ...

    def wait_available(self, ids: Iterable[str], targets: list[VolumeInfo], tally: RunTally) -> None:
        """Wait until the ids are available or failed."""
        ...

    def retention(self, targets: list[VolumeInfo], snapshots: list[SnapshotInfo], tally: RunTally) -> None:
        """Delete what retention says."""
        ...


def apply_retention(
    view: PolicyView,
    targets: list[VolumeInfo],
    snapshots: list[SnapshotInfo],
    now: datetime,
    delete: Callable[[VolumeInfo, SnapshotInfo], None],
    concurrency: int,
    tally: RunTally,
) -> None:
    """Delete what retention says, per target, ``concurrency`` at a time; a BackendError of one delete
    becomes that target's failure and never stops the others."""
    by_target: dict[str, list[SnapshotInfo]] = {}
    for snapshot in snapshots:
        by_target.setdefault(snapshot.volume_id, []).append(snapshot)
    doomed = [
        (target, snapshot)
        for target in targets
        for snapshot in retention_deletions(view, by_target.get(target.id, []), now)
    ]

    def one(item: tuple[VolumeInfo, SnapshotInfo]) -> BackendError | None:
        try:
            delete(*item)
        except BackendError as error:
            return error
        return None

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for (target, snapshot), error in zip(doomed, pool.map(one, doomed), strict=True):
            if error is None:
                tally.deleted_ids.add(snapshot.id)
            else:
                tally.fail(target, error)
