"""pmi routes on the whole facade (TestClient): a store filled from dicts, a writer that records bodies."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from daytwo.api.errors import ApiError
from fastapi.testclient import TestClient

from tests.harness.fakes import RecordingWriter, route_client

from .data import proxmox_node, record

BASE = "/pmi/api/proxmox"


class BodyWriter(RecordingWriter):
    """Records calls with their bodies; ``conflicts`` makes the first N patches answer 409 like the apiserver."""

    def __init__(self, conflicts: int = 0) -> None:
        super().__init__()
        self.bodies: list[tuple[str, str, Any]] = []
        self.conflicts = conflicts

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record a create with its body."""
        self.bodies.append(("create", kind, copy.deepcopy(body)))
        return super().create(kind, body)

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        """Record a patch with its body (409 while ``conflicts`` lasts)."""
        self.bodies.append(("patch", name, copy.deepcopy(merge_patch)))
        if self.conflicts:
            self.conflicts -= 1
            raise ApiError(409, "the object has been modified", "CONFLICT")
        return super().patch(kind, name, merge_patch)

    def create_secret(self, name: str, string_data: Mapping[str, str], labels: Mapping[str, str] | None = None) -> None:
        """Record a Secret create with its data."""
        self.bodies.append(("create_secret", name, dict(string_data)))
        super().create_secret(name, string_data, labels)

    def patch_secret(
        self,
        name: str,
        string_data: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
        resource_version: str | None = None,
    ) -> None:
        """Record a Secret patch with its data."""
        self.bodies.append(("patch_secret", name, dict(string_data)))
        super().patch_secret(name, string_data, labels, resource_version)


def client(
    objects: list[dict[str, Any]], writer: RecordingWriter | None = None, role: str | None = "admin"
) -> TestClient:
    """The facade over ``objects`` as ``role``, writing through ``writer``."""
    test_client, services = route_client(objects, role=role)
    if writer is not None:
        services.writer_factory = lambda _principal: writer
    return test_client


def test_list_and_get_nodes_in_the_pmi_envelope() -> None:
    c = client([proxmox_node()], role="viewer")
    listed = c.get(f"{BASE}/nodes").json()
    assert listed["success"] is True and listed["timestamp"] and [n["id"] for n in listed["data"]] == ["pve-lab"]
    missing = c.get(f"{BASE}/nodes/nope")
    assert missing.status_code == 404
    body = missing.json()
    assert body["success"] is False and body["error_code"] == "RESOURCE_NOT_FOUND" and body["request_id"]


def test_add_node_creates_the_token_secret_then_the_proxmoxnode_and_never_echoes_the_token() -> None:
    writer = BodyWriter()
    answer = client([], writer).post(
        f"{BASE}/nodes",
        json={
            "name": "Production Server",
            "host": "10.0.0.9",
            "api_token_id": "root@pam!d2",
            "api_token_secret": "s3cr3t-uuid",
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"] == {"node_id": "production-server"} and "s3cr3t" not in answer.text
    (kind1, secret_name, data), (kind2, kind, body) = writer.bodies
    assert (kind1, secret_name, data) == (
        "create_secret",
        "production-server-token",
        {"tokenId": "root@pam!d2", "tokenSecret": "s3cr3t-uuid"},
    )
    assert (kind2, kind) == ("create", "ProxmoxNode") and "s3cr3t" not in str(body)
    assert body["spec"]["tokenSecretRef"] == {"name": "production-server-token"}
    assert body["metadata"]["annotations"]["daytwo.io/display-name"] == "Production Server"


def test_add_node_validates_input_in_the_pmi_envelope() -> None:
    answer = client([]).post(
        f"{BASE}/nodes", json={"name": "x", "host": "h", "api_token_id": "no-realm", "api_token_secret": "s"}
    )
    assert answer.status_code == 422 and answer.json()["error_code"] == "VALIDATION_ERROR"


def test_update_patches_spec_and_token_separately_and_delete_removes_both() -> None:
    writer = BodyWriter()
    writer.secrets["pve-lab-token"] = {
        "daytwo.io/proxmox-node": "pve-lab",
        "app.kubernetes.io/managed-by": "daytwo-api",
    }
    c = client([proxmox_node()], writer)
    assert c.put(f"{BASE}/nodes/pve-lab", json={"port": 8443, "api_token_secret": "new"}).status_code == 200
    assert ("patch_secret", "pve-lab-token", {"tokenSecret": "new"}) in writer.bodies
    assert ("patch", "pve-lab", {"spec": {"port": 8443}}) in writer.bodies
    assert c.delete(f"{BASE}/nodes/pve-lab").status_code == 200
    assert ("delete", "ProxmoxNode", "pve-lab") in writer.calls and ("delete_secret", "pve-lab-token") in writer.calls


def test_test_node_annotates_and_answers_202_with_the_job_id_when_the_operator_is_slow() -> None:
    writer = BodyWriter()
    answer = client([proxmox_node()], writer).post(f"{BASE}/nodes/pve-lab/test?wait=0")
    assert answer.status_code == 202 and answer.json()["data"]["job_id"] == "pve-lab"
    assert writer.calls[0][:3] == ("annotate", "ProxmoxNode", "pve-lab")


def test_test_connection_cleans_up_its_probe_and_times_out_in_the_envelope() -> None:
    writer = BodyWriter()
    answer = client([], writer).post(
        f"{BASE}/test-connection?wait=0",
        json={"name": "probe", "host": "10.0.0.9", "api_token_id": "root@pam!d2", "api_token_secret": "s3cr3t"},
    )
    assert answer.status_code == 408 and answer.json()["error_code"] == "TIMEOUT_ERROR" and "s3cr3t" not in answer.text
    kinds = [call[0] for call in writer.calls]
    assert kinds == ["create_secret", "create", "delete", "delete_secret"]


def test_resources_and_metrics() -> None:
    c = client([proxmox_node()], role="viewer")
    data = c.get(f"{BASE}/nodes/pve-lab/resources").json()["data"]
    assert [v["name"] for v in data["vms"]] == ["web", "db"] and data["containers"][0]["type"] == "lxc"
    assert c.get(f"{BASE}/nodes/pve-lab/resources/101/metrics").json()["data"]["status"] == "stopped"
    assert c.get(f"{BASE}/nodes/pve-lab/resources/999/metrics").status_code == 404


@pytest.mark.parametrize(
    ("verb", "body", "operation", "force"),
    [
        ("start", None, "start", False),
        ("stop", None, "shutdown", False),
        ("stop", {"force": True}, "stop", False),
        ("restart", None, "reboot", False),
    ],
)
def test_power_requests_are_spec_actions_with_optimistic_concurrency(
    verb: str, body: dict[str, Any] | None, operation: str, force: bool
) -> None:
    writer = BodyWriter(conflicts=1)
    answer = client([proxmox_node()], writer, role="operator").post(
        f"{BASE}/nodes/pve-lab/resources/101/{verb}", json=body
    )
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    assert data["status"] == "in_progress" and data["operation_id"].startswith("pmi-")
    patches = [b for b in writer.bodies if b[0] == "patch"]
    assert len(patches) == 2  # the first answered 409 and was retried
    patch = patches[-1][2]
    assert patch["metadata"]["resourceVersion"] == "10"
    assert patch["spec"]["actions"] == [
        {"id": data["operation_id"], "vmid": 101, "operation": operation, "force": force, "requestedBy": "operator"}
    ]


def test_power_on_an_unknown_guest_is_404_and_viewers_may_not() -> None:
    assert client([proxmox_node()]).post(f"{BASE}/nodes/pve-lab/resources/999/start").status_code == 404
    denied = client([proxmox_node()], role="viewer").post(f"{BASE}/nodes/pve-lab/resources/100/start")
    assert denied.status_code == 403 and denied.json()["success"] is False
    assert client([proxmox_node()], role=None).post(f"{BASE}/nodes/pve-lab/resources/100/start").status_code == 401


def test_history_with_filters() -> None:
    node = proxmox_node(
        history=[
            record("a2", 100, "stop", "error", "2026-11-30T11:00:00Z"),
            record("a1", 100, "start", "success", "2026-11-30T10:00:00Z"),
        ]
    )
    c = client([node], role="viewer")
    page = c.get(f"{BASE}/history", params={"status": "failed"}).json()["data"]
    assert page["total"] == 1 and page["operations"][0]["id"] == "a2" and page["filters"]["status"] == "failed"
    assert c.get(f"{BASE}/nodes/pve-lab/history", params={"operation_type": "start"}).json()["data"]["total"] == 1
    assert c.get(f"{BASE}/history", params={"status": "bogus"}).status_code == 422


def test_health_is_public() -> None:
    assert client([], role=None).get(f"{BASE}/health").json()["status"] == "healthy"
