"""ProxmoxNode decisions with plain data: what to submit, how to recover, what status to show."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.proxmoxnode import InFlightOperation, ProxmoxNodeSpec, ProxmoxNodeStatus
from daytwo.operator.reconcile.proxmoxnode import (
    INVENTORY_FIELDS,
    OPERATION_FIELDS,
    GuestView,
    NodeReading,
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
    with_upid,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TEN = timedelta(minutes=10)
GUESTS = [
    GuestView(100, "web", "pve1", "vm", "running", uptime=3600),
    GuestView(101, "db", "pve1", "vm", "stopped"),
    GuestView(102, "ct", "pve2", "lxc", "stopped"),
]


def status(**fields: Any) -> ProxmoxNodeStatus:
    """A ProxmoxNode status parsed from ``fields`` (camelCase), as the handler parses the object's."""
    return ProxmoxNodeStatus.model_validate(fields)


def in_flight(id_: str, operation: str, submitted: str = "2026-11-22T07:59:00Z", **fields: Any) -> InFlightOperation:
    """An in-flight operation of guest 100 on pve1."""
    return InFlightOperation.model_validate(
        {"id": id_, "vmid": 100, "node": "pve1", "kind": "vm", "operation": operation, "origin": "action",
         "submittedAt": submitted, **fields}
    )  # fmt: skip


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
    entries = operations_to_submit(spec, status(), GUESTS, NOW)
    assert [(e.id, e.operation, e.node) for e in entries] == [
        ("a1", "start", "pve1"),
        ("a2", "reboot", "pve1"),
        ("power-102-running", "start", "pve2"),
    ]
    assert entries[0].to_k8s() == {
        "id": "a1", "vmid": 101, "node": "pve1", "kind": "vm", "operation": "start", "force": False,
        "origin": "action", "submittedAt": "2026-11-22T08:00:00Z", "user": "bob",
    }, "the in-flight entry as the dict-based code wrote it"  # fmt: skip
    assert "user" not in entries[1].to_k8s()
    current = status(inFlight=[entries[0].to_k8s()], handledActions=["a2"])
    assert [e.id for e in operations_to_submit(spec, current, GUESTS, NOW)] == ["power-102-running"]


def test_one_operation_per_guest_at_a_time() -> None:
    spec = node_spec(
        actions=[{"id": "a1", "vmid": 101, "operation": "start"}, {"id": "a2", "vmid": 101, "operation": "stop"}],
        guestPower=[{"vmid": 101, "state": "stopped"}],
    )
    assert [e.id for e in operations_to_submit(spec, status(), GUESTS, NOW)] == ["a1"]


def test_stopped_desired_state_uses_graceful_shutdown_with_force() -> None:
    [entry] = operations_to_submit(node_spec(guestPower=[{"vmid": 100, "state": "stopped"}]), status(), GUESTS, NOW)
    assert entry.operation == "shutdown" and entry.force is True and entry.origin == "desired"


def test_unknown_guest_is_returned_without_node() -> None:
    spec = node_spec(actions=[{"id": "x", "vmid": 999, "operation": "start"}])
    [entry] = operations_to_submit(spec, status(), GUESTS, NOW)
    assert entry.node == ""


def test_recover_by_power_state_and_uptime() -> None:
    start = in_flight("s", "start")
    assert recover(start, GUESTS[0], NOW) is True
    assert recover(start, GUESTS[1], NOW) is False
    assert recover(in_flight("d", "shutdown"), GUESTS[1], NOW) is True
    reboot = in_flight("r", "reboot")
    rebooted = GuestView(100, "web", "pve1", "vm", "running", uptime=30)
    assert recover(reboot, rebooted, NOW) is True
    assert recover(reboot, GUESTS[0], NOW) is False
    assert recover(start, None, NOW) is False


def test_finish_moves_to_history_and_handled() -> None:
    entry = in_flight("a1", "start", "2026-11-22T07:59:50Z", upid="UPID:pve1:1", vmid=101)
    record = finished_record(entry, Outcome("success"), NOW)
    assert record.to_k8s() == {
        "id": "a1", "time": "2026-11-22T07:59:50Z", "node": "pve1", "vmid": 101, "kind": "vm",
        "operation": "start", "status": "success", "durationMs": 10000, "upid": "UPID:pve1:1",
    }, "the history record as the dict-based code wrote it (no error, no user)"  # fmt: skip
    old = {"id": "old", "time": "2026-11-22T07:00:00Z", "vmid": 100, "operation": "stop", "status": "success"}
    before = status(inFlight=[entry.to_k8s()], history=[old] * 50, handledActions=["gone"])
    after = after_finish(before, entry, record, {"a1"}).patch_of(*OPERATION_FIELDS)
    assert after["inFlight"] == [] and after["history"][0] == record.to_k8s() and len(after["history"]) == 50
    assert after["history"][1] == old
    assert after["handledActions"] == ["a1"], "ids no longer in spec.actions are pruned"


def test_upid_is_recorded_on_its_entry_only() -> None:
    before = status(inFlight=[in_flight("a", "start").to_k8s(), in_flight("b", "stop", vmid=101).to_k8s()])
    after = with_upid(before, "b", "UPID:pve1:2").patch_of("in_flight")["inFlight"]
    assert [entry.get("upid") for entry in after] == [None, "UPID:pve1:2"]
    assert before.in_flight is not None and before.in_flight[1].upid is None, "the status read is not changed"


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
    observation = Observation("8.2.4", "lab", [NodeReading("pve1", True)], guests)
    fields = observation_status(observation, NOW, status()).patch_of(*INVENTORY_FIELDS)
    assert fields["guestCounts"] == {"vms": 90, "containers": 30, "running": 60}
    assert len(fields["guests"]) == 50 and fields["guests"][0] == {
        "vmid": 100, "name": "g0", "node": "pve1", "kind": "lxc", "status": "stopped"
    }  # fmt: skip
    assert fields["lastInventoryTime"] == "2026-11-22T08:00:00Z"
    assert fields["nodes"] == [
        {"name": "pve1", "online": True, "cpu": 0.0, "maxcpu": 0, "mem": 0, "maxmem": 0, "disk": 0, "maxdisk": 0}
    ]


def test_inventory_round_trip_writes_nothing_at_rest() -> None:
    """Parse the written status, observe the same estate later: the same dict, lastInventoryTime included,
    until the heartbeat is due (the operator's DAYTWO_STATUS_HEARTBEAT_SECONDS, here 10 minutes)."""
    guests = [GuestView(4711, "", "pve1", "vm", "running"), GuestView(4712, "db-primary", "pve2", "lxc", "stopped")]
    gib = 1024**3
    reading = NodeReading("pve1", True, 0.0213, 4, 2 * gib, 8 * gib, 4 * gib, 64 * gib, uptime=3600)
    first = observation_status(Observation("8.2.4-1", None, [reading], guests), NOW, status())
    written = first.to_k8s()
    assert written == {
        "conditions": [],
        "version": "8.2.4-1",
        "nodes": [
            {"name": "pve1", "online": True, "cpu": 0.0213, "maxcpu": 4, "mem": 2 * gib, "maxmem": 8 * gib,
             "disk": 4 * gib, "maxdisk": 64 * gib, "bootedAt": "2026-11-22T07:00:00Z"}
        ],
        "guestCounts": {"vms": 1, "containers": 1, "running": 1},
        "guests": [
            {"vmid": 4711, "name": "", "node": "pve1", "kind": "vm", "status": "running"},
            {"vmid": 4712, "name": "db-primary", "node": "pve2", "kind": "lxc", "status": "stopped"},
        ],
        "lastInventoryTime": "2026-11-22T08:00:00Z",
    }  # fmt: skip
    for minutes in (1, 5, 9):
        later = NOW + timedelta(minutes=minutes, seconds=0.4)
        grown = NodeReading("pve1", True, 0.0213, 4, 2 * gib, 8 * gib, 4 * gib, 64 * gib, uptime=3600 + minutes * 60)
        again = observation_status(Observation("8.2.4-1", None, [grown], guests), later, status(**written), TEN)
        assert again.to_k8s() == written, f"unchanged estate after {minutes} minutes"
    ten = replace(reading, uptime=3600 + 600)
    at_ten = Observation("8.2.4-1", None, [ten], guests)
    heartbeat = observation_status(at_ten, NOW + timedelta(minutes=10), status(**written), TEN)
    assert heartbeat.to_k8s() == {**written, "lastInventoryTime": "2026-11-22T08:10:00Z"}
    assert observation_status(at_ten, NOW + timedelta(minutes=10), status(**written)).to_k8s() == written, (
        "the default heartbeat is an hour"
    )
    stopped = [guests[0], GuestView(4712, "db-primary", "pve2", "lxc", "running")]
    changed = observation_status(
        Observation("8.2.4-1", None, [reading], stopped), NOW + timedelta(minutes=2), status(**written)
    )
    assert changed.last_inventory_time == NOW + timedelta(minutes=2)
    assert changed.patch_of("guest_counts")["guestCounts"]["running"] == 2


def test_node_figures_stay_put_until_they_really_move() -> None:
    """Usage within 5% of capacity and a boot time within jitter keep the old values: no status churn."""
    gib = 1024**3
    reading = NodeReading("pve1", True, 0.10, 8, 4 * gib, 32 * gib, 10 * gib, 100 * gib, uptime=86400)
    first = stable_nodes([], [reading], NOW)
    assert first[0].to_k8s()["bootedAt"] == "2026-11-21T08:00:00Z" and "uptime" not in first[0].to_k8s()
    later = NOW + timedelta(seconds=61)
    jittered = replace(reading, cpu=0.13, mem=5 * gib, disk=11 * gib, uptime=86400 + 62)
    assert stable_nodes(first, [jittered], later) == first
    busy = replace(jittered, cpu=0.60, mem=20 * gib)
    moved = stable_nodes(first, [busy], later)[0]
    assert (moved.cpu, moved.mem, moved.disk) == (0.60, 20 * gib, 10 * gib)
    rebooted = stable_nodes(first, [replace(reading, uptime=30)], later)[0]
    assert rebooted.to_k8s()["bootedAt"] == "2026-11-22T08:00:31Z"
    offline = stable_nodes(first, [NodeReading("pve1", False)], later)[0]
    assert offline.to_k8s() == {
        "name": "pve1", "online": False, "cpu": 0.0, "maxcpu": 0, "mem": 0, "maxmem": 0, "disk": 0, "maxdisk": 0
    }  # fmt: skip
