"""ProxmoxNode guests from the guest inventory ConfigMaps (shared parser), the status fallback, and the views
of pmi resources built on them."""

from __future__ import annotations

import json

from daytwo.api.routers.pmi._shared import Envelope, inventories
from daytwo.api.routers.pmi.schemas import Resource, Resources
from daytwo.api.views.platform9.inventory import parse_inventories
from daytwo.api.views.pmi import nodes
from daytwo.api.views.pmi.guests import GUESTS_LABEL, by_owner, node_guests

from tests.harness.fakes import route_client

from .data import default_guests, proxmox_node, record
from .inventory_data import guest_cms, guest_record, records
from .test_routes import BASE, BodyWriter, client


def test_every_guest_of_two_chunks_with_usage() -> None:
    maps = guest_cms(guests=records(120), chunks=2, samples=[{"t": "2026-11-30T10:00:00Z", "cpu": 0.5}])
    found = node_guests(proxmox_node(), maps)
    assert found.source == "inventory" and found.complete and found.synced_at == "2026-11-30T12:00:00Z"
    assert [g.vmid for g in found.guests] == list(range(100, 220))
    assert (found.total_vms, found.total_containers) == (80, 40) and len(found.samples) == 1
    assert found.interval_seconds == 60
    first = found.guests[0]
    assert (first.cpus, first.cpu, first.maxmem, first.netin, first.tags, first.template) == (
        2,
        0.25,
        4096 * 2**20,
        1100,
        ("prod",),
        False,
    )


def test_a_missing_or_stale_chunk_marks_the_inventory_incomplete_but_keeps_what_is_there() -> None:
    head, tail = guest_cms(guests=records(60), chunks=2)
    assert not node_guests(proxmox_node(), [head]).complete
    assert len(node_guests(proxmox_node(), [head]).guests) == 30
    stale = {**tail, "data": {"records.json": json.dumps(records(29, first=130))}}
    assert not node_guests(proxmox_node(), [head, stale]).complete


def test_configmaps_of_another_proxmoxnode_or_without_manifest_fall_back_to_the_status() -> None:
    other = guest_cms("pve-b", guests=records(3))
    found = node_guests(proxmox_node(), other)
    assert found.source == "status" and [g.vmid for g in found.guests] == [100, 101, 200]
    assert found.guests[0].mem is None and found.complete and found.samples == ()
    chunk_only = guest_cms(guests=records(60), chunks=2)[1:]
    assert node_guests(proxmox_node(), chunk_only).source == "status"
    assert set(by_owner(other + chunk_only)) == {"pve-b", "pve-lab"}


def test_status_fallback_says_truncated_when_the_counts_are_larger() -> None:
    obj = proxmox_node(guests=default_guests())
    obj["status"]["guestCounts"] = {"vms": 80, "containers": 20, "running": 50}
    view = nodes.resources_view(node_guests(obj, ()))
    assert view["truncated"] is True and view["source"] == "status" and view["total_vms"] == 80
    assert view["vms"][0]["memory_usage"] is None and view["vms"][0]["tags"] is None


def test_pmi_resources_from_the_inventory_fill_usage() -> None:
    guests = [guest_record(100), guest_record(200, kind="lxc", cpu=0.082, mem=0, maxmem=0, tags=[])]
    view = nodes.resources_view(node_guests(proxmox_node(), guest_cms(guests=guests, chunks=1)))
    assert view["truncated"] is False and view["source"] == "inventory"
    assert (view["total_vms"], view["total_containers"]) == (1, 1)
    vm, ct = view["vms"][0], view["containers"][0]
    assert (vm["cpu_usage"], vm["memory_usage"], vm["memory_total"], vm["memory_percentage"]) == (
        25.0,
        2**30,
        2**32,
        25.0,
    )
    assert (vm["disk_percentage"], vm["network_in"], vm["network_out"], vm["uptime"]) == (25.0, 1100, 2100, 3600)
    assert vm["last_updated"] == "2026-11-30T12:00:00Z" and vm["tags"] == ["prod"] and vm["cpu_count"] == 2
    assert (ct["type"], ct["cpu_usage"], ct["memory_percentage"], ct["tags"]) == ("lxc", 8.2, 0.0, [])


def test_the_shared_parser_reads_only_the_label_asked_for() -> None:
    maps = guest_cms(guests=records(4), chunks=2)
    assert parse_inventories(maps) == []  # the CloudCredential label by default
    (found,) = parse_inventories(maps, GUESTS_LABEL)
    assert found.owner == found.credential == "pve-lab" and found.provider == "proxmox" and found.complete
    assert found.counts == {"vm": 3, "lxc": 1} and "history.json" in found.extra and len(found.records) == 4


def test_routes_answer_every_guest_with_usage_and_power_requests_find_them() -> None:
    objects = [proxmox_node(), *guest_cms(guests=records(120), chunks=2)]
    c = client(objects, role="viewer")
    answer = c.get(f"{BASE}/nodes/pve-lab/resources")
    body = Envelope[Resources].model_validate(answer.json())
    assert body.success and body.data.truncated is False and body.data.source == "inventory"
    assert (len(body.data.vms), len(body.data.containers), body.data.total_vms) == (80, 40, 80)
    assert all(r.cpu_usage == 25.0 and r.memory_total == 4096 * 2**20 for r in body.data.vms)
    metrics = Envelope[Resource].model_validate(c.get(f"{BASE}/nodes/pve-lab/resources/219/metrics").json())
    assert metrics.data.vmid == 219 and metrics.data.network_in == 1219 and metrics.data.disk_percentage == 25.0
    assert c.get(f"{BASE}/nodes/pve-lab/resources/300/metrics").status_code == 404
    # a guest beyond the status' 50 can be powered; an unknown one is 404 (the inventory is complete)
    operator = client(objects, BodyWriter(), role="operator")
    assert operator.post(f"{BASE}/nodes/pve-lab/resources/219/stop").status_code == 202
    assert operator.post(f"{BASE}/nodes/pve-lab/resources/300/start").status_code == 404


def test_routes_fall_back_to_the_status_list() -> None:
    obj = proxmox_node()
    obj["status"]["guestCounts"] = {"vms": 60, "containers": 0, "running": 1}
    data = client([obj], role="viewer").get(f"{BASE}/nodes/pve-lab/resources").json()["data"]
    assert data["truncated"] is True and data["source"] == "status" and data["vms"][0]["cpu_usage"] is None
    Resources.model_validate(data)


def test_history_names_guests_the_status_list_does_not_hold() -> None:
    obj = proxmox_node(history=[record("a", 219, "start", "success", "2026-11-30T10:00:00Z")])
    rows = client([obj, *guest_cms(guests=records(120))], role="viewer").get(f"{BASE}/history").json()["data"]
    assert rows["operations"][0]["resource_name"] == "guest-219"
    fallback = client([obj], role="viewer").get(f"{BASE}/history").json()["data"]
    assert fallback["operations"][0]["resource_name"] is None


def test_inventories_are_parsed_again_only_when_their_own_configmaps_change() -> None:
    _client, services = route_client([proxmox_node(), proxmox_node("pve-b"), *guest_cms(guests=records(60))])
    store = services.store
    before = inventories(store)
    assert [(n.cr, n.source) for n in before] == [("pve-b", "status"), ("pve-lab", "inventory")]
    audit = {"metadata": {"name": "daytwo-api-audit-0", "namespace": "daytwo", "resourceVersion": "7"}, "data": {}}
    audit["metadata"]["labels"] = {"app.kubernetes.io/part-of": "daytwo"}
    store._watcher("ConfigMap").apply({"type": "ADDED", "object": audit})
    after = inventories(store)
    assert after is not before and all(a is b for a, b in zip(after, before, strict=True))
    for cm in guest_cms(guests=records(70), version="2"):
        store._watcher("ConfigMap").apply({"type": "MODIFIED", "object": cm})
    again = inventories(store)
    changed = {n.cr: n for n in again}
    assert len(changed["pve-lab"].guests) == 70 and changed["pve-b"] is {n.cr: n for n in before}["pve-b"]
