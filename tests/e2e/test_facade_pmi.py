"""The pmi dashboard API over HTTP: the real facade, apiserver, operator and fakepve.

A node is added through pmi (Secret + ProxmoxNode, the token never echoed) against the examples'
fakepve; its connection is tested, its resources listed, guest 112 (a running qemu VM on pve2) is
stopped and started, and the history is filtered.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL

from tests.harness.controlplane import REPO
from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until
from tests.harness.standins import credential_secret

from .conftest import NAMESPACE

pytestmark = pytest.mark.e2e

VMID = 112


def _example_token() -> dict[str, str]:
    import yaml

    docs = list(yaml.safe_load_all((REPO / "examples" / "proxmoxnode.yaml").read_text()))
    secret = next(d for d in docs if d and d["kind"] == "Secret")
    return dict(secret["stringData"])


@pytest.fixture(scope="module")
def node_body() -> dict[str, Any]:
    """pmi's add-node body for the examples' fakepve (certificate not verified: pmi has no CA field)."""
    token = _example_token()
    return {
        "name": "PMI Lab",
        "host": "127.0.0.1",
        "port": 38006,
        "api_token_id": token["tokenId"],
        "api_token_secret": token["tokenSecret"],
        "ssl_verify": False,
        "timeout": 10,
    }


@pytest.fixture(scope="module")
def pmi(examples: dict[str, Any], facade: Facade) -> httpx.Client:
    """The admin's client on /pmi/api/proxmox."""
    client = facade.client("admin")
    client.base_url = httpx.URL(f"{facade.url}/pmi/api/proxmox")
    return client


@pytest.fixture(scope="module")
def node_id(pmi: httpx.Client, node_body: dict[str, Any], kubectl: Kubectl) -> str:
    """The node added through pmi."""
    added = pmi.post("/nodes", json=node_body)
    assert added.status_code == 201, added.text
    assert node_body["api_token_secret"] not in added.text
    return str(added.json()["data"]["node_id"])


def test_add_node_creates_secret_and_proxmoxnode(
    node_id: str, kubectl: Kubectl, node_body: dict[str, Any], pmi: httpx.Client
) -> None:
    node = kubectl.get("proxmoxnode", node_id, NAMESPACE)
    assert node["spec"]["host"] == "127.0.0.1" and node["spec"]["tls"] == {"insecureSkipVerify": True}
    secret_name = node["spec"]["tokenSecretRef"]["name"]
    secret = json.loads(kubectl.run("get", "secret", secret_name, "-n", NAMESPACE, "-o", "json").stdout)
    assert set(secret["data"]) == {"tokenId", "tokenSecret"}
    labels = secret["metadata"]["labels"]  # the operator reads it; the facade may rewrite and delete it
    assert labels[CREDENTIAL_SECRET_LABEL] == "true" and labels["app.kubernetes.io/managed-by"] == "daytwo-api"
    wait_until(lambda: any(n["id"] == node_id for n in pmi.get("/nodes").json()["data"]), 30, "the node in the cache")
    listed = pmi.get("/nodes")
    assert (
        node_body["api_token_secret"] not in listed.text
        and node_body["api_token_secret"] not in pmi.get(f"/nodes/{node_id}").text
    )


def test_connection_tests(pmi: httpx.Client, node_id: str, node_body: dict[str, Any]) -> None:
    tested = pmi.post(f"/nodes/{node_id}/test", params={"wait": 9})
    assert tested.status_code == 200, tested.text
    assert tested.json()["data"]["connected"] is True and tested.json()["message"].startswith("Connected to Proxmox VE")
    probe = pmi.post("/test-connection", json=node_body, params={"wait": 9})
    assert probe.status_code == 200, probe.text
    assert probe.json()["data"]["connected"] is True
    wrong = pmi.post("/test-connection", json={**node_body, "api_token_secret": "wrong"}, params={"wait": 9})
    assert wrong.status_code == 200, wrong.text
    assert wrong.json()["data"]["connected"] is False and wrong.json()["data"]["reason"] == "AuthenticationFailed"
    assert all(not n["id"].startswith("pmi-test-") for n in pmi.get("/nodes").json()["data"])
    node = pmi.get(f"/nodes/{node_id}").json()["data"]
    assert node["status"] == "online" and node["is_connected"] is True and node["cpu_count"] > 0


def test_resources_power_and_history(pmi: httpx.Client, node_id: str, facade: Facade) -> None:
    def guest() -> dict[str, Any] | None:
        vms = pmi.get(f"/nodes/{node_id}/resources").json()["data"]["vms"]
        return next((v for v in vms if v["vmid"] == VMID), None)

    wait_until(lambda: (guest() or {}).get("status") == "running", 120, f"guest {VMID} running in the inventory")
    metrics = pmi.get(f"/nodes/{node_id}/resources/{VMID}/metrics").json()["data"]
    assert metrics["name"] == "vm-pve2-2" and metrics["status"] == "running"

    with facade.client("viewer") as viewer:
        refused = viewer.post(f"{facade.url}/pmi/api/proxmox/nodes/{node_id}/resources/{VMID}/stop")
        assert refused.status_code == 403 and refused.json()["success"] is False and refused.json()["request_id"]

    stop = pmi.post(f"/nodes/{node_id}/resources/{VMID}/stop", json={"force": True})
    assert stop.status_code == 202, stop.text
    stop_id = stop.json()["data"]["operation_id"]

    def finished(op_id: str) -> dict[str, Any] | None:
        page = pmi.get("/history", params={"node": node_id, "limit": 500}).json()["data"]
        return next((o for o in page["operations"] if o["id"] == op_id and o["status"] != "in_progress"), None)

    wait_until(lambda: finished(stop_id), 90, "the stop in the history")
    assert finished(stop_id)["status"] == "success"  # type: ignore[index]
    start = pmi.post(f"/nodes/{node_id}/resources/{VMID}/start")
    assert start.status_code == 202
    start_id = start.json()["data"]["operation_id"]
    wait_until(lambda: finished(start_id), 90, "the start in the history")

    stops = pmi.get(f"/nodes/{node_id}/history", params={"operation_type": "stop", "status": "success"}).json()["data"]
    assert stop_id in [o["id"] for o in stops["operations"]] and start_id not in [o["id"] for o in stops["operations"]]
    assert stops["filters"] == {"node": None, "resource_type": None, "operation_type": "stop", "status": "success"}
    record = next(o for o in stops["operations"] if o["id"] == stop_id)
    assert record["user"] == "admin" and record["resource_id"] == VMID and record["resource_type"] == "vm"
    assert pmi.get("/history", params={"status": "failed", "node": node_id}).json()["data"]["total"] == 0


def test_resources_come_from_the_guest_inventory(pmi: httpx.Client, node_id: str) -> None:
    """Once the operator has written the node's guest inventory ConfigMaps, every guest is listed with usage."""

    def listed() -> dict[str, Any] | None:
        data = pmi.get(f"/nodes/{node_id}/resources").json()["data"]
        return data if data["source"] == "inventory" else None

    wait_until(listed, 120, "the resources from the guest inventory")
    data = listed() or {}
    assert data["truncated"] is False
    assert len(data["vms"]) == data["total_vms"] and len(data["containers"]) == data["total_containers"]
    guest = next(v for v in data["vms"] if v["vmid"] == VMID)
    assert guest["memory_total"] and guest["cpu_count"] and guest["cpu_usage"] is not None
    assert guest["network_in"] is not None and guest["last_updated"] and isinstance(guest["tags"], list)
    metrics = pmi.get(f"/nodes/{node_id}/resources/{VMID}/metrics").json()["data"]
    assert metrics["memory_total"] == guest["memory_total"] and metrics["uptime"] is not None


def test_update_and_delete_node(pmi: httpx.Client, node_id: str, kubectl: Kubectl) -> None:
    assert pmi.put(f"/nodes/{node_id}", json={"name": "PMI Lab 2", "timeout": 20}).status_code == 200
    assert kubectl.get("proxmoxnode", node_id, NAMESPACE)["spec"]["timeoutSeconds"] == 20
    secret_name = kubectl.get("proxmoxnode", node_id, NAMESPACE)["spec"]["tokenSecretRef"]["name"]
    assert pmi.delete(f"/nodes/{node_id}").status_code == 200
    wait_until(lambda: pmi.get(f"/nodes/{node_id}").status_code == 404, 60, "the node gone from the cache")
    gone = kubectl.run("get", "secret", secret_name, "-n", NAMESPACE, "--ignore-not-found", "-o", "name").stdout
    assert gone.strip() == ""


def _secret(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    found = kubectl.run("get", "secret", name, "-n", NAMESPACE, "--ignore-not-found", "-o", "json").stdout
    return json.loads(found) if found.strip() else None


def _ready_through(kubectl: Kubectl, name: str, host: str, secret_version: str | None = None) -> bool:
    """The node is Ready at ``host`` for its current generation (and sent that version of its token Secret)."""
    node = kubectl.get("proxmoxnode", name, NAMESPACE)
    status = node.get("status", {})
    ready = {c["type"]: c for c in status.get("conditions", [])}.get("Ready", {})
    bound = (status.get("secretBinding") or {}).get("secretResourceVersion")
    return (
        node["spec"]["host"] == host
        and ready.get("status") == "True"
        and status.get("observedGeneration") == node["metadata"]["generation"]
        and (secret_version is None or bound == secret_version)
    )


def test_moving_a_node_needs_its_token_again(pmi: httpx.Client, node_body: dict[str, Any], kubectl: Kubectl) -> None:
    """host/port/ssl_verify without api_token_secret: 422, nothing changed; with it the operator follows."""
    added = pmi.post("/nodes", json={**node_body, "name": "PMI Mover"})
    assert added.status_code == 201, added.text
    mover = added.json()["data"]["node_id"]
    secret_name = f"{mover}-token"
    wait_until(lambda: _ready_through(kubectl, mover, "127.0.0.1"), 90, "the node ready")
    before = _secret(kubectl, secret_name)
    assert before is not None
    for change in ({"host": "localhost"}, {"port": 38007}, {"ssl_verify": True}):
        refused = pmi.put(f"/nodes/{mover}", json=change)
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["success"] is False and body["error_code"] == "VALIDATION_ERROR"
        assert "api_token_secret" in body["error"] and body["details"][0]["loc"] == ["body", "api_token_secret"]
    assert kubectl.get("proxmoxnode", mover, NAMESPACE)["spec"]["host"] == "127.0.0.1"
    after_refusals = _secret(kubectl, secret_name)
    assert after_refusals is not None
    assert after_refusals["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    # the same token again, to the same fakepve under another name: the Secret is written again, the operator follows
    moved = pmi.put(f"/nodes/{mover}", json={"host": "localhost", "api_token_secret": node_body["api_token_secret"]})
    assert moved.status_code == 200, moved.text
    rewritten = _secret(kubectl, secret_name)
    assert rewritten is not None
    assert rewritten["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
    version = rewritten["metadata"]["resourceVersion"]
    wait_until(lambda: _ready_through(kubectl, mover, "localhost", version), 90, "the moved node ready, Secret rebound")
    assert pmi.delete(f"/nodes/{mover}").status_code == 200


def test_delete_leaves_a_kubectl_made_token_secret(
    pmi: httpx.Client, node_body: dict[str, Any], kubectl: Kubectl
) -> None:
    """A ProxmoxNode and its ``<node>-token`` made with kubectl: deleting the node through pmi keeps the Secret."""
    name = "kubectl-made"
    token = {"tokenId": node_body["api_token_id"], "tokenSecret": node_body["api_token_secret"]}
    kubectl.run("apply", "-f", "-", input=json.dumps(credential_secret(f"{name}-token", NAMESPACE, token)))
    node = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "ProxmoxNode",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "host": "127.0.0.1",
            "port": node_body["port"],
            "tokenSecretRef": {"name": f"{name}-token"},
            "tls": {"insecureSkipVerify": True},
        },
    }
    kubectl.run("apply", "-f", "-", input=json.dumps(node))
    wait_until(lambda: pmi.get(f"/nodes/{name}").status_code == 200, 60, "the kubectl-made node in the cache")
    # a token update would have to go into that Secret: refused, it is not the facade's
    assert pmi.put(f"/nodes/{name}", json={"api_token_secret": "other"}).status_code == 409
    assert pmi.delete(f"/nodes/{name}").status_code == 200
    wait_until(lambda: pmi.get(f"/nodes/{name}").status_code == 404, 60, "the node gone from the cache")
    kept = _secret(kubectl, f"{name}-token")
    assert kept is not None and "app.kubernetes.io/managed-by" not in kept["metadata"]["labels"]
    kubectl.run("delete", "secret", f"{name}-token", "-n", NAMESPACE)
