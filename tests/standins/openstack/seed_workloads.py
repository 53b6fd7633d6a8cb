"""Seed servers (a third boot from volume), their ports and floating IPs, volumes and snapshots."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from .cinder import new_snapshot, new_volume
from .model import Model, Record
from .neutron import port_dict
from .nova_boot import new_server

if TYPE_CHECKING:
    from .seed import SeedInfo, Size

__all__ = ["workloads"]

_POLICY_META = {"auto_snapshot": "true", "snapshot_policies": "daily_5,weekly_4", "retention_daily_5": "5"}


def _attach(model: Model, volume: Record, server: Record, device: str) -> None:
    volume["status"] = "in-use"
    volume["attachments"] = [
        {
            "server_id": server["id"],
            "attachment_id": model.new_id(),
            "volume_id": volume["id"],
            "host_name": server["host"],
            "device": device,
            "id": volume["id"],
            "attached_at": volume["created_at"],
        }
    ]
    server["volume_ids"].append(volume["id"])


def workloads(
    model: Model,
    size: Size,
    projects: list[Record],
    hosts: dict[str, list[Record]],
    nets: dict[str, tuple[Record, Record, list[int]]],
    info: SeedInfo,
) -> None:
    """Create servers, volumes and snapshots across ``projects`` (deterministic via model.rng)."""
    rng = model.rng
    flavors: dict[str, list[str]] = {}
    for fid, flavor in model.flavors.items():
        flavors.setdefault(flavor["extra_specs"].get("gpu_type", "CPU"), []).append(fid)
    images = [i["id"] for i in model.images.values() if i["visibility"] == "public"]
    groups = {}
    for g in model.security_groups.values():
        if g["name"] == "default":
            groups[g["project_id"]] = g["id"]
    public = next(n for n in model.networks.values() if n["router:external"])
    public_subnet = model.subnets[public["subnets"][0]]
    public_net = ipaddress.ip_network(public_subnet["cidr"])
    user_id = next(u["id"] for u in model.users.values() if u["name"] == "admin")
    by_project: dict[str, list[Record]] = {}
    volumes_made = 0
    kinds = [*size.gpu_types, "CPU"]
    for i in range(size.servers):
        project = projects[i % len(projects)]
        kind = kinds[i % len(kinds)] if i % 5 else "CPU"
        host = rng.choice(hosts[kind])
        flavor_id = rng.choice(flavors[kind])
        boot_from_volume = i % 3 == 0
        image_id = rng.choice(images)
        server = new_server(
            model,
            name=f"{project['name']}-vm-{i:05d}",
            project_id=project["id"],
            user_id=user_id,
            flavor_id=flavor_id,
            image_id="" if boot_from_volume else image_id,
            host=host,
            az="az-east" if i % 2 == 0 else "az-west",
        )
        roll = rng.random()
        if roll > 0.97:
            server.update(
                status="ERROR",
                vm_state="error",
                power_state=0,
                fault={"code": 500, "message": "No valid host was found.", "created": server["created"]},
            )
        elif roll > 0.85:
            server.update(status="SHUTOFF", vm_state="stopped", power_state=4)
        net, subnet, counter = nets[project["id"]]
        address = str(ipaddress.ip_network(subnet["cidr"])[counter[0]])
        counter[0] += 1
        port = port_dict(
            model,
            network_id=net["id"],
            project_id=project["id"],
            name="",
            fixed_ips=[{"subnet_id": subnet["id"], "ip_address": address}],
            security_groups=[groups[project["id"]]],
        )
        port.update(device_id=server["id"], device_owner="compute:nova", status="ACTIVE")
        port["binding:host_id"] = server["host"]
        entry: dict[str, Any] = {
            "version": 4,
            "addr": address,
            "OS-EXT-IPS:type": "fixed",
            "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
        }
        server["addresses"][net["name"]] = [entry]
        if i % 10 == 0:
            fip_address = str(public_net[10 + i // 10])
            fid = model.new_id()
            model.floating_ips[fid] = {
                "id": fid,
                "floating_ip_address": fip_address,
                "fixed_ip_address": address,
                "port_id": port["id"],
                "router_id": None,
                "floating_network_id": public["id"],
                "project_id": project["id"],
                "tenant_id": project["id"],
                "status": "ACTIVE",
                "description": "",
                "tags": [],
                "revision_number": 1,
                "created_at": server["created"],
                "updated_at": server["created"],
            }
            server["addresses"][net["name"]].append({**entry, "addr": fip_address, "OS-EXT-IPS:type": "floating"})
        if boot_from_volume and volumes_made < size.volumes:
            root = new_volume(
                model,
                name=f"{server['name']}-root",
                size=100,
                project_id=project["id"],
                user_id=user_id,
                image_id=image_id,
                metadata=dict(_POLICY_META) if i % 2 else {},
            )
            _attach(model, root, server, "/dev/vda")
            volumes_made += 1
        by_project.setdefault(project["id"], []).append(server)
    data_volumes: list[Record] = []
    for j in range(size.volumes - volumes_made):
        project = projects[j % len(projects)]
        meta = dict(_POLICY_META) if rng.random() < 0.6 else {}
        volume = new_volume(
            model,
            name=f"{project['name']}-data-{j:05d}",
            size=rng.choice((10, 20, 50, 100, 500)),
            project_id=project["id"],
            user_id=user_id,
            metadata=meta,
            volume_type=rng.choice(("standard", "ssd")),
        )
        candidates = by_project.get(project["id"], [])
        if candidates and rng.random() < 0.4:
            _attach(model, volume, rng.choice(candidates), "/dev/vdb")
        data_volumes.append(volume)
    all_volumes = list(model.volumes.values())
    for k in range(size.snapshots):
        volume = all_volumes[rng.randrange(len(all_volumes))]
        new_snapshot(
            model,
            volume,
            name=f"auto-daily_5-{volume['name']}-{k:05d}",
            metadata={"created_by": "p9_auto_snapshots", "policy": "daily_5"},
        )
