"""The keyword options of the longer OpenStack calls, declared once: :class:`OpenStackBackend` and the
implementation both take them as ``**options: Unpack[...]`` (mypy checks each keyword's name and type).

Every key may be left out; the default each call applies is noted beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

__all__ = [
    "PortFilters",
    "PortOptions",
    "RawListOptions",
    "ServerFilters",
    "SnapshotFilters",
    "SnapshotOptions",
    "TaggedPortOptions",
    "VolumeFilters",
    "VolumeOptions",
]


class VolumeFilters(TypedDict, total=False):
    """Filters of ``list_volumes``."""

    all_projects: bool  # default True (needs admin)
    project_id: str | None
    status: str | None


class SnapshotFilters(VolumeFilters, total=False):
    """Filters of ``list_snapshots``: those of volumes plus the source volume."""

    volume_id: str | None


class ServerFilters(VolumeFilters, total=False):
    """Filters of ``list_servers``: those of volumes plus the hypervisor host."""

    host: str | None


class VolumeOptions(TypedDict, total=False):
    """What ``create_volume`` creates from (blank with a size, a snapshot or an image) and where."""

    size_gb: int | None
    snapshot_id: str | None
    image_id: str | None
    volume_type: str | None
    availability_zone: str | None
    metadata: Mapping[str, str] | None


class SnapshotOptions(TypedDict, total=False):
    """Options of ``create_snapshot``."""

    force: bool  # default False; True allows an in-use volume
    description: str
    metadata: Mapping[str, str] | None


class PortFilters(TypedDict, total=False):
    """Filters of ``list_ports``."""

    network_id: str | None
    device_id: str | None
    project_id: str | None


class PortOptions(TypedDict, total=False):
    """Options of ``create_port``; ``fixed_ips`` are (subnet_id, ip_address) pairs, either may be None."""

    fixed_ips: Sequence[tuple[str | None, str | None]]  # default ()
    security_group_ids: Sequence[str] | None
    project_id: str | None


class TaggedPortOptions(PortOptions, total=False):
    """Options of ``create_tagged_port``: those of a port plus its tags and description."""

    tags: Sequence[str]  # default ()
    description: str


class RawListOptions(TypedDict, total=False):
    """Options of ``list_raw``: one project instead of all, and what to make of each page."""

    project_id: str | None
    each_page: Callable[[list[dict[str, Any]]], list[Any]] | None
