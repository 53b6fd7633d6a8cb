"""Nova hypervisors and host aggregates, with Nova's membership and availability-zone rules."""

from __future__ import annotations

import json
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
from .errors import nova_error
from .model import Model, Record

__all__ = ["headers", "routes"]

P = "/compute/v2.1"
_MIN, _MAX = "2.1", "2.96"


def headers(mv: tuple[int, int]) -> dict[str, str]:
    """Nova's microversion response headers."""
    return version_headers("compute", mv)


def _admin_ctx(request: Request, action: str) -> tuple[Model, tuple[int, int], dict[str, str]]:
    token = require_token(request)
    mv = microversion(request, "compute", _MIN, _MAX)
    require_admin(token, action)
    return model_of(request), mv, headers(mv)


def _usage(model: Model) -> dict[str, list[int]]:
    usage: dict[str, list[int]] = {}
    for s in model.servers.values():
        flavor = model.flavors[s["flavor_id"]]
        row = usage.setdefault(s["node"], [0, 0, 0, 0])
        row[0] += flavor["vcpus"]
        row[1] += flavor["ram"]
        row[2] += flavor["disk"] if s["image_id"] else 0
        row[3] += 1
    return usage


def hypervisor_view(h: Record, usage: list[int], mv: tuple[int, int], detail: bool) -> dict[str, Any]:
    """A hypervisor as /os-hypervisors[/detail] shows it (capacity fields only before 2.88)."""
    view: dict[str, Any] = {
        "id": h["id"],
        "hypervisor_hostname": h["hypervisor_hostname"],
        "state": h["state"],
        "status": h["status"],
    }
    if not detail:
        return view
    view.update(
        {
            "host_ip": h["host_ip"],
            "hypervisor_type": "QEMU",
            "hypervisor_version": 8002000,
            "service": {"host": h["service"]["host"], "id": h["service"]["id"], "disabled_reason": None},
        }
    )
    if mv < (2, 88):
        vcpus_used, ram_used, disk_used, running = usage
        view.update(
            {
                "vcpus": h["vcpus"],
                "vcpus_used": vcpus_used,
                "memory_mb": h["memory_mb"],
                "memory_mb_used": ram_used + 4096,
                "local_gb": h["local_gb"],
                "local_gb_used": disk_used,
                "free_ram_mb": h["memory_mb"] - ram_used - 4096,
                "free_disk_gb": h["local_gb"] - disk_used,
                "current_workload": 0,
                "running_vms": running,
                "disk_available_least": h["local_gb"] - disk_used,
                "cpu_info": json.dumps({"arch": "x86_64", "model": "EPYC", "vendor": "AMD"}),
            }
        )
    else:
        view["uptime"] = " 10:00:00 up 42 days"
    return view


async def list_hypervisors(request: Request) -> Response:
    """GET /os-hypervisors and /os-hypervisors/detail (paged from 2.33)."""
    model, mv, hdrs = _admin_ctx(request, "os_compute_api:os-hypervisors:list")
    detail = request.url.path.endswith("/detail")
    with model.lock:
        items = list(model.hypervisors.values())
        pattern = request.query_params.get("hypervisor_hostname_pattern")
        if pattern:
            items = [h for h in items if pattern in h["hypervisor_hostname"]]
        usage = _usage(model) if detail else {}
        if mv >= (2, 33):
            page, next_href = paginate(request, items, default_limit=1000, max_limit=1000)
        else:
            page, next_href = items, None
        out = [hypervisor_view(h, usage.get(h["hypervisor_hostname"], [0, 0, 0, 0]), mv, detail) for h in page]
    body: dict[str, Any] = {"hypervisors": out}
    if next_href:
        body["hypervisors_links"] = [{"rel": "next", "href": next_href}]
    return json_response(body, headers=hdrs)


def aggregate_view(a: Record, mv: tuple[int, int]) -> dict[str, Any]:
    """An aggregate (``uuid`` from 2.41); the AZ also appears in metadata, as in Nova."""
    view = {k: v for k, v in a.items() if k != "uuid"}
    view["hosts"] = list(a["hosts"])
    view["metadata"] = dict(a["metadata"])
    if mv >= (2, 41):
        view["uuid"] = a["uuid"]
    return view


def _aggregate(model: Model, raw_id: str) -> Record:
    agg = model.aggregates.get(int(raw_id)) if raw_id.isdigit() else None
    if agg is None:
        agg = next((a for a in model.aggregates.values() if a["uuid"] == raw_id), None)
    if agg is None:
        raise nova_error(404, f"Aggregate {raw_id} could not be found.")
    return agg


def _az_conflicts(model: Model, agg: Record, zone: str | None, hosts: list[str]) -> list[str]:
    if not zone:
        return []
    return sorted({z for h in hosts for z in model.host_azs(h, skip_aggregate=agg["id"]) if z != zone})


def _set_zone(agg: Record, zone: str | None) -> None:
    agg["availability_zone"] = zone
    if zone:
        agg["metadata"]["availability_zone"] = zone
    else:
        agg["metadata"].pop("availability_zone", None)


async def list_aggregates(request: Request) -> Response:
    """GET /os-aggregates."""
    model, mv, hdrs = _admin_ctx(request, "os_compute_api:os-aggregates:index")
    with model.lock:
        out = [aggregate_view(a, mv) for a in model.aggregates.values()]
    return json_response({"aggregates": out}, headers=hdrs)


async def show_aggregate(request: Request) -> Response:
    """GET /os-aggregates/{id}."""
    model, mv, hdrs = _admin_ctx(request, "os_compute_api:os-aggregates:show")
    with model.lock:
        view = aggregate_view(_aggregate(model, request.path_params["agg_id"]), mv)
    return json_response({"aggregate": view}, headers=hdrs)


async def create_aggregate(request: Request) -> Response:
    """POST /os-aggregates."""
    model, mv, hdrs = _admin_ctx(request, "os_compute_api:os-aggregates:create")
    data = (await body_of(request)).get("aggregate") or {}
    name = str(data.get("name", "")).strip()
    if not name:
        raise nova_error(400, "Invalid input for field/attribute name.")
    with model.lock:
        if any(a["name"] == name for a in model.aggregates.values()):
            raise nova_error(409, f"Aggregate {name} already exists.")
        agg = new_aggregate(model, name, data.get("availability_zone"))
        view = aggregate_view(agg, mv)
    return json_response({"aggregate": view}, headers=hdrs)


def new_aggregate(model: Model, name: str, zone: str | None) -> Record:
    """Create an aggregate record (the seed uses this too)."""
    agg_id = model.new_aggregate_id()
    agg: Record = {
        "id": agg_id,
        "uuid": model.new_id(),
        "name": name,
        "availability_zone": None,
        "hosts": [],
        "metadata": {},
        "created_at": model.now_iso(),
        "updated_at": None,
        "deleted_at": None,
        "deleted": False,
    }
    _set_zone(agg, zone)
    model.aggregates[agg_id] = agg
    return agg


async def update_aggregate(request: Request) -> Response:
    """PUT /os-aggregates/{id}: rename / change AZ (400 when member hosts sit in another AZ)."""
    model, mv, hdrs = _admin_ctx(request, "os_compute_api:os-aggregates:update")
    data = (await body_of(request)).get("aggregate") or {}
    with model.lock:
        agg = _aggregate(model, request.path_params["agg_id"])
        if "name" in data and any(a["name"] == data["name"] and a is not agg for a in model.aggregates.values()):
            raise nova_error(409, f"Aggregate {data['name']} already exists.")
        if "availability_zone" in data:
            conflicts = _az_conflicts(model, agg, data["availability_zone"], agg["hosts"])
            if conflicts:
                raise nova_error(
                    400,
                    f"Cannot update aggregate {agg['id']}. Reason: One or more hosts already "
                    f"in availability zone(s) {conflicts}.",
                )
            _set_zone(agg, data["availability_zone"])
        if "name" in data:
            agg["name"] = data["name"]
        agg["updated_at"] = model.now_iso()
        view = aggregate_view(agg, mv)
    return json_response({"aggregate": view}, headers=hdrs)


async def delete_aggregate(request: Request) -> Response:
    """DELETE /os-aggregates/{id} (400 while it still has hosts)."""
    model, _mv, hdrs = _admin_ctx(request, "os_compute_api:os-aggregates:delete")
    with model.lock:
        agg = _aggregate(model, request.path_params["agg_id"])
        if agg["hosts"]:
            raise nova_error(400, f"Cannot remove aggregate {agg['id']}. Reason: Host aggregate is not empty.")
        del model.aggregates[agg["id"]]
    return json_response(None, status=200, headers=hdrs)


def _action(model: Model, agg: Record, data: dict[str, Any]) -> None:
    if "add_host" in data:
        host = str((data["add_host"] or {}).get("host", ""))
        if host not in model.host_names():
            raise nova_error(404, f"Compute host {host} could not be found.")
        if host in agg["hosts"]:
            raise nova_error(409, f"Aggregate {agg['id']} already has host {host}.")
        current = model.host_azs(host, skip_aggregate=agg["id"])
        if agg["availability_zone"] and current and agg["availability_zone"] not in current:
            raise nova_error(
                409,
                f"Cannot add host to aggregate {agg['id']}. Reason: One or more hosts already "
                f"in availability zone(s) {sorted(current)}.",
            )
        agg["hosts"].append(host)
    elif "remove_host" in data:
        host = str((data["remove_host"] or {}).get("host", ""))
        if host not in agg["hosts"]:
            raise nova_error(404, f"Cannot remove host {host} in aggregate {agg['id']}")
        agg["hosts"].remove(host)
    elif "set_metadata" in data:
        metadata = (data["set_metadata"] or {}).get("metadata") or {}
        if "availability_zone" in metadata:
            conflicts = _az_conflicts(model, agg, metadata["availability_zone"], agg["hosts"])
            if conflicts:
                raise nova_error(
                    400,
                    f"Cannot update metadata of aggregate {agg['id']}. Reason: One or more "
                    f"hosts already in availability zone(s) {conflicts}.",
                )
            _set_zone(agg, metadata["availability_zone"])
        for key, value in metadata.items():
            if key == "availability_zone":
                continue
            if value is None:
                agg["metadata"].pop(key, None)
            else:
                agg["metadata"][key] = str(value)
    else:
        raise nova_error(400, "Invalid input for field/attribute action.")
    agg["updated_at"] = model.now_iso()


async def aggregate_action(request: Request) -> Response:
    """POST /os-aggregates/{id}/action: add_host, remove_host, set_metadata."""
    model, mv, hdrs = _admin_ctx(request, "os_compute_api:os-aggregates:action")
    data = await body_of(request)
    with model.lock:
        agg = _aggregate(model, request.path_params["agg_id"])
        _action(model, agg, data)
        view = aggregate_view(agg, mv)
    return json_response({"aggregate": view}, headers=hdrs)


routes = [
    Route(f"{P}/os-hypervisors", list_hypervisors),
    Route(f"{P}/os-hypervisors/detail", list_hypervisors),
    Route(f"{P}/os-aggregates", list_aggregates, methods=["GET"]),
    Route(f"{P}/os-aggregates", create_aggregate, methods=["POST"]),
    Route(f"{P}/os-aggregates/{{agg_id}}", show_aggregate, methods=["GET"]),
    Route(f"{P}/os-aggregates/{{agg_id}}", update_aggregate, methods=["PUT"]),
    Route(f"{P}/os-aggregates/{{agg_id}}", delete_aggregate, methods=["DELETE"]),
    Route(f"{P}/os-aggregates/{{agg_id}}/action", aggregate_action, methods=["POST"]),
]
