"""Neutron v2.0: networks, subnets, ports (create/delete with fixed IPs), floating IPs, security groups."""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .common import body_of, json_response, model_of, paginate, require_token
from .errors import neutron_error
from .model import Model, Record
from .nova_boot import allocate_ip

__all__ = ["create_port_record", "port_dict", "routes"]

P = "/network/v2.0"


async def versions(request: Request) -> Response:
    """GET /network: Neutron only has v2.0."""
    href = f"{request.app.state.base_url}/network/v2.0/"
    return json_response({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]})


async def resources(request: Request) -> Response:
    """GET /network/v2.0: the resource index."""
    names = ["networks", "subnets", "ports", "floatingips", "security-groups", "security-group-rules"]
    base = request.app.state.base_url
    return json_response(
        {
            "resources": [
                {"name": n.rstrip("s"), "collection": n, "links": [{"rel": "self", "href": f"{base}{P}/{n}"}]}
                for n in names
            ]
        }
    )


def _mac(model: Model) -> str:
    return "fa:16:3e:" + ":".join(f"{model.rng.randrange(256):02x}" for _ in range(3))


def create_port_record(
    model: Model,
    *,
    network_id: str,
    project_id: str,
    name: str,
    fixed_ips: list[dict[str, Any]],
    security_groups: list[str] | None = None,
    tags: list[str] | None = None,
    description: str = "",
) -> Record:
    """Validate fixed IPs like Neutron and store a DOWN port."""
    if network_id not in model.networks:
        raise neutron_error(404, "NetworkNotFound", f"Network {network_id} could not be found.")
    used = {(f["subnet_id"], f["ip_address"]) for p in model.ports.values() for f in p["fixed_ips"]}
    resolved = []
    for wanted in fixed_ips:
        subnet_id, address = wanted.get("subnet_id"), wanted.get("ip_address")
        if subnet_id is None and address is not None:
            subnet_id = next(
                (
                    s["id"]
                    for s in model.subnets.values()
                    if s["network_id"] == network_id
                    and ipaddress.ip_address(address) in ipaddress.ip_network(s["cidr"])
                ),
                None,
            )
            if subnet_id is None:
                raise neutron_error(
                    400,
                    "InvalidIpForNetwork",
                    f"IP address {address} is not a valid IP for any of the subnets on the specified network.",
                )
        subnet = model.subnets.get(str(subnet_id))
        if subnet is None or subnet["network_id"] != network_id:
            raise neutron_error(
                400,
                "InvalidInput",
                f"Invalid input for operation: Failed to create port on "
                f"network {network_id}, because fixed_ips included invalid "
                f"subnet {subnet_id}.",
            )
        if address is None:
            pick = allocate_ip(model, network_id)
            if pick is None:
                raise neutron_error(
                    409, "IpAddressGenerationFailure", f"No more IP addresses available on network {network_id}."
                )
            resolved.append({"subnet_id": pick[0], "ip_address": pick[1]})
            continue
        if ipaddress.ip_address(address) not in ipaddress.ip_network(subnet["cidr"]) or address == subnet["gateway_ip"]:
            raise neutron_error(
                400, "InvalidIpForSubnet", f"IP address {address} is not a valid IP for the specified subnet."
            )
        if (subnet["id"], address) in used:
            raise neutron_error(
                409, "IpAddressAlreadyAllocated", f"IP address {address} already allocated in subnet {subnet['id']}"
            )
        resolved.append({"subnet_id": subnet["id"], "ip_address": address})
    if not resolved:
        pick = allocate_ip(model, network_id)
        if pick is None:
            raise neutron_error(
                409, "IpAddressGenerationFailure", f"No more IP addresses available on network {network_id}."
            )
        resolved.append({"subnet_id": pick[0], "ip_address": pick[1]})
    port = port_dict(
        model,
        network_id=network_id,
        project_id=project_id,
        name=name,
        fixed_ips=resolved,
        security_groups=security_groups,
    )
    port.update(tags=_valid_tags(tags or []), description=description)
    return port


def _valid_tags(tags: list[Any]) -> list[str]:
    """Neutron's tag rules: strings of at most 255 characters without a comma (the filter separator)."""
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > 255 or "," in tag:
            raise neutron_error(400, "InvalidInput", f"Invalid input for operation: '{tag}' is not a valid tag.")
    return sorted(set(tags))


def port_dict(
    model: Model,
    *,
    network_id: str,
    project_id: str,
    name: str,
    fixed_ips: list[dict[str, Any]],
    security_groups: list[str] | None = None,
) -> Record:
    """Store a DOWN port without validation (the seed and create_port_record use it)."""
    now = model.now_iso()
    default_sg = next(
        (g["id"] for g in model.security_groups.values() if g["name"] == "default" and g["project_id"] == project_id),
        None,
    )
    port: Record = {
        "id": model.new_id(),
        "name": name,
        "network_id": network_id,
        "tenant_id": project_id,
        "project_id": project_id,
        "mac_address": _mac(model),
        "admin_state_up": True,
        "status": "DOWN",
        "device_id": "",
        "device_owner": "",
        "fixed_ips": fixed_ips,
        "security_groups": security_groups if security_groups is not None else ([default_sg] if default_sg else []),
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "binding:host_id": "",
        "binding:vnic_type": "normal",
        "binding:vif_type": "unbound",
        "description": "",
        "created_at": now,
        "updated_at": now,
        "revision_number": 1,
        "tags": [],
        "port_security_enabled": True,
    }
    model.ports[port["id"]] = port
    return port


_SPECIAL_FILTERS = {"limit", "marker", "fields", "sort_key", "sort_dir", "tags", "tags-any", "fixed_ips"}


def _tag_filter(request: Request, items: list[Record]) -> list[Record]:
    """``tags=a,b`` keeps objects carrying every tag, ``tags-any=a,b`` those carrying any (Neutron's tag filters)."""
    for raw in request.query_params.getlist("tags"):
        every = {tag for tag in raw.split(",") if tag}
        items = [i for i in items if every <= set(i.get("tags") or ())]
    for raw in request.query_params.getlist("tags-any"):
        some = {tag for tag in raw.split(",") if tag}
        items = [i for i in items if some & set(i.get("tags") or ())]
    return items


def _fixed_ip_filter(request: Request, items: list[Record]) -> list[Record]:
    """``fixed_ips=ip_address=10.0.0.5`` / ``fixed_ips=subnet_id=...``: ports with a matching fixed IP."""
    for raw in request.query_params.getlist("fixed_ips"):
        key, _, value = raw.partition("=")
        items = [i for i in items if any(str(f.get(key)) == value for f in i.get("fixed_ips") or ())]
    return items


def _visible(request: Request, token: Any, items: list[Record]) -> list[Record]:
    if not token.is_admin:
        items = [i for i in items if i.get("project_id") == token.project_id or i.get("shared")]
    items = _fixed_ip_filter(request, _tag_filter(request, items))
    for key in set(request.query_params.keys()) - _SPECIAL_FILTERS:
        wanted = set(request.query_params.getlist(key))
        lowered = {w.lower() for w in wanted}
        items = [i for i in items if i.get(key) in wanted or str(i.get(key)).lower() in lowered]
    return items


def _lister(collection: str, key: str) -> Any:
    async def handler(request: Request) -> Response:
        token = require_token(request)
        model = model_of(request)
        with model.lock:
            items = _visible(request, token, list(getattr(model, collection).values()))
            page, next_href = paginate(request, items, default_limit=None, max_limit=10_000)
            if key == "security_groups":
                page = [{**g, "security_group_rules": list(g["security_group_rules"])} for g in page]
            body: dict[str, Any] = {key: page}
            if next_href:
                body[f"{key}_links"] = [{"rel": "next", "href": next_href}]
            return json_response(body)

    return handler


def _shower(collection: str, key: str, kind: str) -> Any:
    async def handler(request: Request) -> Response:
        require_token(request)
        model = model_of(request)
        item_id = request.path_params["item_id"]
        with model.lock:
            item = getattr(model, collection).get(item_id)
            if item is None:
                raise neutron_error(404, f"{kind}NotFound", f"{kind} {item_id} could not be found.")
            return json_response({key: dict(item)})

    return handler


async def create_port(request: Request) -> Response:
    """POST /ports."""
    token = require_token(request)
    model = model_of(request)
    data = (await body_of(request)).get("port") or {}
    project = data.get("project_id") or data.get("tenant_id") or token.project_id
    with model.lock:
        port = create_port_record(
            model,
            network_id=str(data.get("network_id")),
            project_id=project,
            name=str(data.get("name") or ""),
            fixed_ips=list(data.get("fixed_ips") or []),
            security_groups=data.get("security_groups"),
            tags=list(data.get("tags") or []),
            description=str(data.get("description") or ""),
        )
        return json_response({"port": dict(port)}, status=201)


async def replace_tags(request: Request) -> Response:
    """PUT /{collection}/{id}/tags: replace every tag of a port or network (``{"tags": [...]}``)."""
    require_token(request)
    model = model_of(request)
    data = await body_of(request)
    ports = request.url.path.split("/")[-3] == "ports"
    collection, kind = (model.ports, "Port") if ports else (model.networks, "Network")
    with model.lock:
        item = collection.get(request.path_params["item_id"])
        if item is None:
            raise neutron_error(404, f"{kind}NotFound", f"{kind} {request.path_params['item_id']} could not be found.")
        item["tags"] = _valid_tags(list(data.get("tags") or []))
        item["revision_number"] = int(item.get("revision_number", 1)) + 1
        return json_response({"tags": list(item["tags"])})


async def delete_port(request: Request) -> Response:
    """DELETE /ports/{id}."""
    require_token(request)
    model = model_of(request)
    port_id = request.path_params["item_id"]
    with model.lock:
        port = model.ports.pop(port_id, None)
        if port is None:
            raise neutron_error(404, "PortNotFound", f"Port {port_id} could not be found.")
        _unplug(model, port)
    return json_response(None, status=204)


def _unplug(model: Model, port: Record) -> None:
    """Deleting a bound port detaches it from its server (Nova drops the interface and its addresses)."""
    server = model.servers.get(port.get("device_id") or "")
    if server is None:
        return
    for net, entries in list(server["addresses"].items()):
        kept = [e for e in entries if e.get("OS-EXT-IPS-MAC:mac_addr") != port["mac_address"]]
        if kept:
            server["addresses"][net] = kept
        else:
            del server["addresses"][net]
    for fip in model.floating_ips.values():
        if fip.get("port_id") == port["id"]:
            fip.update(port_id=None, fixed_ip_address=None, status="DOWN")


routes = [
    Route("/network", versions),
    Route("/network/", versions),
    Route(P, resources),
    Route(f"{P}/", resources),
    Route(f"{P}/networks", _lister("networks", "networks")),
    Route(f"{P}/networks/{{item_id}}", _shower("networks", "network", "Network")),
    Route(f"{P}/subnets", _lister("subnets", "subnets")),
    Route(f"{P}/subnets/{{item_id}}", _shower("subnets", "subnet", "Subnet")),
    Route(f"{P}/ports", _lister("ports", "ports"), methods=["GET"]),
    Route(f"{P}/ports", create_port, methods=["POST"]),
    Route(f"{P}/ports/{{item_id}}", _shower("ports", "port", "Port"), methods=["GET"]),
    Route(f"{P}/ports/{{item_id}}", delete_port, methods=["DELETE"]),
    Route(f"{P}/ports/{{item_id}}/tags", replace_tags, methods=["PUT"]),
    Route(f"{P}/networks/{{item_id}}/tags", replace_tags, methods=["PUT"]),
    Route(f"{P}/floatingips", _lister("floating_ips", "floatingips")),
    Route(f"{P}/floatingips/{{item_id}}", _shower("floating_ips", "floatingip", "FloatingIP")),
    Route(f"{P}/security-groups", _lister("security_groups", "security_groups")),
    Route(f"{P}/security-groups/{{item_id}}", _shower("security_groups", "security_group", "SecurityGroup")),
]
