"""Inventory views: chunked ConfigMaps -> servers, volumes, networks, hypervisors, flavors, projects."""

from __future__ import annotations

import json

from daytwo.api.views.platform9 import inventory as inv

from .data import RECORDS, inventory_cms


def _estate() -> inv.Estate:
    return inv.estate(inv.parse_inventories(inventory_cms()))


def test_parse_joins_chunks_in_manifest_order_and_skips_other_providers() -> None:
    found = inv.parse_inventories(inventory_cms())
    assert len(found) == 1 and found[0].credential == "os" and found[0].synced_at == "2026-11-30T10:00:00Z"
    assert [r["resource_id"] for r in found[0].records] == [r["resource_id"] for r in RECORDS]
    aws = inventory_cms("aws-acct", RECORDS[:1])
    manifest = json.loads(aws[0]["data"]["manifest.json"])
    aws[0]["data"]["manifest.json"] = json.dumps({**manifest, "provider": "aws"})
    assert [i.credential for i in inv.estate(inv.parse_inventories(aws + inventory_cms())).inventories] == ["os"]


def test_missing_chunk_is_skipped_and_bad_manifest_ignored() -> None:
    head, _ = inventory_cms()
    assert len(inv.parse_inventories([head])[0].records) == len(RECORDS) // 2
    head["data"]["manifest.json"] = "nope"
    assert inv.parse_inventories([head]) == []


def test_servers() -> None:
    rows = {r["vm_id"]: r for r in inv.servers(_estate())}
    web = rows["vm-1"]
    assert (web["status"], web["vcpus"], web["ram_mb"], web["disk_gb"]) == ("ACTIVE", 2, 2048, 20)
    assert web["ips"] == "10.0.0.5, 203.0.113.5" and web["tenant_name"] == "proj-a" and web["image_name"] == "img-1"
    # cmp-1 runs vm-1 (ACTIVE); vm-2 is SHUTOFF so it is not counted as allocated
    assert (web["host_vcpus_total"], web["host_vcpus_used"], web["host_ram_used_mb"], web["host_running_vms"]) == (
        8,
        2,
        2048,
        1,
    )
    assert rows["vm-3"]["disk_gb"] == 100 and rows["vm-3"]["host_vcpus_total"] is None


def test_volumes_networks_projects() -> None:
    found = _estate()
    vols = {v["volume_id"]: v for v in inv.volumes(found)}
    assert vols["vol-1"]["attached_names"] == ["web-01"] and vols["vol-1"]["bootable"] is True
    assert vols["vol-2"]["attached_to"] == [] and vols["vol-2"]["size_gb"] == 500
    (net,) = inv.networks(found)
    assert (net["network_id"], net["subnet_count"], net["mtu"], net["shared"]) == ("net-1", 2, 1450, False)
    assert inv.projects(found) == [
        {"project_id": "proj-a", "project_name": "proj-a", "server_count": 2, "volume_count": 2, "network_count": 1},
        {"project_id": "proj-b", "project_name": "proj-b", "server_count": 1, "volume_count": 1, "network_count": 0},
    ]


def test_hypervisors_from_compute_inventory_plus_hosts_seen_on_servers() -> None:
    rows = {h["hypervisor_hostname"]: h for h in inv.hypervisors(_estate())}
    assert (rows["cmp-1"]["vcpus"], rows["cmp-1"]["vcpus_used"], rows["cmp-1"]["memory_mb"]) == (8, 6, 16384)
    # cmp-2 only appears on vm-3, which is in ERROR (not running): not listed as allocated
    assert "cmp-2" not in rows


def test_flavors_from_compute_inventory_then_from_servers() -> None:
    rows = {f["name"]: f for f in inv.flavors(_estate())}
    assert rows["m1.small"]["disk_gb"] == 20 and rows["m1.small"]["server_count"] == 2
    assert rows["m1.small"]["id"] == next(r["resource_id"] for r in RECORDS if r["type"] == "flavor")  # not the name
    assert rows["m1.large"] == {
        "id": "m1.large",
        "name": "m1.large",
        "vcpus": 4,
        "ram_mb": 8192,
        "disk_gb": None,
        "is_public": None,
        "server_count": 1,
    }
