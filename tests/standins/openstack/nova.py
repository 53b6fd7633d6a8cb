"""Nova v2.1: discovery, servers (list/show/boot/delete), flavors and quota sets."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import nova_boot, nova_hosts
from .common import body_of, json_response, microversion, model_of, paginate, require_admin, require_token
from .errors import nova_error
from .model import Model, Record

__all__ = ["MAX_VERSION", "routes"]

MIN_VERSION, MAX_VERSION = "2.1", "2.96"
P = "/compute/v2.1"


def _version_doc(base: str, vid: str) -> dict[str, Any]:
    current = vid == "v2.1"
    return {
        "id": vid,
        "status": "CURRENT" if current else "SUPPORTED",
        "version": MAX_VERSION if current else "",
        "min_version": MIN_VERSION if current else "",
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base}/compute/{vid}/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


async def versions(request: Request) -> Response:
    """GET /compute: both API versions."""
    base = request.app.state.base_url
    return json_response({"versions": [_version_doc(base, "v2.0"), _version_doc(base, "v2.1")]})


async def version(request: Request) -> Response:
    """GET /compute/v2.1."""
    return json_response({"version": _version_doc(request.app.state.base_url, "v2.1")})


def _ctx(request: Request) -> tuple[Model, Any, tuple[int, int], dict[str, str]]:
    token = require_token(request)
    mv = microversion(request, "compute", MIN_VERSION, MAX_VERSION)
    return model_of(request), token, mv, nova_hosts.headers(mv)


def flavor_view(flavor: Record, mv: tuple[int, int], base: str) -> dict[str, Any]:
    """A flavor as GET /flavors/detail shows it at this microversion."""
    view = {
        "id": flavor["id"],
        "name": flavor["name"],
        "vcpus": flavor["vcpus"],
        "ram": flavor["ram"],
        "disk": flavor["disk"],
        "swap": 0 if mv >= (2, 75) else "",
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "rxtx_factor": 1.0,
        "os-flavor-access:is_public": flavor["is_public"],
        "OS-FLV-DISABLED:disabled": False,
        "links": [{"rel": "self", "href": f"{base}{P}/flavors/{flavor['id']}"}],
    }
    if mv >= (2, 55):
        view["description"] = flavor.get("description")
    if mv >= (2, 61):
        view["extra_specs"] = dict(flavor["extra_specs"])
    return view


def server_view(model: Model, s: Record, mv: tuple[int, int], base: str, admin: bool) -> dict[str, Any]:
    """A server as GET /servers/detail shows it at this microversion (admin sees host attributes)."""
    flavor = model.flavors.get(s["flavor_id"], {})
    if mv >= (2, 47):
        flavor_part: dict[str, Any] = {
            "vcpus": flavor.get("vcpus", 0),
            "ram": flavor.get("ram", 0),
            "disk": flavor.get("disk", 0),
            "ephemeral": 0,
            "swap": 0,
            "original_name": flavor.get("name", ""),
            "extra_specs": dict(flavor.get("extra_specs", {})),
        }
    else:
        flavor_part = {
            "id": s["flavor_id"],
            "links": [{"rel": "bookmark", "href": f"{base}/compute/flavors/{s['flavor_id']}"}],
        }
    view: dict[str, Any] = {
        "id": s["id"],
        "name": s["name"],
        "status": s["status"],
        "tenant_id": s["tenant_id"],
        "user_id": s["user_id"],
        "metadata": dict(s["metadata"]),
        "hostId": hashlib.sha224((s["tenant_id"] + (s["host"] or "")).encode()).hexdigest() if s["host"] else "",
        "image": {"id": s["image_id"], "links": []} if s["image_id"] else "",
        "flavor": flavor_part,
        "created": s["created"],
        "updated": s["updated"],
        "addresses": {k: list(v) for k, v in s["addresses"].items()},
        "accessIPv4": "",
        "accessIPv6": "",
        "links": [{"rel": "self", "href": f"{base}{P}/servers/{s['id']}"}],
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": s["availability_zone"] or "",
        "config_drive": "",
        "key_name": s["key_name"],
        "OS-SRV-USG:launched_at": s["launched_at"],
        "OS-SRV-USG:terminated_at": None,
        "OS-EXT-STS:task_state": s["task_state"],
        "OS-EXT-STS:vm_state": s["vm_state"],
        "OS-EXT-STS:power_state": s["power_state"],
        "os-extended-volumes:volumes_attached": [{"id": v, "delete_on_termination": False} for v in s["volume_ids"]],
        "security_groups": [{"name": "default"}],
        "locked": False,
        "progress": 0,
    }
    if admin:
        view.update(
            {
                "OS-EXT-SRV-ATTR:host": s["host"],
                "OS-EXT-SRV-ATTR:hypervisor_hostname": s["node"],
                "OS-EXT-SRV-ATTR:instance_name": s["instance_name"],
            }
        )
    if mv >= (2, 3) and admin:
        view["OS-EXT-SRV-ATTR:hostname"] = s["name"]
    if mv >= (2, 19):
        view["description"] = None
    if mv >= (2, 26):
        view["tags"] = []
    if mv >= (2, 73):
        view["locked_reason"] = None
    if s.get("fault"):
        view["fault"] = s["fault"]
    return view


def _visible_servers(request: Request, model: Model, token: Any) -> list[Record]:
    q = request.query_params
    all_tenants = q.get("all_tenants", "").lower() in ("1", "true", "yes", "")
    if "all_tenants" in q and all_tenants:
        require_admin(token, "os_compute_api:servers:index:get_all_tenants")
        project = q.get("project_id") or q.get("tenant_id")
        items = [s for s in model.servers.values() if project is None or s["tenant_id"] == project]
    else:
        items = [s for s in model.servers.values() if s["tenant_id"] == token.project_id]
    if q.get("host"):
        require_admin(token, "os_compute_api:servers:index:query:host")
        items = [s for s in items if s["host"] == q["host"]]
    if q.get("status"):
        items = [s for s in items if s["status"] == q["status"].upper()]
    if q.get("name"):
        pattern = re.compile(q["name"])
        items = [s for s in items if pattern.search(s["name"])]
    for key, field in (("flavor", "flavor_id"), ("image", "image_id"), ("uuid", "id")):
        if q.get(key):
            items = [s for s in items if s[field] == q[key]]
    return items


def _lister(detail: bool) -> Any:
    async def handler(request: Request) -> Response:
        model, token, mv, headers = _ctx(request)
        base = request.app.state.base_url
        with model.lock:
            items = _visible_servers(request, model, token)
            page, next_href = paginate(request, items, default_limit=1000, max_limit=1000)
            if detail:
                out = [server_view(model, s, mv, base, token.is_admin) for s in page]
            else:
                out = [{"id": s["id"], "name": s["name"], "links": []} for s in page]
        body: dict[str, Any] = {"servers": out}
        if next_href:
            body["servers_links"] = [{"rel": "next", "href": next_href}]
        return json_response(body, headers=headers)

    return handler


def _server(model: Model, token: Any, server_id: str) -> Record:
    s = model.servers.get(server_id)
    if s is None or (s["tenant_id"] != token.project_id and not token.is_admin):
        raise nova_error(404, f"Instance {server_id} could not be found.")
    return s


async def show_server(request: Request) -> Response:
    """GET /servers/{id}."""
    model, token, mv, headers = _ctx(request)
    with model.lock:
        s = _server(model, token, request.path_params["server_id"])
        view = server_view(model, s, mv, request.app.state.base_url, token.is_admin)
    return json_response({"server": view}, headers=headers)


async def create_server(request: Request) -> Response:
    """POST /servers: validate, schedule, and go BUILD -> ACTIVE on the clock."""
    model, token, _mv, headers = _ctx(request)
    data = (await body_of(request)).get("server")
    if not isinstance(data, dict) or not data.get("name"):
        raise nova_error(400, "Invalid input for field/attribute server. Value: None. 'name' is a required property")
    with model.lock:
        server = nova_boot.boot(model, token, data)
    return json_response(
        {
            "server": {
                "id": server["id"],
                "links": [],
                "OS-DCF:diskConfig": "MANUAL",
                "security_groups": [{"name": "default"}],
                "adminPass": "standinPass1",
            }
        },
        status=202,
        headers=headers,
    )


async def delete_server(request: Request) -> Response:
    """DELETE /servers/{id}: task_state deleting, gone after the delete delay."""
    model, token, _mv, headers = _ctx(request)
    with model.lock:
        s = _server(model, token, request.path_params["server_id"])
        nova_boot.schedule_delete(model, s)
    return json_response(None, status=204, headers=headers)


async def list_flavors(request: Request) -> Response:
    """GET /flavors and /flavors/detail."""
    model, _token, mv, headers = _ctx(request)
    base = request.app.state.base_url
    detail = request.url.path.endswith("/detail")
    with model.lock:
        flavors = list(model.flavors.values())
    page, next_href = paginate(request, flavors, default_limit=1000, max_limit=1000)
    out = [flavor_view(f, mv, base) if detail else {"id": f["id"], "name": f["name"], "links": []} for f in page]
    body: dict[str, Any] = {"flavors": out}
    if next_href:
        body["flavors_links"] = [{"rel": "next", "href": next_href}]
    return json_response(body, headers=headers)


async def show_flavor(request: Request) -> Response:
    """GET /flavors/{id}."""
    model, _token, mv, headers = _ctx(request)
    flavor = model.flavors.get(request.path_params["flavor_id"])
    if flavor is None:
        raise nova_error(404, f"Flavor {request.path_params['flavor_id']} could not be found.")
    return json_response({"flavor": flavor_view(flavor, mv, request.app.state.base_url)}, headers=headers)


async def flavor_extra_specs(request: Request) -> Response:
    """GET /flavors/{id}/os-extra_specs."""
    model, _token, _mv, headers = _ctx(request)
    flavor = model.flavors.get(request.path_params["flavor_id"])
    if flavor is None:
        raise nova_error(404, f"Flavor {request.path_params['flavor_id']} could not be found.")
    return json_response({"extra_specs": dict(flavor["extra_specs"])}, headers=headers)


async def quota_set(request: Request) -> Response:
    """GET /os-quota-sets/{project_id}[/detail]: limits, and in_use with /detail."""
    model, _token, _mv, headers = _ctx(request)
    project_id = request.path_params["project_id"]
    with model.lock:
        limits = model.quotas.get(project_id, {})
        mine = [s for s in model.servers.values() if s["tenant_id"] == project_id]
        used = {
            "instances": len(mine),
            "cores": sum(model.flavors[s["flavor_id"]]["vcpus"] for s in mine),
            "ram": sum(model.flavors[s["flavor_id"]]["ram"] for s in mine),
        }
    defaults = {
        "instances": 50,
        "cores": 400,
        "ram": 2_048_000,
        "key_pairs": 100,
        "metadata_items": 128,
        "server_groups": 10,
        "server_group_members": 10,
    }
    detail = request.url.path.endswith("/detail")
    body: dict[str, Any] = {"id": project_id}
    for name, default in defaults.items():
        limit = limits.get(name, default)
        body[name] = {"limit": limit, "in_use": used.get(name, 0), "reserved": 0} if detail else limit
    return json_response({"quota_set": body}, headers=headers)


routes = [
    Route("/compute", versions),
    Route("/compute/", versions),
    Route(P, version),
    Route(f"{P}/", version),
    Route(f"{P}/servers", _lister(False), methods=["GET"]),
    Route(f"{P}/servers", create_server, methods=["POST"]),
    Route(f"{P}/servers/detail", _lister(True), methods=["GET"]),
    Route(f"{P}/servers/{{server_id}}", show_server, methods=["GET"]),
    Route(f"{P}/servers/{{server_id}}", delete_server, methods=["DELETE"]),
    Route(f"{P}/flavors", list_flavors),
    Route(f"{P}/flavors/detail", list_flavors),
    Route(f"{P}/flavors/{{flavor_id}}", show_flavor),
    Route(f"{P}/flavors/{{flavor_id}}/os-extra_specs", flavor_extra_specs),
    Route(f"{P}/os-quota-sets/{{project_id}}", quota_set),
    Route(f"{P}/os-quota-sets/{{project_id}}/detail", quota_set),
    *nova_hosts.routes,
]
