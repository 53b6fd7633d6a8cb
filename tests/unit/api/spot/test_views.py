"""spot views with plain data: the estate from inventory ConfigMaps, GPU views, migrations and the command log."""

from __future__ import annotations

from typing import Any

import pytest
from daytwo.api.views.spot import gpu
from daytwo.api.views.spot.estate import Estate, estate_of, inventory_records
from daytwo.api.views.spot.migrations import (
    CLEARED_ANNOTATION,
    command_log_view,
    log_marks,
    migration_manifest,
    migration_view,
    preview_outcome,
)
from daytwo.operator.settings import OperatorSettings

from .estate_data import SYNCED, configmaps, log_entry, migration, records

RULES = OperatorSettings().naming_rules()


@pytest.fixture(scope="module")
def estate() -> Estate:
    by_name = {cm["metadata"]["name"]: cm for cm in configmaps()}
    found, synced = inventory_records(by_name["openstack-prod-inventory"], by_name.get)
    return estate_of(found, synced)


def test_inventory_records_follow_the_manifest_across_chunks() -> None:
    maps = configmaps()
    assert len(maps) >= 2
    by_name = {cm["metadata"]["name"]: cm for cm in maps}
    found, synced = inventory_records(by_name["openstack-prod-inventory"], by_name.get)
    assert found == records() and synced == SYNCED.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_missing_chunk_or_head_leaves_what_is_there() -> None:
    head = configmaps()[0]
    found, _ = inventory_records(head, lambda name: None)
    assert 0 < len(found) < len(records())
    assert inventory_records(None, lambda name: None) == ([], None)


def test_estate_joins_flavor_gpus_and_resolves_node_names(estate: Estate) -> None:
    assert estate.has_compute and len(estate.aggregates) == 7
    shutoff = next(s for s in estate.servers if s.id == "d")
    assert (shutoff.gpus, shutoff.status) == (4, "SHUTOFF")  # gpus from the flavor record
    assert estate.resolve_host("l40-1.cloud.local") == "l40-1"
    assert estate.knows_host("l40-3") and not estate.knows_host("nope")
    assert not estate_of([r for r in records() if r["type"] == "vm"]).has_compute


def test_gpu_types_lists_every_pool(estate: Estate) -> None:
    view = gpu.gpu_types_view(estate, RULES)
    assert [t["name"] for t in view] == ["H100", "L40"]
    assert view[1]["aggregates"] == {
        "ondemand": ["L40-n3", "L40-n3-NVLink"],
        "spot": ["L40-n3-spot"],
        "runpod": ["L40-n3-runpod"],
        "contracts": ["Contract-L40-Acme"],
    }


def test_aggregates_view_counts_each_host_once(estate: Estate) -> None:
    view = gpu.aggregates_view(estate, "L40", RULES)
    assert view is not None
    ondemand = view["ondemand"]
    assert ondemand["name"] == "L40-n3" and [h["hostname"] for h in ondemand["hosts"]] == ["l40-1", "l40-2", "l40-3"]
    assert ondemand["gpu_summary"] == {
        "gpu_used": 12,
        "gpu_capacity": 24,
        "gpu_usage_ratio": "12/24",
        "gpu_usage_percentage": 50.0,
    }
    assert [v["name"] for v in ondemand["variants"]] == ["L40-n3", "L40-n3-NVLink"]
    first = ondemand["hosts"][0]
    assert first["vm_count"] == 2 and first["has_vms"] and first["tenant"] is None and first["status"] == "active"
    assert view["runpod"]["hosts"] == [] and view["runpod"]["gpu_summary"]["gpu_usage_percentage"] == 0.0
    # l40-1..5: 4 + 8 + 0 + 4 + 8 used of 5 x 8
    assert view["gpu_overview"] == {"gpu_usage_ratio": "24/40", "gpu_usage_percentage": 60.0}


def test_aggregates_of_a_type_without_some_pools(estate: Estate) -> None:
    view = gpu.aggregates_view(estate, "H100", RULES)
    assert view is not None and view["spot"] is None and view["runpod"] is None
    host = view["ondemand"]["hosts"][0]
    assert host["status"] == "disabled" and host["gpu_capacity"] == 8  # default: the largest H100 flavor
    assert gpu.aggregates_view(estate, "B200", RULES) is None
    assert gpu.pool_view(estate, "H100", "spot", RULES) is None
    assert gpu.pool_view(estate, "L40", "spot", RULES)["name"] == "L40-n3-spot"  # type: ignore[index]


def test_contract_aggregates_carry_tenant_info(estate: Estate) -> None:
    (contract,) = gpu.contract_aggregates_view(estate, "L40", RULES)
    assert contract["aggregate"] == "Contract-L40-Acme"
    assert contract["tenant_info"] == {"primary_tenant": "acme", "owner_group": "Investors"}
    assert contract["hosts"][0]["status"] == "down" and contract["gpu_summary"]["gpu_usage_ratio"] == "8/8"
    assert gpu.contract_aggregates_view(estate, "H100", RULES) == []


def test_host_vms(estate: Estate) -> None:
    view = gpu.host_vms_view(estate, "l40-1.cloud.local")
    assert view is not None and view["hostname"] == "l40-1" and view["total_vms"] == 2
    assert view["vms"][0] == {
        "id": "a",
        "name": "vm-a",
        "status": "ACTIVE",
        "flavor": "n3-L40x4",
        "tenant": "p1",
        "created": "2026-11-01T10:00:00Z",
        "gpus": 4,
    }
    assert gpu.host_vms_view(estate, "l40-3") == {"hostname": "l40-3", "vms": [], "total_vms": 0}
    assert gpu.host_vms_view(estate, "unknown-host") is None


@pytest.mark.parametrize(
    ("host", "gpu_type", "target", "reason"),
    [
        ("l40-3", "L40", "L40-n3-spot", "no running VMs, suitable for spot"),
        ("l40-4", None, "L40-n3", "already in spot"),
        ("l40-1", None, None, "already in ondemand"),
        ("l40-5", None, None, "contract"),
        ("h100-1", None, None, "no H100 spot aggregate exists"),
    ],
)
def test_target(estate: Estate, host: str, gpu_type: str | None, target: str | None, reason: str) -> None:
    view = gpu.target_view(estate, host, gpu_type, RULES)
    assert view is not None and view["recommended_aggregate"] == target and reason in view["reasoning"]


def test_target_of_a_host_in_no_gpu_aggregate() -> None:
    lone = estate_of([{"type": "hypervisor", "name": "cpu-1", "metadata": {"host": "cpu-1"}, "status": "enabled"}])
    view = gpu.target_view(lone, "cpu-1", None, RULES)
    assert view is not None and view["recommended_aggregate"] is None and "pass gpu_type" in view["reasoning"]
    assert gpu.target_view(lone, "ghost", "L40", RULES) is None


def test_migration_manifest() -> None:
    body = migration_manifest("GPU_Host.001", "L40-n3", "L40-n3-spot", "cred", dry_run=True, user="bob")
    assert body["metadata"]["generateName"] == "spot-preview-gpu-host-001-"
    assert body["spec"] == {
        "credentialsRef": {"kind": "CloudCredential", "name": "cred"},
        "host": "GPU_Host.001",
        "sourceAggregate": "L40-n3",
        "targetAggregate": "L40-n3-spot",
        "dryRun": True,
        "requestedBy": "bob",
    }
    forced = migration_manifest("h", "a", "b", "cred", dry_run=False, user="bob", force=True)
    assert forced["spec"]["force"] is True and forced["metadata"]["labels"]["daytwo.io/spot-purpose"] == "execute"


def _planned(ok: bool = True) -> dict[str, Any]:
    checks = [
        {"name": "SourceExists", "ok": True, "message": ""},
        {"name": "TargetExists", "ok": True},
        {"name": "HostInSource", "ok": ok, "message": "" if ok else "not a member"},
    ]
    return {
        "plan": {"commands": ["openstack aggregate add host L40-n3 l40-4"], "checks": checks, "runningVms": 0},
        "conditions": [{"type": "Ready", "status": "True", "reason": "PreviewReady", "message": "ok"}],
    }


def test_preview_outcomes() -> None:
    state, data = preview_outcome(migration("p1", dry_run=True, status=_planned(ok=False)))
    assert state == "ready" and data["commands"] == ["openstack aggregate add host L40-n3 l40-4"]
    assert data["validation"] == {"source_exists": True, "target_exists": True, "host_in_source": False}
    assert data["ready"]["reason"] == "PreviewReady" and data["migration"] == "p1"
    assert preview_outcome(migration("p2", dry_run=True))[0] == "pending"
    stalled = {
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "CredentialsNotFound", "message": "no such credential"},
            {"type": "Stalled", "status": "True", "reason": "CredentialsNotFound", "message": "no such credential"},
        ]
    }
    state, data = preview_outcome(migration("p3", dry_run=True, status=stalled))
    assert state == "failed" and data["ready"]["message"] == "no such credential"


def test_migration_view_sums_the_executed_commands() -> None:
    log = [
        log_entry("2026-11-30T12:00:01Z", "openstack aggregate add host L40-n3 l40-4", duration=1200),
        log_entry("2026-11-30T12:00:02Z", "openstack aggregate remove host L40-n3-spot l40-4", duration=1100),
    ]
    status = {"phase": "Succeeded", "steps": [{"name": "AddHost", "state": "Succeeded"}]}
    view = migration_view(migration("m1", log=log, status=status))
    assert view["phase"] == "Succeeded" and view["execution_time"] == "2.3s" and len(view["commands_executed"]) == 2
    assert view["steps"] == [{"name": "AddHost", "state": "Succeeded", "message": None}]
    assert migration_view(migration("m2"))["phase"] == "Pending"


def test_command_log_and_clearing_it() -> None:
    older = migration("a", log=[log_entry("2026-11-30T10:00:00Z", "add a")])
    newer = migration(
        "b",
        log=[
            log_entry("2026-11-30T11:00:00.500000Z", "add b"),
            log_entry("2026-11-30T11:00:02Z", "rm b", "error", None),
        ],
    )
    rows = command_log_view([newer, older])
    assert [r["command"] for r in rows] == ["add a", "add b", "rm b"]
    assert rows[0] == {
        "timestamp": "2026-11-30T10:00:00Z",
        "command": "add a",
        "status": "success",
        "execution_time": "1.2s",
        "user": "alice",
        "output": None,
        "migration": "a",
    }
    marks = log_marks([older, newer])
    assert marks == {"a": "2026-11-30T10:00:00Z", "b": "2026-11-30T11:00:02Z"}
    cleared = [migration(m["metadata"]["name"], log=m["status"]["commandLog"]) for m in (older, newer)]
    for obj in cleared:
        obj["metadata"]["annotations"] = {CLEARED_ANNOTATION: marks[obj["metadata"]["name"]]}
    assert command_log_view(cleared) == [] and log_marks(cleared) == {}
    cleared[1]["status"]["commandLog"].append(log_entry("2026-11-30T11:05:00Z", "rollback b", "rolled_back"))
    assert [r["command"] for r in command_log_view(cleared)] == ["rollback b"]  # later entries show again
