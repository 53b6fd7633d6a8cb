"""horcrux routes on the whole facade (TestClient): a store filled from dicts; writes recorded and applied."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from daytwo.api.errors import ApiError
from daytwo.api.routers.horcrux.unsupported import UNSUPPORTED
from daytwo.api.store import ObjectStore
from fastapi.testclient import TestClient

from tests.harness.fakes import route_client

from ..pmi.data import proxmox_node, run, snapshot_policy
from ..pmi.test_routes import BodyWriter
from .receiver import Receiver

BASE = "/horcrux"


class StoreWriter(BodyWriter):
    """Records bodies and applies creates/patches/deletes to the store, as the apiserver + watch would."""

    def __init__(self, store: ObjectStore) -> None:
        super().__init__()
        self.store = store

    def _apply(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        self.store._watcher(kind).apply({"type": event, "object": obj})

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create (409 when the name is taken)."""
        super().create(kind, body)
        if self.store.get(kind, body["metadata"]["name"]) is not None:
            raise ApiError(409, f"{kind} exists", "CONFLICT")
        obj = {**copy.deepcopy(body), "kind": kind}
        obj["metadata"] = {**obj["metadata"], "namespace": "daytwo", "resourceVersion": "1"}
        self._apply(kind, "ADDED", obj)
        return obj

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch maps one level deep (enough for these routes)."""
        super().patch(kind, name, merge_patch)
        obj = copy.deepcopy(self.store.get(kind, name) or {})
        for key, value in merge_patch.items():
            obj[key] = {**obj.get(key, {}), **value} if isinstance(value, Mapping) else value
        self._apply(kind, "MODIFIED", obj)
        return obj

    def delete(self, kind: str, name: str) -> None:
        """Delete."""
        super().delete(kind, name)
        self._apply(kind, "DELETED", self.store.get(kind, name) or {"metadata": {"name": name}})

    def annotate(self, kind: str, name: str, annotations: Mapping[str, str | None]) -> dict[str, Any]:
        """Annotate through patch."""
        self.calls.append(("annotate", kind, name))
        return self.patch(
            kind, name, {"metadata": {**self.store.get(kind, name)["metadata"], "annotations": dict(annotations)}}
        )  # type: ignore[index]


def world(objects: list[dict[str, Any]], role: str | None = "admin") -> tuple[TestClient, StoreWriter]:
    """The facade over ``objects`` as ``role``; the writer applies writes to the store."""
    test_client, services = route_client(objects, role=role, webhook_allowed_hosts="127.0.0.1")
    writer = StoreWriter(services.store)
    services.writer_factory = lambda _principal: writer
    return test_client, writer


def test_vms_list_filter_paginate_and_get() -> None:
    c, _ = world([proxmox_node()], role="viewer")
    listed = c.get(f"{BASE}/api/vms", params={"status": "running"})
    assert [v["id"] for v in listed.json()] == ["100", "200"] and listed.headers["x-total-count"] == "2"
    assert [v["id"] for v in c.get(f"{BASE}/api/vms", params={"limit": 1, "offset": 1}).json()] == ["101"]
    missing = c.get(f"{BASE}/api/vms/999")
    assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND" and missing.json()["request_id"]


def test_start_and_stop_are_power_requests() -> None:
    c, writer = world([proxmox_node()], role="operator")
    assert c.post(f"{BASE}/api/vms/100/start").status_code == 409  # already running
    started = c.post(f"{BASE}/api/vms/101/start")
    assert (
        started.status_code == 202
        and started.json()["status"] == "running"
        and started.json()["job_id"].startswith("hx-")
    )
    stopped = c.post(f"{BASE}/api/vms/100/stop", json={"force": True})
    assert stopped.status_code == 202
    actions = [b[2]["spec"]["actions"] for b in writer.bodies if b[0] == "patch"]
    assert actions[0] == [
        {"id": started.json()["job_id"], "vmid": 101, "operation": "start", "force": False, "requestedBy": "operator"}
    ]
    assert actions[1][-1]["operation"] == "stop" and actions[1][-1]["vmid"] == 100
    assert world([proxmox_node()], role="viewer")[0].post(f"{BASE}/api/vms/101/start").status_code == 403


def test_snapshot_create_list_tree_restore_and_delete() -> None:
    c, writer = world([proxmox_node()], role="admin")
    created = c.post(
        f"{BASE}/api/vms/100/snapshots", json={"name": "before-upgrade", "description": "pre", "include_memory": True}
    )
    assert created.status_code == 202, created.text
    job = created.json()["job_id"]
    policy = writer.store.get("SnapshotPolicy", job)
    assert (
        policy is not None
        and policy["spec"]["targets"] == {"proxmox": {"vmids": [100]}}
        and policy["spec"]["runOnCreate"]
    )
    assert c.post(f"{BASE}/api/vms/100/snapshots", json={"name": "before-upgrade"}).status_code == 409
    assert c.post(f"{BASE}/api/vms/100/snapshots", json={"name": "bad name!"}).status_code == 422
    listed = c.get(f"{BASE}/api/vms/100/snapshots").json()
    assert [(s["id"], s["status"]) for s in listed] == [(job, "creating")]
    assert c.post(f"{BASE}/api/vms/100/snapshots/{job}/restore").status_code == 409  # not taken yet
    # the operator's run finished
    done = copy.deepcopy(policy)
    done["status"] = {"lastRun": run("o1", "Succeeded", "2026-01-01T00:00:00Z", "2026-11-30T05:00:00Z")}
    writer.store._watcher("SnapshotPolicy").apply({"type": "MODIFIED", "object": done})
    assert c.get(f"{BASE}/api/vms/100/snapshots/tree").json()["snapshots"][0]["id"] == job
    restored = c.post(f"{BASE}/api/vms/100/snapshots/{job}/restore", json={})
    assert restored.status_code == 202, restored.text
    restore = next(b for b in writer.bodies if b[:2] == ("create", "RestoreJob"))[2]
    assert restore["spec"]["source"]["proxmox"]["vmid"] == 100 and restore["spec"]["mode"] == "NEW"
    assert (
        restore["spec"]["source"]["proxmox"]["snapshot"]
        == c.get(f"{BASE}/api/vms/100/snapshots/{job}").json()["snapshot_name"]
    )
    wrong = c.post(f"{BASE}/api/vms/100/snapshots/{job}/restore", json={"mode": "REPLACE", "confirm": "yes"})
    assert wrong.status_code == 422 and "DELETE AND RESTORE web" in wrong.json()["message"]
    operator, _ = world([proxmox_node(), done], role="operator")
    assert operator.post(f"{BASE}/api/vms/100/snapshots/{job}/restore", json={"mode": "REPLACE"}).status_code == 403
    assert c.delete(f"{BASE}/api/vms/100/snapshots/{job}").status_code == 200
    assert c.get(f"{BASE}/api/vms/100/snapshots").json() == []


def test_backups_and_backup_jobs() -> None:
    nightly = snapshot_policy(
        "nightly", [100], history=[run("n1", "Succeeded", "2026-11-30T02:00:00Z", "2026-11-30T02:01:00Z")]
    )
    c, _writer = world([proxmox_node(), nightly], role="admin")
    backups = c.get(f"{BASE}/api/backups", params={"vm_id": "100"}).json()
    assert [(b["id"], b["status"], b["vm_name"]) for b in backups] == [("n1.100", "completed", "web")]
    assert c.get(f"{BASE}/api/backups/n1.100").json()["job_id"] == "nightly"
    jobs = c.get(f"{BASE}/api/backup-jobs").json()
    assert [j["id"] for j in jobs] == ["nightly"]
    made = c.post(
        f"{BASE}/api/backup-jobs",
        json={"name": "Weekly", "schedule": "0 3 * * 0", "vm_ids": ["100", "101"], "retention_days": 30},
    )
    assert made.status_code == 201 and made.json()["vm_ids"] == ["100", "101"] and made.json()["retention_days"] == 30
    bad = c.post(f"{BASE}/api/backup-jobs", json={"name": "Bad", "schedule": "every day", "vm_ids": ["100"]})
    assert bad.status_code == 422 and "5-field cron expression" in bad.json()["message"]
    assert c.post(f"{BASE}/api/backup-jobs/nightly/run").status_code == 202
    assert c.post(f"{BASE}/api/backup-jobs/nightly/run").status_code == 409  # pending: the operator has not echoed it
    assert c.post(f"{BASE}/api/backups", json={"vm_id": "101"}).status_code == 202
    assert c.post(f"{BASE}/api/backups/n1.100/restore", json={}).status_code == 202


def test_monitoring_cluster_metrics_and_health() -> None:
    c, _ = world([proxmox_node()], role="viewer")
    assert c.get(f"{BASE}/api/monitoring/node").json()["cpu_cores"] == 8
    assert c.get(f"{BASE}/api/monitoring/vms/101").json()["status"] == "stopped"
    assert len(c.get(f"{BASE}/api/monitoring/vms").json()) == 3
    history = c.get(f"{BASE}/api/monitoring/history/cpu_usage").json()
    assert (
        history["data"][0]["value"] == 25.0 and c.get(f"{BASE}/api/monitoring/history/network_rx").json()["data"] == []
    )
    assert [n["name"] for n in c.get(f"{BASE}/api/cluster/nodes").json()] == ["pve1", "pve2"]
    metrics = c.get(f"{BASE}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain") and "horcrux_vm_running" in metrics.text
    anonymous, _ = world([], role=None)
    assert anonymous.get(f"{BASE}/api/health").json()["status"] == "healthy"
    assert anonymous.get(f"{BASE}/api/vms").status_code == 401


def test_audit_events_record_writes() -> None:
    c, _ = world([proxmox_node()], role="admin")
    c.post(f"{BASE}/api/vms/101/start")
    events = c.get(f"{BASE}/api/audit/events", params={"action": "vm.start"}).json()
    assert events[0]["action"] == "vm.start" and events[0]["resource"] == "vm-101" and events[0]["user"] == "admin"
    assert world([], role="operator")[0].get(f"{BASE}/api/audit/events").status_code == 403


def test_webhook_crud_test_and_deliveries() -> None:
    c, writer = world([proxmox_node()], role="admin")
    with Receiver([200]) as receiver:
        bad = c.post(f"{BASE}/api/webhooks", json={"name": "n", "url": receiver.url, "events": ["vm.exploded"]})
        assert bad.status_code == 422 and "vm.started" in bad.json()["message"]
        made = c.post(f"{BASE}/api/webhooks", json={"name": "Slack", "url": receiver.url, "events": ["vm.started"]})
        assert made.status_code == 201
        hook_id = made.json()["id"]
        assert c.get(f"{BASE}/api/webhooks").json()[0]["events"] == ["vm.started"]
        updated = c.post(f"{BASE}/api/webhooks/{hook_id}", json={"enabled": False})
        assert updated.json()["enabled"] is False and c.get(f"{BASE}/api/webhooks/{hook_id}").json()["enabled"] is False
        tested = c.post(f"{BASE}/api/webhooks/{hook_id}/test").json()
        assert tested["status"] == "success" and tested["response_code"] == 200
        deliveries = c.get(f"{BASE}/api/webhooks/{hook_id}/deliveries").json()
        assert deliveries[0]["event"] == "webhook.test" and deliveries[0]["status"] == "success"
    with_secret = c.post(
        f"{BASE}/api/webhooks", json={"name": "s", "url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "k3y"}
    )
    assert "k3y" not in with_secret.text and "k3y" not in c.get(f"{BASE}/api/webhooks").text
    assert ("create_secret", f"horcrux-{with_secret.json()['id']}", {"secret": "k3y"}) in writer.bodies
    assert c.delete(f"{BASE}/api/webhooks/{hook_id}").status_code == 200
    assert c.get(f"{BASE}/api/webhooks/{hook_id}").status_code == 404


@pytest.fixture(scope="module")
def by_role() -> dict[str | None, TestClient]:
    """One read-only facade per role (building one hashes passwords: share them)."""
    return {role: world([], role=role)[0] for role in ("admin", "operator", None)}


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _w, _y in UNSUPPORTED])
def test_unsupported_endpoints_answer_501_after_authorisation(
    method: str, path: str, by_role: dict[str | None, TestClient]
) -> None:
    concrete = f"{BASE}{path.replace('{', '').replace('}', '')}"
    answer = by_role["admin"].request(method, concrete)
    assert (
        answer.status_code == 501
        and answer.json()["error"] == "NOT_IMPLEMENTED"
        and "daytwo" in answer.json()["message"]
    )
    assert by_role[None].request(method, concrete).status_code == 401
    if method != "GET":
        assert by_role["operator"].request(method, concrete).status_code == 403
