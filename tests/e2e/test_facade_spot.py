"""The spot manager API over HTTP: the real facade, apiserver, operator and OpenStack stand-in (seed demo).

The example OpenStack credential gets inventory kind ``compute`` (aggregates, hypervisors, flavors);
the GPU views are read from that inventory, and migrations are AggregateMigrations the operator runs.
This file moves only l40-host-003 (the other e2e tests use H100/A100/RTX-A6000 hosts).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until

from .conftest import NAMESPACE

pytestmark = pytest.mark.e2e

CREDENTIAL = "openstack-prod"
HOST = "l40-host-003"
MOVE = {"host": HOST, "source_aggregate": "L40-n3", "target_aggregate": "L40-n3-spot"}


def resync(kubectl: Kubectl, token: str) -> None:
    """Ask the operator to sync the credential's inventory now."""
    kubectl.run(
        "annotate", "--overwrite", "d2cc", CREDENTIAL, "-n", NAMESPACE, f"daytwo.io/reconcile-requested-at={token}"
    )


def data_of(response: httpx.Response, status: int = 200) -> Any:
    """The envelope's data, after checking the status and the envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "success"
    return body["data"]


@pytest.fixture(scope="module")
def spot(kubectl: Kubectl, examples: dict[str, Any], facade: Facade) -> httpx.Client:
    """The operator's client on /spot, once the credential's inventory holds the compute records."""
    patch = {"spec": {"inventory": {"kinds": ["vms", "storage", "networks", "compute"]}}}
    kubectl.run("patch", "d2cc", CREDENTIAL, "-n", NAMESPACE, "--type=merge", "-p", json.dumps(patch))
    client = facade.client("operator")
    client.base_url = httpx.URL(f"{facade.url}/spot")

    def synced() -> bool:
        return client.get("/api/gpu-types").status_code == 200

    wait_until(synced, 90, "the compute inventory in the facade")
    return client


def test_gpu_types_and_aggregates_come_from_the_inventory(spot: httpx.Client) -> None:
    types = {t["name"]: t["aggregates"] for t in data_of(spot.get("/api/gpu-types"))}
    assert set(types) == {"H100", "A100", "L40", "RTX-A6000"}
    assert types["H100"]["ondemand"] == ["H100-n3", "H100-n3-NVLink"]
    assert types["L40"] == {
        "ondemand": ["L40-n3"],
        "spot": ["L40-n3-spot"],
        "runpod": ["L40-n3-runpod"],
        "contracts": ["L40-n3-contract-initech"],
    }
    aggregates = data_of(spot.get("/api/aggregates/L40"))
    ondemand = aggregates["ondemand"]
    assert ondemand["name"] == "L40-n3" and HOST in [h["hostname"] for h in ondemand["hosts"]]
    summary = ondemand["gpu_summary"]
    assert summary["gpu_capacity"] == 5 * 8 and summary["gpu_used"] > 0  # the stand-in's seed oversubscribes
    assert summary["gpu_usage_ratio"] == f"{summary['gpu_used']}/{summary['gpu_capacity']}"
    assert aggregates["gpu_overview"]["gpu_usage_ratio"].endswith("/80")  # 10 L40 hosts x 8
    spot_pool = data_of(spot.get("/api/aggregates/L40/spot"))
    assert [h["hostname"] for h in spot_pool["hosts"]] == ["l40-host-006", "l40-host-007"]
    (contract,) = data_of(spot.get("/api/contract-aggregates/L40"))
    assert contract["aggregate"] == "L40-n3-contract-initech" and contract["tenant_info"]["primary_tenant"]


def test_host_vms_and_target(spot: httpx.Client) -> None:
    vms = data_of(spot.get("/api/host-vms/l40-host-006.cloud.local"))
    assert vms["hostname"] == "l40-host-006" and vms["total_vms"] == 3
    assert all(vm["flavor"] and vm["status"] == "ACTIVE" and vm["tenant"] for vm in vms["vms"])
    target = data_of(spot.post("/api/get-target-aggregate", json={"hostname": "l40-host-006", "gpu_type": "L40"}))
    assert target["recommended_aggregate"] == "L40-n3" and "3 running VM(s)" in target["reasoning"]
    assert spot.get("/api/host-vms/no-such-host").status_code == 404


def test_preview_execute_poll_log_and_clear(spot: httpx.Client, facade: Facade, kubectl: Kubectl) -> None:
    with facade.client("viewer") as viewer:
        refused = viewer.post(f"{facade.url}/spot/api/execute-migration", json=MOVE)
        assert refused.status_code == 403 and refused.json()["status"] == "error"

    preview = data_of(spot.post("/api/preview-migration", json=MOVE))
    assert preview["commands"] == [
        f"openstack aggregate add host L40-n3-spot {HOST}",
        f"openstack aggregate remove host L40-n3 {HOST}",
    ]
    assert preview["validation"] == {"source_exists": True, "target_exists": True, "host_in_source": True}
    assert preview["running_vms"] == 3
    wait_until(lambda: spot.get(f"/api/migrations/{preview['migration']}").status_code == 404, 30, "dry run removed")

    accepted = data_of(spot.post("/api/execute-migration", json=MOVE), status=202)
    job = accepted["job_id"]
    migration = kubectl.get("d2am", job, NAMESPACE)
    assert migration["spec"]["requestedBy"] == "operator" and migration["spec"]["dryRun"] is False

    def finished() -> bool:
        return data_of(spot.get(f"/api/migrations/{job}"))["phase"] == "Succeeded"

    wait_until(finished, 60, f"migration {job}")
    done = data_of(spot.get(f"/api/migrations/{job}"))
    assert done["commands_executed"] == preview["commands"] and done["execution_time"].endswith("s")

    log = [entry for entry in data_of(spot.get("/api/command-log")) if entry["migration"] == job]
    assert [entry["command"] for entry in log] == preview["commands"]
    assert {entry["user"] for entry in log} == {"operator"} and {entry["status"] for entry in log} == {"success"}

    cleared = spot.post("/api/clear-log")
    assert cleared.status_code == 200 and cleared.json()["message"] == "Command log cleared successfully"
    assert job in cleared.json()["data"]["migrations"]
    wait_until(lambda: data_of(spot.get("/api/command-log")) == [], 30, "command log hidden")
    assert len(kubectl.get("d2am", job, NAMESPACE)["status"]["commandLog"]) == 2  # hidden, not deleted

    resync(kubectl, f"spot-{job}")

    def moved() -> bool:
        hosts = [h["hostname"] for h in data_of(spot.get("/api/aggregates/L40/spot"))["hosts"]]
        return HOST in hosts

    wait_until(moved, 60, f"{HOST} in L40-n3-spot in the inventory")
    target = data_of(spot.post("/api/get-target-aggregate", json={"hostname": HOST}))
    assert target["current_aggregates"] == ["L40-n3-spot"] and target["recommended_aggregate"] == "L40-n3"


def test_unsupported_and_anonymous(spot: httpx.Client, facade: Facade) -> None:
    answer = spot.post("/api/preview-runpod-launch", json={"hostname": HOST})
    assert answer.status_code == 501 and "Hyperstack" in answer.json()["error"] and answer.json()["request_id"]
    with facade.client(None) as anonymous:
        assert anonymous.get(f"{facade.url}/spot/api/gpu-types").status_code == 401
        assert anonymous.post(f"{facade.url}/spot/api/clear-log").status_code == 401


def test_compute_inventory_is_openstack_only(kubectl: Kubectl, spot: httpx.Client) -> None:
    manifest = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": "aws-compute", "namespace": NAMESPACE},
        "spec": {
            "provider": "aws",
            "secretRef": {"name": "aws-creds"},
            "aws": {"region": "us-east-1"},
            "inventory": {"enabled": True, "kinds": ["vms", "compute"]},
        },
    }
    refused = kubectl.run("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert refused.returncode != 0 and "inventory kind compute" in refused.stderr
