"""SnapshotPolicy decisions for Proxmox guests, in the terms ``decisions`` already speaks.

A guest becomes a target record (:class:`VolumeInfo` with id ``<node>/<vmid>``, tenant = its node) and a
Proxmox snapshot a :class:`SnapshotInfo`, so schedule slots, retention and SLA compliance are the same
code for volumes and guests. Proxmox snapshots carry no metadata and their names are short
(``[A-Za-z][A-Za-z0-9_-]{1,39}``), so ownership and slot live in the name:
``<prefix>-<6 hex of the policy>-<slot stamp>``; the description repeats them for people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from daytwo.crds.snapshotpolicy import ProxmoxGuestTargets

from ...shared.snapshots import (
    GUEST_SNAPSHOT_NAME_RE,
    OWNER_KEY,
    SLOT_KEY,
    PolicyView,
    format_time,
    owner_hash,
)
from .decisions import SnapshotInfo, VolumeInfo

__all__ = [
    "guest_snapshot_description",
    "guest_snapshot_info",
    "guest_target",
    "match_guests",
    "split_target_id",
]


def guest_snapshot_description(view: PolicyView, slot: datetime) -> str:
    """What a person reading the snapshot in the Proxmox UI needs: which policy, which slot."""
    return f"{OWNER_KEY}={view.owner} {SLOT_KEY}={format_time(slot)}"


def split_target_id(target_id: str) -> tuple[str, int]:
    """``<node>/<vmid>`` -> (node, vmid)."""
    node, _, vmid = target_id.rpartition("/")
    return node, int(vmid)


def guest_target(node: str, vmid: int, name: str, status: str, kind: str, tags: Sequence[str], disk: int) -> VolumeInfo:
    """A guest as a SnapshotPolicy target: id ``<node>/<vmid>``, tenant its node, size in GiB."""
    return VolumeInfo(
        id=f"{node}/{vmid}",
        name=name or f"{kind}-{vmid}",
        project_id=node,
        project_name=node,
        domain_id="",
        domain_name="",
        status=status,
        size_gb=disk // 2**30,
        metadata={"vmid": str(vmid), "type": kind, "tags": ";".join(tags)},
    )


def match_guests(targets: ProxmoxGuestTargets, guests: Iterable[VolumeInfo]) -> list[VolumeInfo]:
    """Guests any selector covers (node, vmid, any tag), ordered by id."""
    nodes = set(targets.nodes or ())
    vmids = {str(v) for v in targets.vmids or ()}
    tags = set(targets.tags or ())

    def covered(guest: VolumeInfo) -> bool:
        guest_tags = {t for t in guest.metadata.get("tags", "").split(";") if t}
        return guest.project_id in nodes or guest.metadata.get("vmid") in vmids or bool(tags & guest_tags)

    return sorted((g for g in guests if covered(g)), key=lambda g: g.id)


def guest_snapshot_info(view: PolicyView, target_id: str, name: str, snaptime: int) -> SnapshotInfo:
    """A Proxmox snapshot as the decisions need it; owner and slot recovered from this policy's names.

    A Proxmox snapshot exists only once its task ran, so it is ``available``.
    """
    metadata: dict[str, str] = {}
    match = GUEST_SNAPSHOT_NAME_RE.match(name)
    if match and match["owner"] == owner_hash(view):
        stamp = match["slot"]
        slot = datetime.strptime(stamp, "%Y%m%d%H%M%S" if len(stamp) == 14 else "%Y%m%d%H%M").replace(tzinfo=UTC)
        metadata = {OWNER_KEY: view.owner, SLOT_KEY: format_time(slot)}
    created = datetime.fromtimestamp(snaptime, UTC) if snaptime else None
    return SnapshotInfo(f"{target_id}@{name}", name, target_id, "available", created, metadata)
