"""ProxmoxNode guest inventory ConfigMaps with plain data: record shape, chunking, history, counts."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.operator.reconcile.chunked import CHUNK_BYTES, chunk_records, configmap_changes
from daytwo.operator.reconcile.proxmoxguests import (
    HISTORY_LIMIT,
    guest_configmaps,
    guest_record,
    guests_configmap_name,
    history_sample,
    next_history,
)
from daytwo.operator.reconcile.proxmoxnode import GuestView, NodeReading, Observation

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
NODE = {
    "apiVersion": "daytwo.io/v1alpha1",
    "kind": "ProxmoxNode",
    "metadata": {"name": "lab", "namespace": "infra", "uid": "u-9"},
}
NODES = [
    NodeReading("pve1", True, cpu=0.5, maxcpu=4, mem=2, maxmem=8, disk=10, maxdisk=100),
    NodeReading("pve2", True, cpu=0.1, maxcpu=12, mem=6, maxmem=24, disk=5, maxdisk=50),
    NodeReading("pve3", False),
]
RECORD_KEYS = {
    "vmid", "name", "node", "kind", "status", "template", "tags", "cpus", "cpu",
    "mem", "maxmem", "disk", "maxdisk", "netin", "netout", "uptime",
}  # fmt: skip


def guest(vmid: int, kind: str = "vm", status: str = "running", **usage: Any) -> GuestView:
    """A guest on pve1 with the given usage fields."""
    return GuestView(vmid, f"g-{vmid}", "pve1", kind, status, **usage)


def test_record_has_every_key_with_usage() -> None:
    full = guest(
        100, tags=("prod", "web"), cpus=2, cpu=0.123456, mem=512, maxmem=2048, disk=7, maxdisk=32,
        netin=1000, netout=2000, uptime=60, template=False,
    )  # fmt: skip
    assert guest_record(full) == {
        "vmid": 100, "name": "g-100", "node": "pve1", "kind": "vm", "status": "running", "template": False,
        "tags": ["prod", "web"], "cpus": 2, "cpu": 0.1235, "mem": 512, "maxmem": 2048, "disk": 7,
        "maxdisk": 32, "netin": 1000, "netout": 2000, "uptime": 60,
    }  # fmt: skip
    bare = guest_record(GuestView(7, "", "pve2", "lxc", "stopped"))
    assert set(bare) == RECORD_KEYS
    assert bare["tags"] == [] and bare["template"] is False and bare["netin"] == 0 and bare["cpu"] == 0.0


def test_sample_weights_cpu_by_node_cpus_and_skips_offline_nodes() -> None:
    guests = [guest(1, netin=10, netout=1), guest(2, "lxc", "stopped", netin=5, netout=2)]
    sample = history_sample(Observation("8.2", "c", NODES, guests), NOW)
    assert sample == {
        "t": "2026-11-22T08:00:00Z", "cpu": round((0.5 * 4 + 0.1 * 12) / 16, 4), "cpus": 16, "mem": 8,
        "maxmem": 32, "disk": 15, "maxdisk": 150, "netin": 15, "netout": 3, "running": 1,
    }  # fmt: skip
    empty = history_sample(Observation("8.2", None, [NodeReading("x", False)], []), NOW)
    assert empty["cpu"] == 0.0 and empty["cpus"] == 0 and empty["running"] == 0


def _sample(moment: datetime, running: int = 0) -> dict[str, Any]:
    return {"t": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "running": running}


def test_history_appends_and_carries_over_the_existing_head() -> None:
    first = next_history(None, _sample(NOW), 60)
    assert first == {"intervalSeconds": 60, "samples": [_sample(NOW)]}
    head = {"history.json": json.dumps(first), "records.json": "[]"}
    second = next_history(head, _sample(NOW + timedelta(seconds=60), 3), 60)
    assert second["samples"] == [_sample(NOW), _sample(NOW + timedelta(seconds=60), 3)]


def test_history_is_bounded_oldest_dropped_first() -> None:
    samples = [_sample(NOW + timedelta(minutes=n), n) for n in range(HISTORY_LIMIT)]
    head = {"history.json": json.dumps({"intervalSeconds": 60, "samples": samples})}
    after = next_history(head, _sample(NOW + timedelta(minutes=HISTORY_LIMIT), -1), 60)
    assert len(after["samples"]) == HISTORY_LIMIT == 1440
    assert after["samples"][0] == samples[1] and after["samples"][-1]["running"] == -1
    assert len(next_history(head, _sample(NOW + timedelta(days=2)), 60, limit=10)["samples"]) == 10


def test_history_pass_within_half_an_interval_replaces_the_last_sample() -> None:
    head = {"history.json": json.dumps(next_history(None, _sample(NOW, 1), 60))}
    soon = next_history(head, _sample(NOW + timedelta(seconds=5), 2), 60)
    assert soon["samples"] == [_sample(NOW + timedelta(seconds=5), 2)]
    later = next_history(head, _sample(NOW + timedelta(seconds=30), 2), 60)
    assert len(later["samples"]) == 2


def test_unreadable_history_starts_afresh() -> None:
    for text in ("not json", "[1,2]", '{"samples": "x"}', '{"samples": [1, {"t": "bad"}]}'):
        samples = next_history({"history.json": text}, _sample(NOW), 60)["samples"]
        assert samples[-1] == _sample(NOW) and all(isinstance(s, dict) for s in samples)


def test_configmaps_hold_every_guest_sorted_with_counts_manifest_and_history() -> None:
    guests = [guest(n, "lxc" if n % 4 == 0 else "vm") for n in range(300, 100, -1)]
    history = next_history(None, _sample(NOW), 60)
    maps = guest_configmaps(NODE, guests, history, NOW)
    (head,) = maps
    assert head["metadata"]["name"] == "lab-guests" and head["metadata"]["namespace"] == "infra"
    assert head["metadata"]["labels"] == {
        "daytwo.io/proxmoxnode": "lab",
        "app.kubernetes.io/part-of": "daytwo",
        "app.kubernetes.io/managed-by": "daytwo",
        "daytwo.io/inventory-chunk": "0",
    }
    assert head["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "ProxmoxNode",
            "name": "lab",
            "uid": "u-9",
            "controller": True,
            "blockOwnerDeletion": False,
        }
    ]
    records = json.loads(head["data"]["records.json"])
    assert [r["vmid"] for r in records] == list(range(101, 301)) and all(set(r) == RECORD_KEYS for r in records)
    manifest = json.loads(head["data"]["manifest.json"])
    assert manifest["format"] == "daytwo.io/inventory.v1" and manifest["provider"] == "proxmox"
    assert manifest["syncedAt"] == "2026-11-22T08:00:00Z"
    assert manifest["counts"] == {"vm": 150, "lxc": 50} and manifest["records"] == 200
    assert manifest["chunks"] == [
        {"name": "lab-guests", "sha256": hashlib.sha256(head["data"]["records.json"].encode()).hexdigest()}
    ]
    assert json.loads(head["data"]["history.json"]) == history
    empty = guest_configmaps(NODE, [], history, NOW)
    assert json.loads(empty[0]["data"]["manifest.json"])["counts"] == {"vm": 0, "lxc": 0}
    assert empty[0]["data"]["records.json"] == "[]"


def test_large_estate_is_chunked_under_the_object_limit_with_a_full_history() -> None:
    guests = [
        guest(n, tags=tuple(f"tag-{t}-{'x' * 40}" for t in range(8)), cpus=8, mem=2**34, maxmem=2**35, netin=2**40)
        for n in range(1000, 5000)
    ]
    sample = history_sample(Observation("8.2", "c", NODES, guests), NOW)
    samples = [
        dict(sample, t=f"2026-11-{22 + n // 1440}T{n // 60 % 24:02d}:{n % 60:02d}:00Z") for n in range(HISTORY_LIMIT)
    ]
    history = {"intervalSeconds": 60, "samples": samples}
    maps = guest_configmaps(NODE, guests, history, NOW)
    assert len(maps) > 1
    assert [m["metadata"]["name"] for m in maps] == [guests_configmap_name("lab", i) for i in range(len(maps))]
    assert (
        maps[1]["metadata"]["name"] == "lab-guests-1"
        and maps[1]["metadata"]["labels"]["daytwo.io/inventory-chunk"] == "1"
    )
    assert all("manifest.json" not in m["data"] and "history.json" not in m["data"] for m in maps[1:])
    assert all(len(m["data"]["records.json"].encode()) <= CHUNK_BYTES for m in maps)
    assert all(len(json.dumps(m).encode()) < 1024 * 1024 for m in maps)
    head_payload = sum(len(text.encode()) for text in maps[0]["data"].values())
    assert head_payload < CHUNK_BYTES + 10_000  # the history's bytes came off the head's records budget
    stored = [r for m in maps for r in json.loads(m["data"]["records.json"])]
    assert [r["vmid"] for r in stored] == list(range(1000, 5000))
    manifest = json.loads(maps[0]["data"]["manifest.json"])
    assert [c["name"] for c in manifest["chunks"]] == [m["metadata"]["name"] for m in maps]


def test_first_chunk_budget_and_shared_changes() -> None:
    items = [{"n": n} for n in range(10)]  # 7 bytes each
    chunks = chunk_records(items, budget=30, first_budget=10)
    assert [len(json.loads(c)) for c in chunks] == [1, 3, 3, 3]
    assert [r for c in chunks for r in json.loads(c)] == items
    history = next_history(None, _sample(NOW), 60)
    before = guest_configmaps(NODE, [guest(1)], history, NOW)
    existing = {m["metadata"]["name"]: m["data"] for m in before}
    later = next_history({"history.json": before[0]["data"]["history.json"]}, _sample(NOW + timedelta(minutes=1)), 60)
    create, replace, delete = configmap_changes(existing, guest_configmaps(NODE, [guest(1)], later, NOW))
    assert create == [] and [m["metadata"]["name"] for m in replace] == ["lab-guests"] and delete == []


def test_long_node_names_fit_the_limit() -> None:
    long = "p" * 253
    assert len(guests_configmap_name(long, 0)) <= 253 and len(guests_configmap_name(long, 7)) <= 253
    assert guests_configmap_name(long, 0) != guests_configmap_name("p" * 252 + "q", 0)
