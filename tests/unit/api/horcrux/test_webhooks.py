"""Webhook signing, retries with backoff, recorded deliveries and event computation, against a local receiver."""

from __future__ import annotations

import json
import time
from typing import Any

from daytwo.api.store import ObjectStore
from daytwo.api.webhooks import SIGNATURE_HEADER, Deliverer, Target, WebhookService, changes, sign, verify
from daytwo.api.webhooks.delivery import backoff_delays, event_body
from daytwo.api.webhooks.events import phase_event
from daytwo.api.webhooks.service import definition, definition_configmap, resource_name

from ..pmi.data import proxmox_node, record, run, snapshot_policy
from .receiver import Receiver


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = event_body("vm.started", {"vm_id": "100"}, "2026-12-01T00:00:00Z")
    assert json.loads(body) == {
        "event_type": "vm.started",
        "timestamp": "2026-12-01T00:00:00Z",
        "source": "daytwo",
        "data": {"vm_id": "100"},
    }
    signature = sign("k3y", body)
    assert signature.startswith("sha256=") and len(signature) == 71
    assert (
        verify("k3y", body, signature)
        and not verify("other", body, signature)
        and not verify("k3y", body + b" ", signature)
    )


def test_delivery_is_signed_and_recorded() -> None:
    with Receiver([200]) as receiver:
        deliverer = Deliverer()
        delivery = deliverer.deliver(Target("webhook-1", receiver.url, "k3y"), "vm.stopped", {"vm_id": "101"})
    got = receiver.received[0]
    assert verify("k3y", got.body, got.headers[SIGNATURE_HEADER.lower()])
    assert got.headers["x-horcrux-event"] == "vm.stopped" and got.headers["x-horcrux-delivery"] == delivery.id
    assert (delivery.status, delivery.response_code, delivery.retries) == ("success", 200, 0)
    assert deliverer.deliveries("webhook-1")[0]["id"] == delivery.id


def test_failures_are_retried_with_exponential_backoff() -> None:
    waits: list[float] = []
    with Receiver([500, 503, 200]) as receiver:
        deliverer = Deliverer(max_retries=3, base_delay=0.5, sleep=waits.append)
        delivery = deliverer.deliver(Target("w", receiver.url, None), "backup.completed", {})
    assert waits == [0.5, 1.0] and len(receiver.received) == 3
    assert (delivery.status, delivery.retries, delivery.response_code) == ("success", 2, 200)
    assert SIGNATURE_HEADER.lower() not in receiver.received[0].headers  # no secret: unsigned
    assert backoff_delays(3, 1.0) == [1.0, 2.0, 4.0]  # horcrux's schedule


def test_giving_up_is_recorded_as_failed() -> None:
    waits: list[float] = []
    with Receiver([500]) as receiver:
        delivery = Deliverer(max_retries=2, base_delay=0.01, sleep=waits.append).deliver(
            Target("w", receiver.url, None), "x", {}
        )
    assert (
        delivery.status == "failed"
        and delivery.retries == 2
        and delivery.error == "delivery failed: HTTP 5xx"
        and len(receiver.received) == 3
    )
    unreachable = Deliverer(max_retries=1, base_delay=0.0, timeout=1.0).deliver(
        Target("w", "http://127.0.0.1:9/", None), "x", {}
    )
    assert unreachable.status == "failed" and unreachable.response_code is None
    # no connection error and no timing: refused, reset and timed out look the same (no port-scan oracle)
    assert unreachable.error == "delivery failed: no HTTP response" and unreachable.response_time_ms is None


def test_power_history_becomes_vm_events() -> None:
    before = proxmox_node(history=[record("a1", 100, "start", "success", "2026-11-30T10:00:00Z")])
    after = proxmox_node(
        history=[
            record("a3", 101, "shutdown", "success", "2026-11-30T12:00:00Z"),
            record("a2", 100, "reboot", "error", "2026-11-30T11:00:00Z", error="locked"),
            record("a1", 100, "start", "success", "2026-11-30T10:00:00Z"),
        ]
    )
    events = changes("ProxmoxNode", "MODIFIED", before, after)
    assert [(e.name, e.data["vm_id"]) for e in events] == [("vm.failed", "100"), ("vm.stopped", "101")]
    assert events[0].data["error"] == "locked"
    assert changes("ProxmoxNode", "ADDED", None, after) == []  # first sight: no past events


def test_guests_appearing_and_leaving() -> None:
    before = proxmox_node()
    after = proxmox_node(
        guests=[
            *proxmox_node()["status"]["guests"][1:],
            {"vmid": 300, "name": "new", "node": "pve1", "kind": "vm", "status": "stopped"},
        ]
    )
    assert [(e.name, e.data["vm_id"]) for e in changes("ProxmoxNode", "MODIFIED", before, after)] == [
        ("vm.created", "300"),
        ("vm.deleted", "100"),
    ]


def test_snapshot_runs_become_backup_and_snapshot_events() -> None:
    running = run("r2", "Running", "2026-12-01T02:00:00Z")
    done = run("r2", "Succeeded", "2026-12-01T02:00:00Z", "2026-12-01T02:01:00Z")
    idle = snapshot_policy(
        "nightly", [100], history=[run("r1", "Succeeded", "2026-11-30T02:00:00Z", "2026-11-30T02:01:00Z")]
    )
    started = snapshot_policy("nightly", [100], history=idle["status"]["history"], current=running)
    finished = snapshot_policy("nightly", [100], history=[done, *idle["status"]["history"]])
    assert [e.name for e in changes("SnapshotPolicy", "MODIFIED", idle, started)] == ["backup.started"]
    names = [e.name for e in changes("SnapshotPolicy", "MODIFIED", started, finished)]
    assert names == ["backup.completed", "snapshot.created"]
    failed = snapshot_policy("nightly", [100], history=[run("r2", "Failed", "2026-12-01T02:00:00Z", created=0)])
    assert [e.name for e in changes("SnapshotPolicy", "MODIFIED", started, failed)] == ["backup.failed"]


def test_job_phases_become_restore_and_migration_events() -> None:
    assert phase_event("restore", "Running") == "restore.started"
    assert phase_event("restore", "Succeeded") == "restore.completed"
    assert phase_event("migration", "RolledBack") == "migration.failed"
    assert phase_event("restore", "Planned") is None
    job = {
        "kind": "RestoreJob",
        "metadata": {"name": "r"},
        "spec": {"source": {"proxmox": {"vmid": 100}}, "mode": "NEW"},
    }
    events = changes(
        "RestoreJob", "MODIFIED", {**job, "status": {"phase": "Running"}}, {**job, "status": {"phase": "Succeeded"}}
    )
    assert [(e.name, e.data["vm_id"]) for e in events] == [("restore.completed", "100")]


def _hook(url: str, events: list[str], has_secret: bool = True) -> dict[str, Any]:
    cm = definition_configmap(
        "webhook-1",
        {"name": "n", "url": url, "events": events, "enabled": True, "created_at": "2026-12-01T00:00:00Z"},
        has_secret,
    )
    return {"apiVersion": "v1", "kind": "ConfigMap", **cm, "metadata": {**cm["metadata"], "namespace": "daytwo"}}


def test_service_turns_store_changes_into_signed_deliveries() -> None:
    with Receiver([200]) as receiver:
        node = proxmox_node()
        store = ObjectStore.of([node, _hook(receiver.url, ["vm.started"])])
        secrets = {resource_name("webhook-1"): "k3y"}
        service = WebhookService(store, secrets.get, Deliverer(base_delay=0.01))
        service.start()
        changed = proxmox_node(history=[record("a1", 101, "start", "success", "2026-12-01T00:00:00Z")])
        store._watcher("ProxmoxNode").apply({"type": "MODIFIED", "object": changed})
        assert receiver.event.wait(10)
        deadline = time.monotonic() + 10
        while service.deliveries("webhook-1")[0]["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
    got = receiver.received[0]
    assert verify("k3y", got.body, got.headers["x-horcrux-signature"])
    assert json.loads(got.body)["data"]["vm_id"] == "101"
    assert service.deliveries("webhook-1")[0]["status"] == "success"
    assert definition(_hook("http://x", ["vm.started"])) == {
        "id": "webhook-1",
        "name": "n",
        "url": "http://x",
        "events": ["vm.started"],
        "enabled": True,
        "created_at": "2026-12-01T00:00:00Z",
        "has_secret": True,
    }


def test_an_unreadable_secret_is_never_replaced_by_an_unsigned_delivery() -> None:
    with Receiver([200]) as receiver:
        store = ObjectStore.of([_hook(receiver.url, ["*"])])
        service = WebhookService(store, lambda _name: None, Deliverer())
        result = service.test(service.webhooks()[0])
    assert result.status == "failed" and "cannot be read" in str(result.error) and receiver.received == []
