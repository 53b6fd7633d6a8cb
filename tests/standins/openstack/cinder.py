"""Cinder v3: discovery, volumes (+metadata), snapshots, volumes from snapshots, quota usage."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .common import (
    body_of,
    json_response,
    microversion,
    model_of,
    paginate,
    require_admin,
    require_token,
    version_headers,
)
from .errors import cinder_error
from .model import Model, Record

__all__ = ["new_snapshot", "new_volume", "routes"]

MIN_VERSION, MAX_VERSION = "3.0", "3.71"
P = "/volume/v3"
_DELETABLE = {"available", "error", "error_restoring", "error_extending", "error_managing"}


def _doc(base: str) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2023-08-31T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/volume/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


async def versions(request: Request) -> Response:
    """GET /volume and /volume/v3: Cinder answers a version list at both."""
    return json_response({"versions": [_doc(request.app.state.base_url)]})


def _ctx(request: Request) -> tuple[Model, Any, dict[str, str]]:
    token = require_token(request)
    mv = microversion(request, "volume", MIN_VERSION, MAX_VERSION)
    return model_of(request), token, version_headers("volume", mv)


def _public(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k[0] != "_"}


def new_volume(
    model: Model,
    *,
    name: str,
    size: int,
    project_id: str,
    user_id: str,
    status: str = "available",
    metadata: dict[str, str] | None = None,
    snapshot_id: str | None = None,
    image_id: str | None = None,
    az: str = "nova",
    volume_type: str = "standard",
) -> Record:
    """A volume record shaped like GET /volumes/detail (seed and API both use it)."""
    vid = model.new_id()
    now = model.now_iso(micro=True)
    volume: Record = {
        "id": vid,
        "name": name,
        "status": status,
        "size": size,
        "availability_zone": az,
        "created_at": now,
        "updated_at": now,
        "attachments": [],
        "description": "",
        "volume_type": volume_type,
        "snapshot_id": snapshot_id,
        "source_volid": None,
        "metadata": dict(metadata or {}),
        "bootable": "true" if image_id else "false",
        "encrypted": False,
        "multiattach": False,
        "replication_status": None,
        "consistencygroup_id": None,
        "user_id": user_id,
        "os-vol-tenant-attr:tenant_id": project_id,
        "os-vol-host-attr:host": "cinder@ceph#ceph",
        "os-vol-mig-status-attr:migstat": None,
        "os-vol-mig-status-attr:name_id": None,
        "group_id": None,
        "links": [],
    }
    if image_id:
        volume["volume_image_metadata"] = {"image_id": image_id, "image_name": model.images[image_id]["name"]}
    model.volumes[vid] = volume
    return volume


def new_snapshot(
    model: Model,
    volume: Record,
    *,
    name: str,
    status: str = "available",
    metadata: dict[str, str] | None = None,
    description: str = "",
) -> Record:
    """A snapshot record shaped like GET /snapshots/detail."""
    sid = model.new_id()
    now = model.now_iso(micro=True)
    snap: Record = {
        "id": sid,
        "name": name,
        "status": status,
        "size": volume["size"],
        "volume_id": volume["id"],
        "created_at": now,
        "updated_at": now,
        "description": description,
        "metadata": dict(metadata or {}),
        "os-extended-snapshot-attributes:project_id": volume["os-vol-tenant-attr:tenant_id"],
        "os-extended-snapshot-attributes:progress": "100%" if status == "available" else "0%",
        "user_id": volume["user_id"],
        # Cinder keeps the volume's Glance metadata with the snapshot, so a volume made from it boots.
        "_bootable": volume["bootable"],
        "_image_metadata": dict(volume.get("volume_image_metadata") or {}),
    }
    model.snapshots[sid] = snap
    return snap


def _scoped(request: Request, token: Any, items: list[Record], project_key: str) -> list[Record]:
    q = request.query_params
    if q.get("all_tenants", "0").lower() in ("1", "true", "yes"):
        require_admin(token, "volume:get_all_tenants")
        project = q.get("project_id")
        if project:
            items = [i for i in items if i[project_key] == project]
    else:
        items = [i for i in items if i[project_key] == token.project_id]
    for key in ("status", "name", "volume_id"):
        if q.get(key):
            items = [i for i in items if i.get(key) == q[key]]
    return items


def _lister(collection: str, key: str, project_key: str) -> Any:
    async def handler(request: Request) -> Response:
        model, token, hdrs = _ctx(request)
        detail = request.url.path.endswith("/detail")
        with model.lock:
            items = _scoped(request, token, list(getattr(model, collection).values()), project_key)
            page, next_href = paginate(request, items, default_limit=1000, max_limit=1000)
            out = [_public(i) if detail else {"id": i["id"], "name": i["name"], "links": []} for i in page]
        body: dict[str, Any] = {key: out}
        if next_href:
            body[f"{key}_links"] = [{"rel": "next", "href": next_href}]
        return json_response(body, headers=hdrs)

    return handler


def _volume(model: Model, token: Any, vid: str) -> Record:
    volume = model.volumes.get(vid)
    if volume is None or (volume["os-vol-tenant-attr:tenant_id"] != token.project_id and not token.is_admin):
        raise cinder_error(404, f"Volume {vid} could not be found.")
    return volume


def _snapshot(model: Model, token: Any, sid: str) -> Record:
    snap = model.snapshots.get(sid)
    if snap is None or (snap["os-extended-snapshot-attributes:project_id"] != token.project_id and not token.is_admin):
        raise cinder_error(404, f"Snapshot {sid} could not be found.")
    return snap


async def show_volume(request: Request) -> Response:
    """GET /volumes/{id}."""
    model, token, hdrs = _ctx(request)
    with model.lock:
        view = _public(_volume(model, token, request.path_params["volume_id"]))
    return json_response({"volume": view}, headers=hdrs)


def _ready(model: Model, record: Record, delay: float, *, progress: bool = False) -> None:
    def finish() -> None:
        if record["status"] == "creating":
            record["status"] = "available"
            record["updated_at"] = model.now_iso(micro=True)
            if progress:
                record["os-extended-snapshot-attributes:progress"] = "100%"

    model.later(delay, finish)


async def create_volume(request: Request) -> Response:
    """POST /volumes: blank, from a snapshot (size >= snapshot size) or from an image."""
    model, token, hdrs = _ctx(request)
    data = (await body_of(request)).get("volume") or {}
    with model.lock:
        size = data.get("size")
        snapshot_id, image_id = data.get("snapshot_id"), data.get("imageRef")
        if snapshot_id:
            snap = _snapshot(model, token, str(snapshot_id))
            if snap["status"] != "available":
                raise cinder_error(
                    400, "Invalid snapshot: Originating snapshot status must be one of 'available' values"
                )
            size = snap["size"] if size is None else size
            if int(size) < snap["size"]:
                raise cinder_error(
                    400,
                    f"Invalid input received: Volume size '{size}'GB cannot be smaller than "
                    f"the snapshot size {snap['size']}GB. They must be >= original snapshot size.",
                )
        if image_id and image_id not in model.images:
            raise cinder_error(400, f"Invalid image identifier or unable to access requested image {image_id}.")
        if size is None or int(size) <= 0:
            raise cinder_error(400, "Invalid input received: Volume size must be an integer and greater than 0")
        volume = new_volume(
            model,
            name=str(data.get("name") or ""),
            size=int(size),
            project_id=token.project_id,
            user_id=token.user_id,
            status="creating",
            metadata=data.get("metadata"),
            snapshot_id=snapshot_id,
            image_id=image_id,
            az=data.get("availability_zone") or "nova",
            volume_type=data.get("volume_type") or "standard",
        )
        volume["description"] = data.get("description") or ""
        if snapshot_id:
            _inherit_boot_metadata(volume, model.snapshots[str(snapshot_id)])
        _ready(model, volume, model.delays.volume_create)
        view = _public(volume)
    return json_response({"volume": view}, status=202, headers=hdrs)


def _inherit_boot_metadata(volume: Record, snap: Record) -> None:
    """A volume created from a snapshot is bootable, with the image metadata, when its origin was."""
    volume["bootable"] = snap.get("_bootable", "false")
    if snap.get("_image_metadata"):
        volume["volume_image_metadata"] = dict(snap["_image_metadata"])


async def delete_volume(request: Request) -> Response:
    """DELETE /volumes/{id}: refused while attached or with snapshots."""
    model, token, hdrs = _ctx(request)
    with model.lock:
        volume = _volume(model, token, request.path_params["volume_id"])
        has_snaps = any(s["volume_id"] == volume["id"] for s in model.snapshots.values())
        if volume["status"] not in _DELETABLE or has_snaps or volume["attachments"]:
            raise cinder_error(
                400,
                "Invalid volume: Volume status must be available or error or error_restoring "
                "or error_extending or error_managing and must not be migrating, attached, "
                "belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                "from snapshots after volume transfer.",
            )
        volume["status"] = "deleting"
        model.later(model.delays.delete, lambda: model.volumes.pop(volume["id"], None))
    return json_response(None, status=202, headers=hdrs)


async def volume_metadata(request: Request) -> Response:
    """GET/POST (merge)/PUT (replace) /volumes/{id}/metadata."""
    model, token, hdrs = _ctx(request)
    data = await body_of(request) if request.method != "GET" else {}
    with model.lock:
        volume = _volume(model, token, request.path_params["volume_id"])
        if request.method != "GET":
            incoming = {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}
            volume["metadata"] = incoming if request.method == "PUT" else {**volume["metadata"], **incoming}
            volume["updated_at"] = model.now_iso(micro=True)
        body = {"metadata": dict(volume["metadata"])}
    return json_response(body, headers=hdrs)


async def show_snapshot(request: Request) -> Response:
    """GET /snapshots/{id}."""
    model, token, hdrs = _ctx(request)
    with model.lock:
        view = _public(_snapshot(model, token, request.path_params["snapshot_id"]))
    return json_response({"snapshot": view}, headers=hdrs)


async def create_snapshot(request: Request) -> Response:
    """POST /snapshots: an in-use volume needs force=true."""
    model, token, hdrs = _ctx(request)
    data = (await body_of(request)).get("snapshot") or {}
    force = str(data.get("force", False)).lower() in ("true", "1", "yes")
    with model.lock:
        volume = _volume(model, token, str(data.get("volume_id")))
        if not force and volume["status"] != "available":
            raise cinder_error(
                400,
                f"Invalid volume: Volume {volume['id']} status must be available, but current "
                f"status is: {volume['status']}.",
            )
        if force and volume["status"] not in ("available", "in-use"):
            raise cinder_error(
                400,
                f"Invalid volume: Volume {volume['id']} status must be available or in-use, "
                f"but current status is: {volume['status']}.",
            )
        snap = new_snapshot(
            model,
            volume,
            name=str(data.get("name") or ""),
            status="creating",
            metadata=data.get("metadata"),
            description=str(data.get("description") or ""),
        )
        _ready(model, snap, model.delays.snapshot_create, progress=True)
        view = _public(snap)
    return json_response({"snapshot": view}, status=202, headers=hdrs)


async def delete_snapshot(request: Request) -> Response:
    """DELETE /snapshots/{id}."""
    model, token, hdrs = _ctx(request)
    with model.lock:
        snap = _snapshot(model, token, request.path_params["snapshot_id"])
        if snap["status"] not in ("available", "error", "error_deleting"):
            raise cinder_error(
                400,
                "Invalid snapshot: Volume Snapshot status must be available or error or error_deleting or backing-up.",
            )
        snap["status"] = "deleting"
        model.later(model.delays.delete, lambda: model.snapshots.pop(snap["id"], None))
    return json_response(None, status=202, headers=hdrs)


async def quota_set(request: Request) -> Response:
    """GET /os-quota-sets/{project_id}?usage=True."""
    model, _token, hdrs = _ctx(request)
    project_id = request.path_params["project_id"]
    usage = request.query_params.get("usage", "false").lower() in ("true", "1")
    with model.lock:
        vols = [v for v in model.volumes.values() if v["os-vol-tenant-attr:tenant_id"] == project_id]
        snaps = [s for s in model.snapshots.values() if s["os-extended-snapshot-attributes:project_id"] == project_id]
        used = {
            "volumes": len(vols),
            "snapshots": len(snaps),
            "gigabytes": sum(v["size"] for v in vols) + sum(s["size"] for s in snaps),
        }
        limits = model.quotas.get(project_id, {})
    body: dict[str, Any] = {"id": project_id}
    for name, default in (
        ("volumes", 100),
        ("snapshots", 200),
        ("gigabytes", 100_000),
        ("backups", 10),
        ("backup_gigabytes", 1000),
        ("per_volume_gigabytes", -1),
        ("groups", 10),
    ):
        limit = limits.get(name, default)
        body[name] = {"limit": limit, "in_use": used.get(name, 0), "reserved": 0, "allocated": 0} if usage else limit
    return json_response({"quota_set": body}, headers=hdrs)


routes = [
    Route("/volume", versions),
    Route("/volume/", versions),
    Route(P, versions),
    Route(f"{P}/", versions),
    Route(f"{P}/volumes", _lister("volumes", "volumes", "os-vol-tenant-attr:tenant_id"), methods=["GET"]),
    Route(f"{P}/volumes/detail", _lister("volumes", "volumes", "os-vol-tenant-attr:tenant_id")),
    Route(f"{P}/volumes", create_volume, methods=["POST"]),
    Route(f"{P}/volumes/{{volume_id}}", show_volume, methods=["GET"]),
    Route(f"{P}/volumes/{{volume_id}}", delete_volume, methods=["DELETE"]),
    Route(f"{P}/volumes/{{volume_id}}/metadata", volume_metadata, methods=["GET", "POST", "PUT"]),
    Route(
        f"{P}/snapshots",
        _lister("snapshots", "snapshots", "os-extended-snapshot-attributes:project_id"),
        methods=["GET"],
    ),
    Route(f"{P}/snapshots/detail", _lister("snapshots", "snapshots", "os-extended-snapshot-attributes:project_id")),
    Route(f"{P}/snapshots", create_snapshot, methods=["POST"]),
    Route(f"{P}/snapshots/{{snapshot_id}}", show_snapshot, methods=["GET"]),
    Route(f"{P}/snapshots/{{snapshot_id}}", delete_snapshot, methods=["DELETE"]),
    Route(f"{P}/os-quota-sets/{{project_id}}", quota_set),
]
