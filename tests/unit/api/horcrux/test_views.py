"""horcrux views with plain dicts: VMs, monitoring, cluster nodes, snapshots, backups, request builders."""

from __future__ import annotations

from datetime import UTC, datetime

from daytwo.api.views.horcrux import requests as build
from daytwo.api.views.horcrux import snapshots, vms
from daytwo.api.views.pmi.guests import node_guests
from daytwo.api.views.snapshotpolicy import parse_policies, parse_policy
from daytwo.operator.shared.snapshots import guest_snapshot_name, policy_spec, policy_view

from ..pmi.data import proxmox_node, record, run, snapshot_policy

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_vms_from_every_proxmoxnode_first_wins_a_duplicate_vmid() -> None:
    other = proxmox_node(
        "pve-b",
        guests=[
            {"vmid": 100, "name": "dup", "node": "b1", "kind": "vm", "status": "stopped"},
            {"vmid": 500, "name": "far", "node": "b1", "kind": "lxc", "status": "running"},
        ],
    )
    found = vms.guests([node_guests(proxmox_node(), ()), node_guests(other, ())])
    assert [(g.vmid, g.cr) for g in found] == [(100, "pve-lab"), (101, "pve-lab"), (200, "pve-lab"), (500, "pve-b")]
    view = vms.vm_view(found[3])
    assert view["id"] == "500" and view["hypervisor"] == "lxc" and view["memory"] is None and view["disks"] == []
    assert view["tags"] is None and vms.vm_stats(found[0])["cpu_usage"] is None


def test_node_stats_cluster_nodes_and_prometheus_text() -> None:
    inventories = [node_guests(proxmox_node(), ())]
    stats = vms.node_stats([proxmox_node()], inventories, NOW)
    assert stats["hostname"] == "pve1" and stats["cpu_cores"] == 8 and stats["cpu_usage"] == 25.0
    assert stats["memory_usage"] == 25.0 and stats["uptime_seconds"] == 86400 and stats["network_rx_bytes"] is None
    nodes = vms.cluster_nodes([proxmox_node()], inventories)
    assert [(n["name"], n["status"], n["vms_running"]) for n in nodes] == [
        ("pve1", "online", 2),
        ("pve2", "offline", 0),
    ]
    obj = proxmox_node(history=[record("a", 100, "start", "success", "2026-11-30T10:00:00Z")])
    text = vms.prometheus_text([obj], inventories)
    assert 'horcrux_vm_running{vm_id="100",name="web",node="pve1"} 1' in text
    assert 'horcrux_node_online{node="pve2",proxmox_node="pve-lab"} 0' in text
    assert 'horcrux_operations_total{proxmox_node="pve-lab",operation="start",status="success"} 1' in text
    assert text.endswith("\n")


def _ondemand() -> dict[str, object]:
    body = build.ondemand_snapshot_body("pve-lab", 100, "before-upgrade", "pre", True)
    policy = snapshot_policy(
        str(body["metadata"]["name"]),
        [100],
        history=[run("o1", "Succeeded", "2026-01-01T00:00:00Z", "2026-11-30T05:00:00Z")],
        labels=body["metadata"]["labels"],
        annotations=body["metadata"]["annotations"],
    )
    policy["spec"] = body["spec"]
    return policy


def test_snapshots_of_a_vm_from_scheduled_runs_and_on_demand_policies() -> None:
    nightly = snapshot_policy(
        "nightly",
        nodes=["pve1"],
        keep_last=2,
        history=[
            run("n3", "Succeeded", "2026-11-30T02:00:00Z", "2026-11-30T02:01:00Z"),
            run(
                "n2",
                "PartiallyFailed",
                "2026-11-29T02:00:00Z",
                "2026-11-29T02:01:00Z",
                failures=[{"target": "pve1/100", "reason": "Conflict"}],
            ),
            run("n1", "Succeeded", "2026-11-28T02:00:00Z", "2026-11-28T02:01:00Z"),
            run("n0", "Succeeded", "2026-11-27T02:00:00Z", "2026-11-27T02:01:00Z"),
        ],
    )
    elsewhere = snapshot_policy(
        "other-node", [100], cr="pve-b", history=[run("x", "Succeeded", "2026-11-30T02:00:00Z")]
    )
    rows = snapshots.snapshots(parse_policies([nightly, _ondemand(), elsewhere]), "pve-lab", 100, "pve1")
    assert [r["id"] for r in rows] == ["n1", "n3", rows[2]["id"]]  # n2 failed for this VM; n0 is past keepLast
    assert rows[2]["name"] == "before-upgrade" and rows[2]["description"] == "pre" and rows[2]["include_memory"] is True
    assert [r["parent_snapshot"] for r in rows] == [None, "n1", "n3"]
    view = policy_view("daytwo", "nightly", policy_spec(nightly))
    assert rows[1]["snapshot_name"] == guest_snapshot_name(view, datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    tree = snapshots.snapshot_tree("100", rows)
    assert (
        tree["snapshots"][0]["id"] == "n1" and tree["snapshots"][0]["children"][0]["children"][0]["id"] == rows[2]["id"]
    )


def test_backups_and_backup_jobs() -> None:
    nightly = snapshot_policy(
        "nightly",
        [100, 101],
        history=[
            run(
                "n2",
                "PartiallyFailed",
                "2026-11-30T02:00:00Z",
                "2026-11-30T02:01:00Z",
                failures=[{"target": "pve1/101", "reason": "Conflict"}],
            )
        ],
        current=run("n3", "Running", "2026-12-01T02:00:00Z"),
    )
    rows = snapshots.backups(parse_policies([nightly]), {"100": "web"})
    assert [(r["id"], r["status"]) for r in rows] == [
        ("n3.100", "running"),
        ("n3.101", "running"),
        ("n2.100", "completed"),
        ("n2.101", "failed"),
    ]
    assert rows[2]["vm_name"] == "web" and rows[2]["path"] and rows[2]["job_id"] == "nightly"
    job = snapshots.backup_job(parse_policy(nightly), ["pve1/102"])
    assert job["vm_ids"] == ["100", "101", "102"] and job["schedule"] == "0 2 * * *" and job["enabled"] is True
    assert job["keep_last"] == 3 and job["retention_days"] is None and job["next_run"] == "2026-12-01T02:00:00Z"


def test_request_builders() -> None:
    assert build.dns_name("hx", "100", "before-upgrade") == "hx-100-before-upgrade"
    assert build.dns_name("hx", "100", "Before_Upgrade").startswith("hx-100-before-upgrade-")
    assert len(build.dns_name("x" * 100)) <= 63
    restore = build.restore_job_body("r", "pve-lab", "pve1", 100, "hx-abcdef-202611300200")
    assert restore["spec"]["source"] == {"proxmox": {"node": "pve1", "vmid": 100, "snapshot": "hx-abcdef-202611300200"}}
    assert restore["spec"]["execute"] is True and restore["spec"]["mode"] == "NEW"
    job = build.backup_job_body("Daily VM Backups", "pve-lab", "0 2 * * *", [101, 100, 100], 30, None, False)
    assert job["metadata"]["name"].startswith("daily-vm-backups")
    assert job["spec"]["targets"] == {"proxmox": {"vmids": [100, 101]}}
    assert job["spec"]["retention"] == {"maxAge": "30d"} and job["spec"]["suspend"] is True
