"""The horcrux API over HTTP: the real facade, apiserver, operator and fakepve (examples' ProxmoxNode pve-lab).

Guest 105 (a running qemu VM on pve1 of the stand-in) is stopped and started again, then snapshotted;
a webhook pointing at a local receiver gets the lifecycle events, signed with its secret. Guests 100
and 101 are left alone (the example keeps 100 running and reboots 101).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.harness.facade import PASSWORDS, Facade, fresh_address
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until
from tests.unit.api.horcrux.receiver import Receiver

from .conftest import NAMESPACE

pytestmark = pytest.mark.e2e

VM = "105"
SECRET = "e2e-webhook-secret"


@pytest.fixture(scope="module")
def horcrux(examples: dict[str, Any], facade: Facade) -> httpx.Client:
    """The operator's client on /horcrux after a horcrux login, once pve-lab's inventory is in the facade."""
    with facade.http(fresh_address()) as http:
        login = http.post("/horcrux/api/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]})
    assert login.status_code == 200, login.text
    assert login.json()["user"]["username"] == "operator" and login.json()["expires_at"]
    client = httpx.Client(
        base_url=f"{facade.url}/horcrux", timeout=30, headers={"Authorization": f"Bearer {login.json()['token']}"}
    )
    wait_until(lambda: client.get(f"/api/vms/{VM}").status_code == 200, 120, f"guest {VM} in the facade")
    return client


@pytest.fixture(scope="module")
def receiver() -> Any:
    """A local HTTP receiver for webhook deliveries."""
    with Receiver([200]) as running:
        yield running


@pytest.fixture(scope="module")
def webhook(facade: Facade, horcrux: httpx.Client, receiver: Receiver, kubectl: Kubectl) -> str:
    """A webhook (created by the admin) for power and snapshot events, with a secret."""
    events = ["vm.started", "vm.stopped", "snapshot.created", "backup.completed", "backup.failed"]
    with facade.client("admin") as admin:
        made = admin.post(
            f"{facade.url}/horcrux/api/webhooks",
            json={"name": "e2e", "url": receiver.url, "events": events, "secret": SECRET},
        )
    assert made.status_code == 201, made.text
    hook_id = str(made.json()["id"])
    secret = json.loads(kubectl.run("get", "secret", f"horcrux-{hook_id}", "-n", NAMESPACE, "-o", "json").stdout)
    assert set(secret["data"]) == {"secret"}
    return hook_id


def received(receiver: Receiver, event: str, vm_id: str | None = None) -> list[dict[str, Any]]:
    """Signed deliveries of ``event`` (every one's signature checked)."""
    from daytwo.api.webhooks import verify

    found = []
    for got in receiver.received:
        document = json.loads(got.body)
        if document["event_type"] != event or (vm_id is not None and document["data"].get("vm_id") != vm_id):
            continue
        assert verify(SECRET, got.body, got.headers["x-horcrux-signature"]), "bad signature"
        found.append(document)
    return found


def test_vms_come_from_the_proxmoxnode_inventory(horcrux: httpx.Client) -> None:
    listed = horcrux.get("/api/vms", params={"limit": 500})
    assert listed.status_code == 200
    ids = {vm["id"] for vm in listed.json()}
    assert {"100", "101", VM, "110"} <= ids
    vm = horcrux.get(f"/api/vms/{VM}").json()
    assert vm["name"] == "vm-pve1-5" and vm["hypervisor"] == "qemu" and vm["proxmox_node"] == "pve-lab"
    missing = horcrux.get("/api/vms/99999")
    assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND" and missing.json()["request_id"]


def test_stop_and_start_a_vm_with_signed_webhooks(
    horcrux: httpx.Client, webhook: str, receiver: Receiver, facade: Facade
) -> None:
    wait_until(lambda: horcrux.get(f"/api/vms/{VM}").json()["status"] == "running", 90, f"guest {VM} running")
    stopped = horcrux.post(f"/api/vms/{VM}/stop", json={"force": False})
    assert stopped.status_code == 202, stopped.text
    wait_until(lambda: received(receiver, "vm.stopped", VM), 90, "the vm.stopped webhook")
    wait_until(lambda: horcrux.get(f"/api/vms/{VM}").json()["status"] == "stopped", 120, f"guest {VM} stopped")
    assert horcrux.post(f"/api/vms/{VM}/stop").status_code == 409

    started = horcrux.post(f"/api/vms/{VM}/start")
    assert started.status_code == 202
    wait_until(lambda: received(receiver, "vm.started", VM), 90, "the vm.started webhook")
    (event,) = received(receiver, "vm.started", VM)
    assert event["data"]["user"] == "operator" and event["data"]["operation_id"] == started.json()["job_id"]
    with facade.client("admin") as admin:
        deliveries = admin.get(f"{facade.url}/horcrux/api/webhooks/{webhook}/deliveries").json()
    assert {d["event"] for d in deliveries if d["status"] == "success"} >= {"vm.stopped", "vm.started"}


def test_on_demand_snapshot_is_a_snapshotpolicy_run(
    horcrux: httpx.Client, webhook: str, receiver: Receiver, kubectl: Kubectl
) -> None:
    created = horcrux.post(f"/api/vms/{VM}/snapshots", json={"name": "before-upgrade", "description": "e2e"})
    assert created.status_code == 202, created.text
    job = created.json()["job_id"]
    policy = kubectl.get("snapshotpolicy", job, NAMESPACE)
    assert policy["spec"]["targets"] == {"proxmox": {"vmids": [int(VM)]}} and policy["spec"]["runOnCreate"] is True

    def taken() -> bool:
        rows = horcrux.get(f"/api/vms/{VM}/snapshots").json()
        return any(r["id"] == job and r["status"] == "completed" for r in rows)

    wait_until(taken, 120, f"snapshot {job} completed")
    snap = horcrux.get(f"/api/vms/{VM}/snapshots/{job}").json()
    assert snap["name"] == "before-upgrade" and snap["description"] == "e2e" and snap["snapshot_name"]
    tree = horcrux.get(f"/api/vms/{VM}/snapshots/tree").json()
    assert job in json.dumps(tree)
    wait_until(lambda: received(receiver, "snapshot.created"), 60, "the snapshot.created webhook")
    assert received(receiver, "snapshot.created")[0]["data"]["job_id"] == job


def test_vms_and_monitoring_from_the_guest_inventory(horcrux: httpx.Client) -> None:
    """Once the operator has written the guest inventories: usage figures, complete lists, a history."""
    wait_until(
        lambda: horcrux.get("/api/vms").headers.get("x-inventory-complete") == "true",
        120,
        "the VMs from the guest inventories",
    )
    vm = horcrux.get(f"/api/vms/{VM}").json()
    assert vm["memory"] and vm["cpus"] and vm["disk_size"] is not None and isinstance(vm["tags"], list)
    stats = horcrux.get(f"/api/monitoring/vms/{VM}").json()
    assert stats["cpu_usage"] is not None and stats["memory_total"] and stats["network_rx_bytes"] is not None
    assert horcrux.get("/api/monitoring/vms").headers["x-inventory-complete"] == "true"
    assert horcrux.get("/api/monitoring/node").json()["network_rx_bytes"] is not None
    history = horcrux.get("/api/monitoring/history/memory_usage", params={"interval": 1}).json()
    assert history["data"] and all(0 <= point["value"] <= 100 for point in history["data"])
    metrics = horcrux.get("/metrics").text
    assert f'horcrux_vm_memory_total_bytes{{vm_id="{VM}"' in metrics


def test_webhook_test_endpoint_and_unsupported(
    facade: Facade, webhook: str, receiver: Receiver, horcrux: httpx.Client
) -> None:
    with facade.client("admin") as admin:
        tested = admin.post(f"{facade.url}/horcrux/api/webhooks/{webhook}/test")
        assert (
            tested.status_code == 200 and tested.json()["status"] == "success" and tested.json()["response_code"] == 200
        )
        assert SECRET not in admin.get(f"{facade.url}/horcrux/api/webhooks/{webhook}").text
    assert received(receiver, "webhook.test")
    gpu = horcrux.get("/api/gpu/devices")
    assert gpu.status_code == 501 and gpu.json()["error"] == "NOT_IMPLEMENTED"
    metrics = horcrux.get("/metrics")
    assert metrics.status_code == 200 and f'vm_id="{VM}"' in metrics.text
    with facade.client(None) as anonymous:
        assert anonymous.get(f"{facade.url}/horcrux/api/vms").status_code == 401
        assert anonymous.get(f"{facade.url}/horcrux/api/health").json()["status"] == "healthy"
