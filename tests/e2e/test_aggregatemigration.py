"""AggregateMigration end to end: the real operator moves hosts in the OpenStack stand-in (seed demo).

Each test uses its own host of the demo estate so the tests (and the example, which previews
h100-host-004) never see each other's moves. Failures are injected through the stand-in's
fault API; "exactly once" is read from its request journal.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from daytwo.operator.backends.openstack import OpenStackBackend, OpenStackConnectionParams, connect

from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import OPENSTACK_PORT, example_secret

from .conftest import NAMESPACE, condition, wait_for_condition

STANDIN = f"http://127.0.0.1:{OPENSTACK_PORT}"


def standin(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the stand-in's /_standin control API."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{STANDIN}/_standin/{path}", data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def action_statuses(aggregate_id: str) -> list[int]:
    """HTTP statuses of every add/remove-host call on one aggregate, oldest first."""
    found = standin("GET", f"journal?path=/os-aggregates/{aggregate_id}/action$&limit=10000")
    return [entry["status"] for entry in found.get("entries", []) if entry["method"] == "POST"]


@pytest.fixture(scope="module")
def cloud(examples: dict[str, dict[str, Any]]) -> OpenStackBackend:
    """The stand-in as the admin in examples/cloudcredential-openstack.yaml sees it (to check membership)."""
    secret = example_secret("cloudcredential-openstack.yaml", "openstack-admin")
    return connect(
        OpenStackConnectionParams(
            auth_url=f"{STANDIN}/identity/v3",
            region="RegionOne",
            project_name="admin",
            username=secret["username"],
            password=secret["password"],
        )
    )


@pytest.fixture(autouse=True)
def no_faults() -> Any:
    """Every test starts and ends without injected faults."""
    standin("DELETE", "faults")
    yield
    standin("DELETE", "faults")


def migrate(kubectl: Kubectl, name: str, host: str, source: str, target: str, **spec: Any) -> None:
    """Apply an AggregateMigration executing by default (dryRun false)."""
    body = {
        "credentialsRef": {"kind": "CloudCredential", "name": "openstack-prod"},
        "host": host,
        "sourceAggregate": source,
        "targetAggregate": target,
        "dryRun": False,
        "requestedBy": "e2e@daytwo.io",
        **spec,
    }
    manifest = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "AggregateMigration",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": body,
    }
    kubectl.apply(json.dumps(manifest))


def hosts_of(cloud: OpenStackBackend, aggregate: str) -> tuple[str, ...]:
    """Current members of an aggregate."""
    return cloud.get_aggregate(aggregate).hosts


def steps(obj: dict[str, Any]) -> dict[str, str]:
    """Step name -> state."""
    return {step["name"]: step["state"] for step in obj["status"].get("steps") or []}


def test_example_previews_without_writing(kubectl: Kubectl, examples: dict[str, Any], cloud: OpenStackBackend) -> None:
    name = examples["AggregateMigration"]["metadata"]["name"]
    obj = wait_for_condition(kubectl, "d2am", name, "Ready", "True", reason="PreviewReady")
    plan = obj["status"]["plan"]
    assert plan["computeHost"] == "h100-host-004"
    assert plan["commands"] == [
        "openstack aggregate add host H100-n3-spot h100-host-004",
        "openstack aggregate remove host H100-n3 h100-host-004",
    ]
    assert all(check["ok"] for check in plan["checks"]) and len(plan["checks"]) == 5
    assert plan["availabilityZoneBefore"] == plan["availabilityZoneAfter"] == "az-west"
    assert condition(obj, "Planned")["status"] == "True" and not obj["status"].get("steps")
    assert "h100-host-004" in hosts_of(cloud, "H100-n3") and "h100-host-004" not in hosts_of(cloud, "H100-n3-spot")
    assert "Previewed" in kubectl.run("get", "d2am", name, "-n", NAMESPACE).stdout


def test_preview_refuses_moving_running_vms_out_of_spot(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    migrate(kubectl, "busy-spot", "a100-host-006.cloud.local", "A100-n3-spot", "A100-n3", dryRun=True)
    obj = wait_for_condition(kubectl, "d2am", "busy-spot", "Ready", "False", reason="RunningVMs")
    assert condition(obj, "Planned")["reason"] == "RunningVMs" and condition(obj, "Stalled") is None
    assert obj["status"]["plan"]["runningVms"] > 0 and "force: true" in condition(obj, "Ready")["message"]


def test_execute_adds_then_removes_once_retrying_a_transient_error(
    kubectl: Kubectl, examples: dict[str, Any], cloud: OpenStackBackend
) -> None:
    source, target = cloud.get_aggregate("H100-n3").id, cloud.get_aggregate("H100-n3-spot").id
    before = len(action_statuses(source)), len(action_statuses(target))
    # 502: the backend repeats a POST only on 429/503 (where Nova did not act), so this reaches the step retry
    standin("POST", "faults", {"path": f"/os-aggregates/{target}/action$", "method": "POST", "status": 502, "times": 1})
    migrate(kubectl, "execute", "h100-host-002", "H100-n3", "H100-n3-spot")
    obj = wait_for_condition(kubectl, "d2am", "execute", "Succeeded", "True", reason="Migrated")
    assert condition(obj, "Ready")["status"] == "True" and condition(obj, "Reconciling") is None
    assert "h100-host-002" in hosts_of(cloud, "H100-n3-spot") and "h100-host-002" not in hosts_of(cloud, "H100-n3")
    assert action_statuses(target)[before[1] :] == [502, 200], "retried after the 502, added once"
    assert action_statuses(source)[before[0] :] == [200], "removed once, after the add"
    assert steps(obj) == {"add-host/H100-n3-spot": "Succeeded", "remove-host/H100-n3": "Succeeded"}
    log = obj["status"]["commandLog"]
    assert [(e["command"], e["status"]) for e in log] == [
        ("openstack aggregate add host H100-n3-spot h100-host-002", "error"),
        ("openstack aggregate add host H100-n3-spot h100-host-002", "success"),
        ("openstack aggregate remove host H100-n3 h100-host-002", "success"),
    ]
    assert all(e["user"] == "e2e@daytwo.io" and "durationMs" in e and e["timestamp"] for e in log)
    kubectl.run("annotate", "--overwrite", "d2am", "execute", "-n", NAMESPACE, "daytwo.io/reconcile-requested-at=t1")
    wait_until(
        lambda: kubectl.get("d2am", "execute", NAMESPACE)["status"].get("lastHandledReconcileAt") == "t1", 30, "echo"
    )
    assert len(action_statuses(target)) - before[1] == 2 and len(action_statuses(source)) - before[0] == 1


def test_host_already_in_target_succeeds_without_calls(
    kubectl: Kubectl, examples: dict[str, Any], cloud: OpenStackBackend
) -> None:
    source, target = cloud.get_aggregate("H100-n3").id, cloud.get_aggregate("H100-n3-spot").id
    before = len(action_statuses(source)) + len(action_statuses(target))
    migrate(kubectl, "in-place", "h100-host-006", "H100-n3", "H100-n3-spot")
    obj = wait_for_condition(kubectl, "d2am", "in-place", "Ready", "True", reason="AlreadyInPlace")
    assert condition(obj, "Succeeded")["status"] == "True" and obj["status"]["plan"]["commands"] == []
    assert set(steps(obj).values()) == {"Skipped"} and not obj["status"].get("commandLog")
    assert len(action_statuses(source)) + len(action_statuses(target)) == before


def test_missing_aggregate_is_refused(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    migrate(kubectl, "missing-target", "h100-host-005", "H100-n3", "H100-n3-nope")
    obj = wait_for_condition(kubectl, "d2am", "missing-target", "Ready", "False", reason="TargetAggregateNotFound")
    assert condition(obj, "Stalled")["status"] == "True" and "H100-n3-nope" in condition(obj, "Ready")["message"]
    assert not obj["status"].get("steps")


def test_availability_zone_conflict_refused_in_preflight(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    migrate(kubectl, "az-preflight", "h100-host-003", "az-east", "az-west")
    obj = wait_for_condition(kubectl, "d2am", "az-preflight", "Ready", "False", reason="AvailabilityZoneConflict")
    assert "az-east, az-west" in condition(obj, "Ready")["message"] and not obj["status"].get("steps")


def test_availability_zone_conflict_from_nova_fails_the_add(
    kubectl: Kubectl, examples: dict[str, Any], cloud: OpenStackBackend
) -> None:
    """With the check off, Nova answers 409 on the add; nothing changed, so nothing is undone."""
    migrate(kubectl, "az-nova", "h100-host-001", "az-east", "az-west", checkAvailabilityZone=False)
    obj = wait_for_condition(kubectl, "d2am", "az-nova", "RolledBack", "True")
    assert condition(obj, "Succeeded")["status"] == "False" and "Conflict" in condition(obj, "Succeeded")["message"]
    assert steps(obj) == {"add-host/az-west": "Failed", "remove-host/az-east": "Pending"}
    assert "h100-host-001" in hosts_of(cloud, "az-east") and "h100-host-001" not in hosts_of(cloud, "az-west")


def test_failure_on_add_step_stops(kubectl: Kubectl, examples: dict[str, Any], cloud: OpenStackBackend) -> None:
    target = cloud.get_aggregate("H100-n3-NVLink").id
    standin("POST", "faults", {"path": f"/os-aggregates/{target}/action$", "method": "POST", "status": 403, "times": 1})
    migrate(kubectl, "add-fails", "h100-host-005", "H100-n3", "H100-n3-NVLink", onFailure="Stop")
    obj = wait_for_condition(kubectl, "d2am", "add-fails", "Stalled", "True", reason="StepFailed")
    assert condition(obj, "Succeeded")["reason"] == "StepFailed" and condition(obj, "Ready")["status"] == "False"
    assert steps(obj) == {"add-host/H100-n3-NVLink": "Failed", "remove-host/H100-n3": "Pending"}
    assert "h100-host-005" in hosts_of(cloud, "H100-n3") and "h100-host-005" not in hosts_of(cloud, "H100-n3-NVLink")
    assert obj["status"]["commandLog"][-1]["status"] == "error"


def test_failure_on_remove_step_rolls_back(kubectl: Kubectl, examples: dict[str, Any], cloud: OpenStackBackend) -> None:
    source, target = cloud.get_aggregate("A100-n3-contract-globex").id, cloud.get_aggregate("A100-n3-spot").id
    before = len(action_statuses(source)), len(action_statuses(target))
    standin("POST", "faults", {"path": f"/os-aggregates/{source}/action$", "method": "POST", "status": 403, "times": 1})
    migrate(kubectl, "remove-fails", "a100-host-010", "A100-n3-contract-globex", "A100-n3-spot")
    obj = wait_for_condition(kubectl, "d2am", "remove-fails", "RolledBack", "True", reason="RolledBack")
    assert condition(obj, "Succeeded")["status"] == "False" and condition(obj, "Ready")["reason"] == "RolledBack"
    assert steps(obj) == {
        "add-host/A100-n3-spot": "Succeeded",
        "remove-host/A100-n3-contract-globex": "Failed",
        "rollback/remove-host/A100-n3-spot": "Succeeded",
    }
    assert "a100-host-010" in hosts_of(cloud, "A100-n3-contract-globex")
    assert "a100-host-010" not in hosts_of(cloud, "A100-n3-spot")
    assert action_statuses(source)[before[0] :] == [403]
    assert action_statuses(target)[before[1] :] == [200, 200], "added, then removed by the rollback"


def test_operator_killed_between_steps_finishes_exactly_once(
    kubectl: Kubectl, examples: dict[str, Any], operator: DaytwoProcess, cloud: OpenStackBackend
) -> None:
    """The remove hangs after the add finished; a second migration of the host is refused meanwhile; the
    operator is killed, restarted, and every add/remove has happened exactly once."""
    source, target = cloud.get_aggregate("RTX-A6000-n3-spot").id, cloud.get_aggregate("RTX-A6000-n3").id
    before = len(action_statuses(source)), len(action_statuses(target))
    standin("POST", "faults", {"path": f"/os-aggregates/{source}/action$", "method": "POST", "hang": 120, "times": 1})
    migrate(kubectl, "crash", "rtx-a6000-host-007", "RTX-A6000-n3-spot", "RTX-A6000-n3")
    wait_until(
        lambda: steps(kubectl.get("d2am", "crash", NAMESPACE)).get("remove-host/RTX-A6000-n3-spot") == "Running",
        60,
        "the remove step to be recorded Running",
    )
    migrate(kubectl, "crash-twin", "rtx-a6000-host-007.cloud.local", "RTX-A6000-n3-spot", "RTX-A6000-n3")
    twin = wait_for_condition(kubectl, "d2am", "crash-twin", "Ready", "False", reason="HostBusy")
    assert "crash" in condition(twin, "Ready")["message"] and not twin["status"].get("steps")
    operator.kill()
    standin("DELETE", "faults")  # releases the hung request: it may still land, after its client died
    operator.start()
    obj = wait_for_condition(kubectl, "d2am", "crash", "Succeeded", "True", reason="Migrated", timeout=90)
    assert steps(obj) == {"add-host/RTX-A6000-n3": "Succeeded", "remove-host/RTX-A6000-n3-spot": "Succeeded"}
    assert "rtx-a6000-host-007" in hosts_of(cloud, "RTX-A6000-n3")
    assert "rtx-a6000-host-007" not in hosts_of(cloud, "RTX-A6000-n3-spot")
    assert action_statuses(target)[before[1] :].count(200) == 1, "added exactly once"
    assert action_statuses(source)[before[0] :].count(200) == 1, "removed exactly once"
    twin = wait_for_condition(kubectl, "d2am", "crash-twin", "Succeeded", "True", reason="AlreadyInPlace", timeout=90)
    assert action_statuses(source)[before[0] :].count(200) == 1 and action_statuses(target)[before[1] :].count(200) == 1
