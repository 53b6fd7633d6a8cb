"""horcrux views and routes over the ProxmoxNode guest inventory ConfigMaps: every guest with usage, the
metric history from history.json (start/end/interval), per-guest Prometheus series, the status fallback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from daytwo.api.routers.horcrux.schemas import MetricHistory, NodeStats, Vm, VmStats
from daytwo.api.views.horcrux import history, vms
from daytwo.api.views.pmi.guests import node_guests

from ..pmi.data import proxmox_node
from ..pmi.inventory_data import guest_cms, guest_record, records, sample
from .test_routes import BASE, world

#: Ten samples a minute apart: cpu 0.1 .. 1.0, memory 10 .. 100 percent, network counters 1000 .. 10000.
SAMPLES = [sample(m, cpu=(m + 1) / 10, mem=(m + 1) * 10, netin=(m + 1) * 1000) for m in range(10)]


def _nodes(samples: list[dict[str, Any]] | None = None) -> list[Any]:
    return [node_guests(proxmox_node(), guest_cms(guests=records(60), samples=SAMPLES if samples is None else samples))]


def test_history_points_filter_the_range_and_average_per_interval() -> None:
    every = history.history_points(_nodes(), "cpu_usage", None, None, 60)
    assert [p["value"] for p in every] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert every[0]["timestamp"] == "2026-11-30T10:00:00Z" and every[-1]["timestamp"] == "2026-11-30T10:09:00Z"
    start, end = history.parse_range("2026-11-30T10:02:00Z", "2026-11-30T10:07:00+00:00")
    ranged = history.history_points(_nodes(), "memory_usage", start, end, 120)
    # samples 10:02..10:07 in 2-minute buckets 10:02, 10:04, 10:06: (30+40)/2, (50+60)/2, (70+80)/2
    assert [(p["timestamp"], p["value"]) for p in ranged] == [
        ("2026-11-30T10:02:00Z", 35.0),
        ("2026-11-30T10:04:00Z", 55.0),
        ("2026-11-30T10:06:00Z", 75.0),
    ]
    five = history.history_points(_nodes(), "network_rx", None, None, 300)
    assert [p["value"] for p in five] == [3000.0, 8000.0]
    assert history.history_points(_nodes(), "disk_usage", None, None, 3600)[0]["value"] == 25.0


def test_history_sums_proxmoxnodes_and_carries_a_slower_one_forward() -> None:
    fast = _nodes()[0]
    slow_samples = [sample(0, cpu=0.0, mem=0), sample(5, cpu=0.0, mem=0)]
    slow = node_guests(proxmox_node("pve-b"), guest_cms("pve-b", guests=records(2), samples=slow_samples, interval=300))
    points = history.history_points([fast, slow], "memory_usage", None, None, 60)
    # pve-b (0 of 100 bytes) counts in every minute: its last sample is at most two intervals old
    assert [p["value"] for p in points] == [5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("yesterday", None),
        (None, "2026-13-01T00:00:00Z"),
        ("2026-11-30T11:00:00Z", "2026-11-30T10:00:00Z"),
        ("0001-01-01T00:00:00+01:00", None),
    ],
)
def test_bad_ranges_are_refused(start: str | None, end: str | None) -> None:
    with pytest.raises(ValueError, match=r"start|end"):
        history.parse_range(start, end)


def test_node_stats_network_and_cluster_running_count_every_guest() -> None:
    obj = proxmox_node()
    found = [node_guests(obj, guest_cms(guests=records(60)))]
    stats = vms.node_stats([obj], found, datetime(2026, 12, 1, tzinfo=UTC))
    assert stats["network_rx_bytes"] == sum(1000 + vmid for vmid in range(100, 160))
    running = vms.cluster_nodes([obj], found)[0]["vms_running"]
    assert running == 45  # 60 guests, every fourth stopped
    NodeStats.model_validate(stats)


def test_prometheus_text_has_per_guest_usage() -> None:
    obj = proxmox_node()
    text = vms.prometheus_text([obj], [node_guests(obj, guest_cms(guests=[guest_record(100)], chunks=1))])
    labels = 'vm_id="100",name="guest-100",node="pve1"'
    assert f"horcrux_vm_cpu_usage_ratio{{{labels}}} 0.25" in text
    assert f"horcrux_vm_memory_total_bytes{{{labels}}} {4096 * 2**20}" in text
    assert "# TYPE horcrux_vm_network_receive_bytes_total counter" in text
    assert f"horcrux_vm_network_transmit_bytes_total{{{labels}}} 2100" in text


def test_routes_list_every_guest_with_usage() -> None:
    c, _ = world([proxmox_node(), *guest_cms(guests=records(120), samples=SAMPLES)], role="viewer")
    page = c.get(f"{BASE}/api/vms", params={"limit": 1000})
    assert page.status_code == 200 and page.headers["x-total-count"] == "120"
    assert page.headers["x-inventory-complete"] == "true" and len(page.json()) == 120
    first = Vm.model_validate(page.json()[0])
    assert (first.memory, first.cpus, first.disk_size, first.tags, first.uptime_seconds) == (
        4096,
        2,
        20 * 2**30,
        ["prod"],
        3600,
    )
    lxc = c.get(f"{BASE}/api/vms", params={"hypervisor": "lxc", "limit": 5, "offset": 5})
    assert lxc.headers["x-total-count"] == "40" and lxc.json()[0]["id"] == "117"
    assert c.get(f"{BASE}/api/vms/219").json()["name"] == "guest-219"
    stats = c.get(f"{BASE}/api/monitoring/vms")
    assert len(stats.json()) == 120 and stats.headers["x-inventory-complete"] == "true"
    one = VmStats.model_validate(c.get(f"{BASE}/api/monitoring/vms/100").json())
    assert (one.cpu_usage, one.memory_usage, one.network_rx_bytes, one.network_tx_bytes) == (25.0, 25.0, 1100, 2100)
    assert one.disk_usage == 25.0 and one.uptime_seconds == 3600
    assert "horcrux_vm_memory_used_bytes" in c.get(f"{BASE}/metrics").text
    assert c.get(f"{BASE}/api/cluster/nodes").json()[0]["vms_running"] == 90


def test_history_route_honours_start_end_interval() -> None:
    c, _ = world([proxmox_node(), *guest_cms(guests=records(3), samples=SAMPLES)], role="viewer")
    params = {"start": "2026-11-30T10:05:00Z", "end": "2026-11-30T10:09:00Z", "interval": 300}
    body = MetricHistory.model_validate(c.get(f"{BASE}/api/monitoring/history/cpu_usage", params=params).json())
    assert (body.start, body.end, body.interval) == ("2026-11-30T10:05:00Z", "2026-11-30T10:09:00Z", 300)
    assert [(s.timestamp, s.value) for s in body.data] == [("2026-11-30T10:05:00Z", 80.0)]
    whole = c.get(f"{BASE}/api/monitoring/history/network_tx").json()
    assert len(whole["data"]) == 10 and whole["start"] == "2026-11-30T10:00:00Z" and whole["data"][-1]["value"] == 20000
    bad = c.get(f"{BASE}/api/monitoring/history/cpu_usage", params={"start": "noon"})
    assert bad.status_code == 422 and bad.json()["error"] == "VALIDATION_ERROR" and "ISO 8601" in bad.json()["message"]


def test_routes_fall_back_to_the_status_and_say_so() -> None:
    obj = proxmox_node()
    obj["status"]["guestCounts"] = {"vms": 70, "containers": 10, "running": 2}
    c, _ = world([obj], role="viewer")
    listed = c.get(f"{BASE}/api/vms")
    assert listed.headers["x-inventory-complete"] == "false" and len(listed.json()) == 3
    assert listed.json()[0]["memory"] is None and listed.json()[0]["tags"] is None
    assert c.get(f"{BASE}/api/monitoring/vms/100").json()["cpu_usage"] is None
    current = c.get(f"{BASE}/api/monitoring/history/cpu_usage").json()["data"]
    assert len(current) == 1 and current[0]["value"] == 25.0
    assert c.get(f"{BASE}/api/monitoring/history/network_rx").json()["data"] == []


def test_an_inventory_written_later_replaces_the_status_guests() -> None:
    c, writer = world([proxmox_node()], role="viewer")
    assert len(c.get(f"{BASE}/api/vms").json()) == 3
    for cm in guest_cms(guests=records(80)):
        writer.store._watcher("ConfigMap").apply({"type": "ADDED", "object": cm})
    assert c.get(f"{BASE}/api/vms", params={"limit": 1000}).headers["x-total-count"] == "80"
    assert c.get(f"{BASE}/api/monitoring/vms/179").json()["memory_used"] == 2**30
