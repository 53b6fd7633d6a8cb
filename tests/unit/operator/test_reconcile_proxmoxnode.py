"""ProxmoxNode decisions with plain data: what to submit, how to recover, what status to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.proxmoxnode import ProxmoxNodeSpec
from daytwo.operator.reconcile.proxmoxnode import (
    GuestView,
    Observation,
    Outcome,
    after_finish,
    connection_conditions,
    finished_record,
    observation_status,
    operations_to_submit,
    recover,
    stable_nodes,
    summary_conditions,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
GUESTS = [
    GuestView(100, "web", "pve1", "vm", "running", uptime=3600),
    GuestView(101, "db", "pve1", "vm", "stopped"),
    GuestView(102, "ct", "pve2", "lxc", "stopped"),
]


def node_spec(**fields: Any) -> ProxmoxNodeSpec:
    """A ProxmoxNode spec with ``fields`` (camelCase) besides its endpoint and token."""
    return ProxmoxNodeSpec.model_validate({"host": "pve.example", "tokenSecretRef": {"name": "pve-token"}, **fields})


def test_actions_once_then_desired_state() -> None:
    spec = node_spec(
        actions=[
            {"id": "a1", "vmid": 101, "operation": "start", "requestedBy": "bob"},
            {"id": "a2", "vmid": 100, "operation": "reboot"},
        ],
        guestPower=[{"vmid": 102, "state": "running"}, {"vmid": 100, "state": "running"}],
    )
    entries = operations_to_submit(spec, {}, GUESTS, NOW)
    assert [(e["id"], e["operation"], e["node"]) for e in entries] == [
        ("a1", "start", "pve1"),
        ("a2", "reboot", "pve1"),
        ("power-102-running", "start", "pve2"),
    ]
    assert entries[0]["user"] == "bob" and entries[0]["submittedAt"] == "2026-11-22T08:00:00Z"
    status = {"inFlight": entries[:1], "handledActions": ["a2"]}
    assert [e["id"] for e in operations_to_submit(spec, status, GUESTS, NOW)] == ["power-102-running"]


def test_one_operation_per_guest_at_a_time() -> None:
    spec = node_spec(
        actions=[{"id": "a1", "vmid": 101, "operation": "start"}, {"id": "a2", "vmid": 101, "operation": "stop"}],
        guestPower=[{"vmid": 101, "state": "stopped"}],
    )
    assert [e["id"] for e in operations_to_submit(spec, {}, GUESTS, NOW)] == ["a1"]


def test_stopped_desired_state_uses_graceful_shutdown_with_force() -> None:
    [entry] = operations_to_submit(node_spec(guestPower=[{"vmid": 100, "state": "stopped"}]), {}, GUESTS, NOW)
    assert entry["operation"] == "shutdown" and entry["force"] is True and entry["origin"] == "desired"


def test_unknown_guest_is_returned_without_node() -> None:
    [entry] = operations_to_submit(node_spec(actions=[{"id": "x", "vmid": 999, "operation": "start"}]), {}, GUESTS, NOW)
    assert entry["node"] == ""


def test_recover_by_power_state_and_uptime() -> None:
    start = {"operation": "start", "submittedAt": "2026-11-22T07:59:00Z"}
    assert recover(start, GUESTS[0], NOW) is True
    assert recover(start, GUESTS[1], NOW) is False
    assert recover({"operation": "shutdown", "submittedAt": "x"}, GUESTS[1], NOW) is True
    reboot = {"operation": "reboot", "submittedAt": "2026-11-22T07:59:00Z"}
    rebooted = GuestView(100, "web", "pve1", "vm", "running", uptime=30)
    assert recover(reboot, rebooted, NOW) is True
    assert recover(reboot, GUESTS[0], NOW) is False
    assert recover(start, None, NOW) is False


def test_finish_moves_to_history_and_handled() -> None:
    entry = {
        "id": "a1",
        "vmid": 101,
        "node": "pve1",
        "kind": "vm",
        "operation": "start",
        "origin": "action",
        "submittedAt": "2026-11-22T07:59:50Z",
        "upid": "UPID:pve1:1",
    }
    record = finished_record(entry, Outcome("success"), NOW)
    assert record["durationMs"] == 10000 and record["status"] == "success" and "error" not in record
    status = {"inFlight": [entry], "history": [{"id": "old"}] * 50, "handledActions": ["gone"]}
    after = after_finish(status, entry, record, {"a1"})
    assert after["inFlight"] == [] and after["history"][0] == record and len(after["history"]) == 50
    assert after["handledActions"] == ["a1"], "ids no longer in spec.actions are pruned"


def test_connection_reasons() -> None:
    assert connection_conditions("Timeout", "m", False)[0].reason == "Unreachable"
    assert connection_conditions("AuthFailed", "m", False)[0].reason == "AuthenticationFailed"
    assert connection_conditions("KeyMissing", "m", False)[0].reason == "CredentialsNotFound"
    insecure = connection_conditions(None, "ok", True)
    assert insecure[0].status and insecure[1].reason == "InsecureSkipVerify" and not insecure[1].status


def test_summary_stalls_only_on_what_a_person_must_fix() -> None:
    inventory_ok = connection_conditions(None, "ok", False)[0]
    auth = connection_conditions("AuthFailed", "bad token", False)[0]
    down = connection_conditions("Unavailable", "refused", False)[0]
    ready, reconciling, stalled = summary_conditions(auth, inventory_ok, 0)
    assert not ready.status and ready.reason == "AuthenticationFailed" and stalled.status
    ready, reconciling, stalled = summary_conditions(down, inventory_ok, 2)
    assert not stalled.status and reconciling.status


def test_observation_status_is_bounded_and_counted() -> None:
    guests = [
        GuestView(100 + i, f"g{i}", "pve1", "vm" if i % 4 else "lxc", "running" if i % 2 else "stopped")
        for i in range(120)
    ]
    status = observation_status(Observation("8.2.4", "lab", [{"name": "pve1", "online": True}], guests), NOW, [])
    assert status["guestCounts"] == {"vms": 90, "containers": 30, "running": 60}
    assert len(status["guests"]) == 50 and status["guests"][0]["vmid"] == 100
    assert status["lastInventoryTime"] == "2026-11-22T08:00:00Z"


def test_node_figures_stay_put_until_they_really_move() -> None:
    """Usage within 5% of capacity and a boot time within jitter keep the old values: no status churn."""
    gib = 1024**3
    reading = {
        "name": "pve1",
        "online": True,
        "cpu": 0.10,
        "maxcpu": 8,
        "mem": 4 * gib,
        "maxmem": 32 * gib,
        "disk": 10 * gib,
        "maxdisk": 100 * gib,
        "uptime": 86400,
    }
    first = stable_nodes([], [reading], NOW)
    assert first[0]["bootedAt"] == "2026-11-21T08:00:00Z" and "uptime" not in first[0]
    later = NOW + timedelta(seconds=61)
    jittered = dict(reading, cpu=0.13, mem=5 * gib, disk=11 * gib, uptime=86400 + 62)
    assert stable_nodes(first, [jittered], later) == first
    busy = dict(jittered, cpu=0.60, mem=20 * gib)
    moved = stable_nodes(first, [busy], later)[0]
    assert (moved["cpu"], moved["mem"], moved["disk"]) == (0.60, 20 * gib, 10 * gib)
    rebooted = stable_nodes(first, [dict(reading, uptime=30)], later)[0]
    assert rebooted["bootedAt"] == "2026-11-22T08:00:31Z"
    offline = stable_nodes(first, [{"name": "pve1", "online": False}], later)[0]
    assert offline == {"name": "pve1", "online": False}
