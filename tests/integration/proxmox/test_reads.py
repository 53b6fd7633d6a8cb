"""Reads: version, cluster, nodes, node status, guest inventory and counts, against fakepve over TLS."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.proxmox import ProxmoxBackend, ProxmoxerBackend

from tests.standins.proxmox import PveStandin

pytestmark = pytest.mark.integration


def test_client_satisfies_the_protocol(client: ProxmoxerBackend) -> None:
    assert isinstance(client, ProxmoxBackend)


def test_version(client: ProxmoxerBackend) -> None:
    info = client.version()
    assert info.version == "9.0.10"
    assert info.release == "9.0"


def test_cluster_status(client: ProxmoxerBackend) -> None:
    status = client.cluster_status()
    assert status.name == "fakecluster"
    assert status.quorate
    assert (status.nodes_total, status.nodes_online) == (2, 2)


def test_nodes_with_usage(client: ProxmoxerBackend) -> None:
    nodes = client.nodes()
    assert [n.node for n in nodes] == ["pve1", "pve2"]
    first = nodes[0]
    assert first.online and first.status == "online"
    assert first.maxcpu == 4 and first.maxmem == 8 * 1024**3 and first.maxdisk == 64 * 1024**3
    assert 3600 <= first.uptime < 3600 + 600, "the stand-in's uptime grows with the clock, as a real node's"
    assert first.memory_percent == 25.0
    assert first.disk_percent == 6.2
    assert first.cpu_percent == 2.0


def test_offline_node(pve: PveStandin, client: ProxmoxerBackend) -> None:
    pve.call(lambda p: p.set_node_offline("pve2"))
    nodes = {n.node: n for n in client.nodes()}
    assert not nodes["pve2"].online
    assert nodes["pve2"].status == "offline"
    assert client.cluster_status().nodes_online == 1
    assert {g.status for g in client.guests() if g.node == "pve2"} == {"unknown"}


def test_node_status(client: ProxmoxerBackend) -> None:
    status = client.node_status("pve1")
    assert status.node == "pve1"
    assert status.uptime == 3600


def test_guest_inventory_matches_the_estate(pve: PveStandin, client: ProxmoxerBackend) -> None:
    guests = client.guests()
    assert [(g.node, g.vmid, g.type, g.name, g.status) for g in guests] == [
        (s.node, s.vmid, s.type, s.name, s.status) for s in sorted(pve.guests, key=lambda s: s.vmid)
    ]
    vm = next(g for g in guests if g.vmid == 100)
    assert vm.type == "vm" and vm.maxmem == 2048 * 1024**2 and vm.maxcpu == 2
    assert vm.maxdisk == 32 * 1024**3
    assert vm.tags == ("daytwo", "prod")
    assert vm.ref.api_kind == "qemu"
    ct = next(g for g in guests if g.type == "lxc")
    assert ct.maxmem == 1024 * 1024**2 and ct.ref.api_kind == "lxc"


def test_guests_of_one_node(client: ProxmoxerBackend) -> None:
    per_node = client.guests("pve2")
    assert {g.node for g in per_node} == {"pve2"}
    assert [g.vmid for g in per_node] == [g.vmid for g in client.guests() if g.node == "pve2"]
    assert {g.type for g in per_node} == {"vm", "lxc"}


def test_guest_counts(client: ProxmoxerBackend) -> None:
    counts = client.guest_counts()
    assert (counts.total, counts.vms, counts.containers) == (8, 6, 2)
    assert (counts.running, counts.stopped, counts.templates) == (4, 4, 0)
    assert dict(counts.by_node) == {"pve1": 4, "pve2": 4}


def test_next_vmid_is_free(client: ProxmoxerBackend) -> None:
    assert client.next_vmid() not in {g.vmid for g in client.guests()}
