"""What a Nova boot and delete do to the estate: scheduling, ports, volumes, timed transitions.

As in Nova, the API (POST /servers) refuses a requested port that is already bound (``device_id`` set:
409 PortInUse, ``validate_networks``) and reserves a boot volume synchronously (Cinder
``attachment_create`` in ``_validate_bdm``: a volume that is not ``available`` is a 400). Binding the
requested ports is the compute host's job during the build: two boots of one unbound port are both
accepted, and the one that finds the port taken by then goes to ERROR with a PortInUse fault. Nova
accepts duplicate server names.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .errors import nova_error
from .model import Model, Record

__all__ = ["allocate_ip", "boot", "new_server", "schedule_delete"]


def allocate_ip(model: Model, network_id: str) -> tuple[str, str] | None:
    """The first free (subnet_id, address) in the network's allocation pools, or None."""
    used = {f["ip_address"] for p in model.ports.values() if p["network_id"] == network_id for f in p["fixed_ips"]}
    for subnet in model.subnets.values():
        if subnet["network_id"] != network_id:
            continue
        taken = used | {subnet["gateway_ip"]}
        for pool in subnet["allocation_pools"]:
            start, end = int(ipaddress.ip_address(pool["start"])), int(ipaddress.ip_address(pool["end"]))
            for value in range(start, end + 1):
                address = str(ipaddress.ip_address(value))
                if address not in taken:
                    return subnet["id"], address
    return None


def new_server(
    model: Model,
    *,
    name: str,
    project_id: str,
    user_id: str,
    flavor_id: str,
    image_id: str,
    host: Record,
    az: str | None,
    status: str = "ACTIVE",
) -> Record:
    """A server record (as the seed and boot create them)."""
    sid = model.new_id()
    now = model.now_iso()
    active = status == "ACTIVE"
    server: Record = {
        "id": sid,
        "name": name,
        "status": status,
        "tenant_id": project_id,
        "user_id": user_id,
        "flavor_id": flavor_id,
        "image_id": image_id,
        "host": host["service"]["host"],
        "node": host["hypervisor_hostname"],
        "availability_zone": az or "nova",
        "instance_name": f"instance-{len(model.servers) + 1:08x}",
        "addresses": {},
        "volume_ids": [],
        "metadata": {},
        "key_name": None,
        "created": now,
        "updated": now,
        "launched_at": now if active else None,
        "task_state": None if active else "scheduling",
        "vm_state": "active" if active else "building",
        "power_state": 1 if active else 0,
        "auto_ports": [],
    }
    model.servers[sid] = server
    return server


def _pick_host(model: Model, az: str | None) -> Record:
    load: dict[str, int] = {}
    for s in model.servers.values():
        load[s["host"]] = load.get(s["host"], 0) + 1
    candidates = list(model.hypervisors.values())
    if az and az != "nova":
        members = {h for a in model.aggregates.values() if a["availability_zone"] == az for h in a["hosts"]}
        candidates = [h for h in candidates if h["service"]["host"] in members]
    if not candidates:
        raise nova_error(400, f"The requested availability zone is not available: {az}")
    return min(candidates, key=lambda h: (load.get(h["service"]["host"], 0), h["hypervisor_hostname"]))


def _attach_port(model: Model, server: Record, port: Record) -> None:
    port["device_id"] = server["id"]
    port["device_owner"] = "compute:" + (server["availability_zone"] or "nova")
    port["binding:host_id"] = server["host"]
    net = model.networks[port["network_id"]]["name"]
    for fixed in port["fixed_ips"]:
        server["addresses"].setdefault(net, []).append(
            {
                "version": 4,
                "addr": fixed["ip_address"],
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
            }
        )


def boot(model: Model, token: Any, data: dict[str, Any]) -> Record:
    """Validate a POST /servers body like Nova does and start the build."""
    flavor_id = str(data.get("flavorRef", ""))
    if flavor_id not in model.flavors:
        raise nova_error(400, f"Flavor {flavor_id} could not be found.")
    image_id = str(data.get("imageRef") or "")
    bdms = data.get("block_device_mapping_v2") or []
    boot_volume = next((b for b in bdms if str(b.get("boot_index")) == "0" and b.get("source_type") == "volume"), None)
    if not image_id and boot_volume is None:
        raise nova_error(
            400,
            "Block Device Mapping is Invalid: Boot sequence for the instance and image/block "
            "device mapping combination is not valid.",
        )
    if image_id and image_id not in model.images:
        raise nova_error(400, f"Image {image_id} could not be found.")
    volumes = []
    for bdm in bdms:
        if bdm.get("source_type") != "volume":
            continue
        volume = model.volumes.get(str(bdm.get("uuid")))
        if volume is None:
            raise nova_error(400, f"Block Device Mapping is Invalid: failed to get volume {bdm.get('uuid')}.")
        if volume["status"] != "available":
            raise nova_error(
                400,
                f"Invalid volume: volume '{volume['id']}' status must be 'available'. "
                f"Currently in '{volume['status']}'",
            )
        volumes.append((volume, bool(bdm.get("delete_on_termination"))))
    networks = data.get("networks", "auto")
    ports: list[Record] = []
    auto_nets: list[str] = []
    if isinstance(networks, list):
        for net in networks:
            if "port" in net:
                port = model.ports.get(str(net["port"]))
                if port is None:
                    raise nova_error(400, f"Port id {net['port']} could not be found.")
                if port["device_id"]:
                    raise nova_error(409, f"Port {port['id']} is still in use.")
                ports.append(port)
            elif "uuid" in net:
                if net["uuid"] not in model.networks:
                    raise nova_error(400, f"Network {net['uuid']} could not be found.")
                auto_nets.append(str(net["uuid"]))
    host = _pick_host(model, data.get("availability_zone"))
    server = new_server(
        model,
        name=str(data["name"]),
        project_id=token.project_id,
        user_id=token.user_id,
        flavor_id=flavor_id,
        image_id=image_id,
        host=host,
        az=data.get("availability_zone"),
        status="BUILD",
    )
    server["metadata"] = {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}
    server["key_name"] = data.get("key_name")
    from .neutron import create_port_record  # local: neutron imports nova_boot for IP allocation

    requested = list(ports)  # bound by the build (below); ports made for the server are bound at once
    for net_id in auto_nets:
        port = create_port_record(model, network_id=net_id, project_id=token.project_id, name="", fixed_ips=[])
        server["auto_ports"].append(port["id"])
        _attach_port(model, server, port)
    for volume, delete_on_termination in volumes:
        volume["status"] = "reserved"
        volume["_delete_on_termination"] = delete_on_termination
        server["volume_ids"].append(volume["id"])

    def finish() -> None:
        if server["id"] not in model.servers:
            return
        taken = [p for p in requested if model.ports.get(p["id"]) is not p or p["device_id"] not in ("", server["id"])]
        if taken:  # the compute host's network allocation finds the port bound meanwhile (PortInUse)
            reason = f"Port {taken[0]['id']} is still in use."
            server.update(
                status="ERROR",
                task_state=None,
                vm_state="error",
                updated=model.now_iso(),
                fault={
                    "code": 500,
                    "created": model.now_iso(),
                    "message": f"Build of instance {server['id']} aborted: {reason}",
                },
            )
            return
        for port in requested:
            _attach_port(model, server, port)
        server.update(
            status="ACTIVE",
            task_state=None,
            vm_state="active",
            power_state=1,
            launched_at=model.now_iso(),
            updated=model.now_iso(),
        )
        for vid in server["volume_ids"]:
            vol = model.volumes.get(vid)
            if vol is not None:
                vol["status"] = "in-use"
                vol["attachments"] = [
                    {
                        "server_id": server["id"],
                        "attachment_id": model.new_id(),
                        "volume_id": vid,
                        "host_name": server["host"],
                        "device": "/dev/vda",
                        "id": vid,
                        "attached_at": model.now_iso(micro=True),
                    }
                ]
        for port in model.ports.values():
            if port["device_id"] == server["id"]:
                port["status"] = "ACTIVE"

    model.later(model.delays.server_build, finish)
    return server


def schedule_delete(model: Model, server: Record) -> None:
    """Mark deleting now; remove after the delete delay, detaching volumes and ports."""
    server["task_state"] = "deleting"

    def finish() -> None:
        if model.servers.pop(server["id"], None) is None:
            return
        for vid in server["volume_ids"]:
            vol = model.volumes.get(vid)
            if vol is None:
                continue
            if vol.pop("_delete_on_termination", False):
                model.volumes.pop(vid, None)
            else:
                vol["status"], vol["attachments"] = "available", []
        for port in list(model.ports.values()):
            if port["device_id"] != server["id"]:
                continue
            if port["id"] in server["auto_ports"]:
                model.ports.pop(port["id"], None)
            else:
                port.update(device_id="", device_owner="", status="DOWN")
                port["binding:host_id"] = ""

    model.later(model.delays.delete, finish)
