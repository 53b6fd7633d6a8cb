"""A known boot-from-volume VM with restore points, so examples/restorejob.yaml plans against every seed.

``web-01`` lives in project ``acme-proj-1`` with fixed ids (the example names them); its boot volume
has two snapshots a day apart. The records are made with their own RNG, so the rest of the estate and
every id the stand-in hands out later are the same as without them.
"""

from __future__ import annotations

import ipaddress
import random

from .cinder import new_snapshot, new_volume
from .model import Model, Record
from .neutron import port_dict
from .nova_boot import new_server

__all__ = ["EXAMPLE_PROJECT", "EXAMPLE_RESTORE_POINT_ID", "EXAMPLE_VM_ID", "restore_fixtures"]

EXAMPLE_PROJECT = "acme-proj-1"
EXAMPLE_VM_ID = "7d1c7a42-0c1b-4c55-9f0e-6a7c3f7f2a11"
EXAMPLE_VOLUME_ID = "5a8e3f2c-1d4b-4e6a-9c7f-2b1d8e4a6c30"
EXAMPLE_PORT_ID = "9e4b6a1d-3c2f-4d8e-8a7b-6f5e4d3c2b1a"
EXAMPLE_OLDER_POINT_ID = "3c2d1e0f-8a9b-4c7d-9e6f-5a4b3c2d1e0f"
EXAMPLE_RESTORE_POINT_ID = "0b3f6c8e-95d4-4a8b-8e2a-1f6b2c9d4e77"
_DAY = 86_400.0


def _rekey(records: dict[str, Record], record: Record, new_id: str) -> None:
    records.pop(record["id"])
    record["id"] = new_id
    records[new_id] = record


def restore_fixtures(model: Model, nets: dict[str, tuple[Record, Record, list[int]]]) -> None:
    """Add web-01 (server, port, boot volume, two snapshots) to ``model``; a no-op without acme-proj-1."""
    project = next((p for p in model.projects.values() if p["name"] == EXAMPLE_PROJECT), None)
    if project is None or project["id"] not in nets:
        return
    saved = model.rng
    model.rng = random.Random("daytwo-restore-fixtures")  # leave the estate's own id stream untouched
    try:
        _web01(model, project, nets[project["id"]])
    finally:
        model.rng = saved


def _web01(model: Model, project: Record, net_info: tuple[Record, Record, list[int]]) -> None:
    net, subnet, counter = net_info
    flavor = next(f for f in model.flavors.values() if f["name"] == "m1.small")
    image = next(i for i in model.images.values() if i["name"] == "Ubuntu 22.04")
    host = min(
        (h for h in model.hypervisors.values() if h["service"]["host"].startswith("cpu-")),
        key=lambda h: h["hypervisor_hostname"],
    )
    admin = next(u for u in model.users.values() if u["name"] == "admin")
    server = new_server(
        model,
        name="web-01",
        project_id=project["id"],
        user_id=admin["id"],
        flavor_id=flavor["id"],
        image_id="",
        host=host,
        az="az-east",
    )
    _rekey(model.servers, server, EXAMPLE_VM_ID)
    server["metadata"] = {"role": "web"}
    address = str(ipaddress.ip_network(subnet["cidr"])[counter[0]])
    counter[0] += 1
    port = port_dict(
        model,
        network_id=net["id"],
        project_id=project["id"],
        name="web-01-eth0",
        fixed_ips=[{"subnet_id": subnet["id"], "ip_address": address}],
    )
    _rekey(model.ports, port, EXAMPLE_PORT_ID)
    port.update(device_id=server["id"], device_owner="compute:az-east", status="ACTIVE")
    port["binding:host_id"] = server["host"]
    server["addresses"][net["name"]] = [
        {"version": 4, "addr": address, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}
    ]
    volume = new_volume(
        model, name="web-01-root", size=20, project_id=project["id"], user_id=admin["id"], image_id=image["id"]
    )
    _rekey(model.volumes, volume, EXAMPLE_VOLUME_ID)
    volume.update(availability_zone="nova", status="in-use")
    volume["attachments"] = [
        {
            "server_id": server["id"],
            "attachment_id": model.new_id(),
            "volume_id": volume["id"],
            "host_name": server["host"],
            "device": "/dev/vda",
            "id": volume["id"],
            "attached_at": volume["created_at"],
        }
    ]
    server["volume_ids"].append(volume["id"])
    now = model.clock.now()
    for snap_id, age_days, name in (
        (EXAMPLE_OLDER_POINT_ID, 2, "web-01-root-nightly-2"),
        (EXAMPLE_RESTORE_POINT_ID, 1, "web-01-root-nightly-1"),
    ):
        snap = new_snapshot(model, volume, name=name, metadata={"created_by": "p9_auto_snapshots", "policy": "daily_5"})
        _rekey(model.snapshots, snap, snap_id)
        stamp = model.clock.iso(now - age_days * _DAY, micro=True)
        snap.update(created_at=stamp, updated_at=stamp)
