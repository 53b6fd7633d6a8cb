"""Cinder calls: volumes and their metadata, snapshots, volumes from snapshots, quota usage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from . import _convert
from ._base import ServiceCalls, request_json
from ._options import SnapshotFilters, SnapshotOptions, VolumeFilters, VolumeOptions
from ._quota import quota_usages
from ._records import QuotaUsage, Snapshot, Volume

__all__ = ["BlockStorageCalls"]


def _scope(filters: VolumeFilters, **extra: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {k: v for k, v in extra.items() if v}
    if filters.get("all_projects", True):
        query["all_tenants"] = "1"
    if project_id := filters.get("project_id"):
        query["project_id"] = project_id
    return query


class BlockStorageCalls(ServiceCalls):
    """Cinder v3 part of the backend."""

    def list_volumes(self, **filters: Unpack[VolumeFilters]) -> list[Volume]:
        """Volumes with metadata and attachments."""
        query = _scope(filters, status=filters.get("status"))
        return self._list("list volumes", "block_storage", "/volumes/detail", "volumes", _convert.volume, query)

    def get_volume(self, volume_id: str) -> Volume:
        """One volume; poll it for creating -> available."""
        return self._get("get volume", "block_storage", f"/volumes/{volume_id}", "volume", _convert.volume)

    def set_volume_metadata(self, volume_id: str, metadata: Mapping[str, str]) -> Volume:
        """Merge metadata keys into a volume (POST merges, as Cinder defines it)."""
        self._call(
            "set volume metadata",
            lambda c: request_json(
                c.block_storage, "POST", f"/volumes/{volume_id}/metadata", body={"metadata": dict(metadata)}
            ),
        )
        return self.get_volume(volume_id)

    def create_volume(self, *, name: str, **options: Unpack[VolumeOptions]) -> Volume:
        """Submit a volume create (blank, from a snapshot or from an image); status creating."""
        body: dict[str, Any] = {"name": name}
        for key, value in (
            ("size", options.get("size_gb")),
            ("snapshot_id", options.get("snapshot_id")),
            ("imageRef", options.get("image_id")),
            ("volume_type", options.get("volume_type")),
            ("availability_zone", options.get("availability_zone")),
        ):
            if value is not None:
                body[key] = value
        if metadata := options.get("metadata"):
            body["metadata"] = dict(metadata)
        return self._create("create volume", "block_storage", "/volumes", "volume", body, _convert.volume)

    def delete_volume(self, volume_id: str) -> bool:
        """Submit a delete; False when the volume was already gone."""
        return self._delete("delete volume", "block_storage", f"/volumes/{volume_id}")

    def list_snapshots(self, **filters: Unpack[SnapshotFilters]) -> list[Snapshot]:
        """Volume snapshots (``status`` filters server-side, e.g. the ones still ``creating``)."""
        query = _scope(filters, volume_id=filters.get("volume_id"), status=filters.get("status"))
        return self._list("list snapshots", "block_storage", "/snapshots/detail", "snapshots", _convert.snapshot, query)

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        """One snapshot; poll it for creating -> available."""
        return self._get("get snapshot", "block_storage", f"/snapshots/{snapshot_id}", "snapshot", _convert.snapshot)

    def create_snapshot(self, volume_id: str, *, name: str, **options: Unpack[SnapshotOptions]) -> Snapshot:
        """Submit a snapshot (``force`` allows an in-use volume)."""
        body: dict[str, Any] = {"volume_id": volume_id, "name": name, "force": options.get("force", False)}
        if description := options.get("description", ""):
            body["description"] = description
        if metadata := options.get("metadata"):
            body["metadata"] = dict(metadata)
        return self._create("create snapshot", "block_storage", "/snapshots", "snapshot", body, _convert.snapshot)

    def delete_snapshot(self, snapshot_id: str) -> bool:
        """Submit a delete; False when the snapshot was already gone."""
        return self._delete("delete snapshot", "block_storage", f"/snapshots/{snapshot_id}")

    def get_volume_quota_usage(self, project_id: str) -> list[QuotaUsage]:
        """Cinder quota limits and usage of a project."""
        return self._call(
            "get volume quota usage",
            lambda c: quota_usages(
                "block-storage",
                project_id,
                request_json(c.block_storage, "GET", f"/os-quota-sets/{project_id}", params={"usage": "True"}),
            ),
        )
