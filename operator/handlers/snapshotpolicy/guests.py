"""The Proxmox side of one SnapshotPolicy run: guests, snapshot tasks, retention.

The same steps as ``volumes.RunExecutor`` for OpenStack volumes, on Proxmox guests through the
ProxmoxNode's client (``credentials.proxmox_backend``): every create or delete is a PVE task whose
UPID is waited on, and a task that ends with an exit status other than ``OK`` becomes a failure entry
naming the guest and PVE's message. Calls are bounded by the client's per-endpoint limit (all
ProxmoxNodes and policies on one host share it) and the backend retries transient errors itself.
A guest that fails never stops the others; a guest whose snapshots cannot be listed is logged and
becomes a failure entry of the run (``ListFailed``), never "no snapshots".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import kopf
from daytwo.crds.snapshotpolicy import ProxmoxGuestTargets, SnapshotTargets

from ...backends.proxmox import GuestRef, ProxmoxBackend, TaskFailed
from ...errors import BackendError
from ...reconcile.snapshotpolicy.decisions import SnapshotInfo, VolumeInfo
from ...reconcile.snapshotpolicy.guests import (
    guest_snapshot_description,
    guest_snapshot_info,
    guest_target,
    match_guests,
    split_target_id,
)
from ...shared.snapshots import PolicyView, guest_snapshot_name
from .runs import CONCURRENCY, RunTally, apply_retention

__all__ = ["GuestRunExecutor"]

_LOG = logging.getLogger(__name__)
#: The failure reason of a guest whose snapshots could not be listed.
LIST_FAILED = "ListFailed"
#: Longest a snapshot or delete task may run before it counts as failed (RAM state can take minutes).
TASK_TIMEOUT_SECONDS = 600.0


class GuestRunExecutor:
    """Backend calls of one run of one policy over Proxmox guests."""

    def __init__(
        self,
        backend: ProxmoxBackend,
        view: PolicyView,
        *,
        task_timeout: float = TASK_TIMEOUT_SECONDS,
        concurrency: int = CONCURRENCY,
        logger: logging.Logger | kopf.Logger = _LOG,
    ):
        self.backend, self.view, self.task_timeout, self.logger = backend, view, task_timeout, logger
        #: Guests listed, snapshotted or pruned at once (``OperatorSettings.snapshot_concurrency``).
        self.concurrency = concurrency
        self.targets: list[VolumeInfo] = []
        self.types: dict[str, str] = {}

    def resolve(self, targets: SnapshotTargets) -> list[VolumeInfo]:
        """The guests (templates excluded) the policy's ``targets.proxmox`` selectors match."""
        guests = [
            guest_target(g.node, g.vmid, g.name, g.status, g.type, g.tags, g.maxdisk)
            for g in self.backend.guests()
            if not g.template
        ]
        self.targets = match_guests(targets.proxmox or ProxmoxGuestTargets(), guests)
        self.types = {t.id: t.metadata["type"] for t in self.targets}
        return self.targets

    def _ref(self, target_id: str) -> GuestRef:
        node, vmid = split_target_id(target_id)
        return GuestRef(node, vmid, "lxc" if self.types.get(target_id) == "lxc" else "vm")

    def snapshots(self, tally: RunTally) -> list[SnapshotInfo]:
        """Every snapshot of the resolved guests (one listing per guest, in parallel). A guest that
        cannot be listed contributes none and is logged and recorded in ``tally`` (reason
        ``ListFailed``, once per run): its retention and SLA are unknown, not "no snapshots"."""

        def listed(target: VolumeInfo) -> list[SnapshotInfo] | BackendError:
            try:
                found = self.backend.list_snapshots(self._ref(target.id))
            except BackendError as error:
                return error
            return [guest_snapshot_info(self.view, target.id, s.name, s.snaptime) for s in found]

        snapshots: list[SnapshotInfo] = []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for target, outcome in zip(self.targets, pool.map(listed, self.targets), strict=True):
                if isinstance(outcome, BackendError):
                    self._unlisted(target, outcome, tally)
                else:
                    snapshots.extend(outcome)
        return snapshots

    def _unlisted(self, target: VolumeInfo, error: BackendError, tally: RunTally) -> None:
        self.logger.warning(
            "SnapshotPolicy %s: cannot list the snapshots of guest %s (%s): %s %s",
            self.view.owner,
            target.id,
            target.name,
            error.reason,
            error.message,
        )
        if not any(f.target == target.id and f.reason == LIST_FAILED for f in tally.failures):
            tally.fail(target, f"cannot list its snapshots: {error.message}", LIST_FAILED)

    def _task(self, target: VolumeInfo, upid: str) -> None:
        self.backend.wait_task(target.project_id, upid, timeout=self.task_timeout)

    def create_missing(
        self, targets: list[VolumeInfo], slot: datetime, existing: dict[str, SnapshotInfo], tally: RunTally
    ) -> list[str]:
        """Snapshot every target that lacks this slot's snapshot and wait for each task; nothing left to wait for."""
        name = guest_snapshot_name(self.view, slot)
        description = guest_snapshot_description(self.view, slot)

        def create(target: VolumeInfo) -> BackendError | bool:
            memory = self.view.include_memory and self.types.get(target.id) != "lxc"
            try:
                upid = self.backend.create_snapshot(
                    self._ref(target.id), name, description=description, include_memory=memory
                )
                self._task(target, upid)
            except TaskFailed as error:
                # The name is this slot's: "already used" means an earlier attempt made it.
                return False if "already used" in error.exitstatus else error
            except BackendError as error:
                return error
            return True

        missing = [t for t in targets if t.id not in existing]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for target, outcome in zip(missing, pool.map(create, missing), strict=True):
                if isinstance(outcome, BackendError):
                    tally.fail(target, outcome)
                elif outcome:
                    tally.created += 1
        return []

    def wait_available(self, ids: Iterable[str], targets: list[VolumeInfo], tally: RunTally) -> None:
        """Nothing to do: create_missing already waited on every task."""

    def retention(self, targets: list[VolumeInfo], snapshots: list[SnapshotInfo], tally: RunTally) -> None:
        """Delete what retention says, per guest, waiting on each delete task."""

        def delete(target: VolumeInfo, snapshot: SnapshotInfo) -> None:
            self._task(target, self.backend.delete_snapshot(self._ref(target.id), snapshot.name))

        apply_retention(self.view, targets, snapshots, datetime.now().astimezone(), delete, self.concurrency, tally)
