"""Cleaning up after an OpenStack restore: what a failed or canceled job left, and old storage after REPLACE.

Cleanup of a failed or canceled job finds everything the job made (``createdResources`` plus a
lookup by its owner marks, so an object created just before a crash is found too), deletes its server
first (its ports and volume come free), then its ports that nothing else uses, then - when asked - its
volume if it is not attached. Cleanup-storage after a completed REPLACE deletes the source snapshot
(when asked, and only if available) and the replaced VM's old boot volume (only when detached).
Each is resumable: one call is one pass; it returns True when finished.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from daytwo.crds.restorejob_status import CleanupStatus, CreatedResource

from ...errors import BackendError, NotFound, RetryableError
from ...shared.times import parse_time
from .openstack import OpenStackEngine

__all__ = ["cleanup_openstack", "cleanup_storage_openstack", "discover"]

_T = TypeVar("_T")

_BUSY_VOLUME = ("in-use", "attaching", "detaching", "reserved", "maintenance", "backing-up", "awaiting-transfer")


def _add(record: CleanupStatus, field: str, value: str) -> None:
    """Append ``value`` to the list field ``field`` of the cleanup record (once; the newest 32 kept)."""
    items = list(getattr(record, field) or [])
    if value not in items:
        setattr(record, field, [*items, value][-32:])


def _live(
    engine: OpenStackEngine, record: CleanupStatus, resource: CreatedResource, get: Callable[[str], _T], deleted: str
) -> _T | None:
    """``resource`` as the cloud has it now; None when it is gone: then the job forgets it and, unless
    ``deleted`` is empty, the cleanup record lists it under that field."""
    try:
        return get(resource.id)
    except NotFound:
        engine.ctx.forget(resource.type, resource.id)
        if deleted:
            _add(record, deleted, resource.id)
        return None


def discover(engine: OpenStackEngine) -> None:
    """Record objects carrying this job's marks that ``createdResources`` misses (made just before a crash)."""
    ctx = engine.ctx
    if not ctx.plan.new_vm_name or not ctx.plan.project_id:
        return
    known = {(r.type, r.id) for r in ctx.resources(live=False)}
    found = [CreatedResource(type="server", id=s.id, name=s.name, step="CREATE_SERVER") for s in engine.our_servers()]
    found += [
        CreatedResource(type="port", id=p.id, name=p.name, step="CREATE_PORTS", network_id=p.network_id)
        for p in engine.our_ports()
    ]
    volumes = engine.admin.find_volumes(engine.volume_name(), project_id=engine.project_id)
    found += [
        CreatedResource(type="volume", id=v.id, name=v.name, step="CREATE_VOLUME_FROM_SNAPSHOT")
        for v in volumes
        if engine.ours(v.metadata)
    ]
    for entry in found:
        if (entry.type, entry.id) not in known:
            ctx.record(entry)


def cleanup_openstack(engine: OpenStackEngine, record: CleanupStatus) -> bool:
    """One pass: servers (wait until gone), then unattached ports, then the volume when asked."""
    ctx, admin = engine.ctx, engine.admin
    discover(engine)
    waiting = False
    for server in ctx.resources("server"):
        live = _live(engine, record, server, admin.get_server, "deleted_servers")
        if live is None:
            continue
        if live.task_state != "deleting":
            _attempt(record, f"server {server.id}", lambda s=server.id: admin.delete_server(s))
        waiting = True
    if waiting and not ctx.waited_too_long_since(parse_time(record.started_at)):
        return False
    for port in ctx.resources("port"):
        live_port = _live(engine, record, port, admin.get_port, "")
        if live_port is None:
            continue
        if live_port.device_id:
            _add(record, "skipped", f"port {port.id}: attached to {live_port.device_id}")
            continue
        if _attempt(record, f"port {port.id}", lambda p=port.id: admin.delete_port(p)):
            ctx.forget("port", port.id)
            _add(record, "deleted_ports", port.id)
    for volume in ctx.resources("volume"):
        if not record.delete_volume:
            _add(record, "skipped", f"volume {volume.id}: kept (set deleteVolume: true to delete it)")
            continue
        live_volume = _live(engine, record, volume, admin.get_volume, "deleted_volumes")
        if live_volume is None:
            continue
        if live_volume.attachments or live_volume.status in _BUSY_VOLUME:
            _add(record, "skipped", f"volume {volume.id}: {live_volume.status}, attached or in use")
            continue
        if live_volume.status == "deleting" or _attempt(
            record, f"volume {volume.id}", lambda v=volume.id: admin.delete_volume(v)
        ):
            ctx.forget("volume", volume.id)
            _add(record, "deleted_volumes", volume.id)
    if waiting:
        _add(record, "errors", "a server of the job is still being deleted; its ports and volume were kept")
    return True


def cleanup_storage_openstack(engine: OpenStackEngine, record: CleanupStatus, mode: str) -> bool:
    """One pass: the source snapshot first (its volume cannot go while it exists), then the old boot volume."""
    ctx, admin = engine.ctx, engine.admin
    snapshot_id = str(ctx.plan.restore_point_id or "")
    if record.delete_source_snapshot and snapshot_id:
        try:
            snapshot = admin.get_snapshot(snapshot_id)
        except NotFound:
            if snapshot_id not in (record.deleted_snapshots or []):
                _add(record, "skipped", f"snapshot {snapshot_id}: already gone")
        else:
            if snapshot.status == "available":
                if _attempt(record, f"snapshot {snapshot_id}", lambda: admin.delete_snapshot(snapshot_id)):
                    _add(record, "deleted_snapshots", snapshot_id)
                    return False
            elif snapshot.status == "deleting":
                return False
            else:
                _add(record, "skipped", f"snapshot {snapshot_id}: {snapshot.status}, not available; kept")
    old = ctx.original.boot_volume_id if ctx.original else None
    if not record.delete_old_volume:
        return True
    if mode != "REPLACE" or not old:
        _add(record, "skipped", "old volume: only a REPLACE restore leaves one behind")
        return True
    try:
        volume = admin.get_volume(old)
    except NotFound:
        if old not in (record.deleted_volumes or []):
            _add(record, "skipped", f"volume {old}: already gone")
        return True
    if volume.attachments or volume.status in _BUSY_VOLUME:
        _add(record, "skipped", f"volume {old}: {volume.status}, attached or in use; kept")
        return True
    others = [s.id for s in admin.list_snapshots(volume_id=old) if s.status != "deleting"]
    if others:
        why = (
            "Cinder deletes no volume with snapshots: delete them first (deleteSourceSnapshot covers the restore point)"
        )
        _add(record, "errors", f"volume {old} still has snapshot(s) {', '.join(others[:5])}; {why}")
    elif volume.status != "deleting" and _attempt(record, f"volume {old}", lambda: admin.delete_volume(old)):
        _add(record, "deleted_volumes", old)
    return True


def _attempt(record: CleanupStatus, what: str, call: Any) -> bool:
    """Run a delete; a failure is recorded in ``errors`` (Cinder refuses a volume with snapshots, say)."""
    try:
        call()
    except NotFound:
        return True
    except RetryableError:
        raise  # the pass retries later
    except BackendError as error:
        _add(record, "errors", f"{what}: {error.reason}: {error.message}"[:1024])
        return False
    return True
