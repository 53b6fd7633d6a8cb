"""Drift detection end to end: the operator inventories the OpenStack stand-in and records changes.

Changes are made behind the API's back through the stand-in's control endpoint (as an admin with
the CLI would), then a reconcile request makes every rule evaluate at once.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from daytwo.operator.backends.openstack import OpenStackConnectionParams, ServerSpec, connect

from tests.e2e.conftest import condition, wait_for_condition
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import OPENSTACK_PORT, Standin, example_secret, openstack_credential

pytestmark = pytest.mark.e2e

NS = "drift-e2e"
PROJECT = "Default-proj-3"
STANDIN = f"http://127.0.0.1:{OPENSTACK_PORT}"
#: Rules use a shared listing for a few seconds; wait it out before asking for a fresh pass.
LISTING_TTL = 6


def rule(name: str, resource_type: str, field: str, severity: str, **extra: Any) -> dict[str, Any]:
    """A DriftRule on the stand-in, limited to one project."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftRule",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "target": {
                "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
                "resourceType": resource_type,
                "projects": [PROJECT],
            },
            "field": field,
            "severity": severity,
            "intervalSeconds": 3600,
            **extra,
        },
    }


def backend(project: str = "admin") -> Any:
    """daytwo's own OpenStack client on the stand-in (scoped to ``project``), to find and create resources."""
    password = example_secret("cloudcredential-openstack.yaml", "openstack-admin")["password"]
    return connect(
        OpenStackConnectionParams(
            auth_url=f"{STANDIN}/identity/v3", username="admin", password=password, project_name=project
        )
    )


def edit(collection: str, object_id: str, changes: dict[str, Any] | None = None) -> None:
    """Change (or, without changes, delete) an object in the stand-in behind the API's back."""
    method = "PATCH" if changes is not None else "DELETE"
    body = json.dumps(changes).encode() if changes is not None else None
    request = urllib.request.Request(f"{STANDIN}/_standin/objects/{collection}/{object_id}", body, method=method)
    urllib.request.urlopen(request, timeout=10).close()


def events(kubectl: Kubectl, rule_name: str | None = None) -> list[dict[str, Any]]:
    """DriftEvents in the namespace (of one rule)."""
    selector = ["-l", f"daytwo.io/drift-rule={rule_name}"] if rule_name else []
    return list(json.loads(kubectl.run("get", "d2de", "-n", NS, *selector, "-o", "json").stdout)["items"])


def evaluate_now(kubectl: Kubectl, *names: str) -> None:
    """Ask every named rule for a pass and wait until each has made it."""
    time.sleep(LISTING_TTL)
    token = f"t{time.monotonic_ns()}"
    for name in names:
        kubectl.run("annotate", "--overwrite", "d2dr", name, "-n", NS, f"daytwo.io/reconcile-requested-at={token}")
    for name in names:
        wait_until(
            lambda name=name: kubectl.get("d2dr", name, NS).get("status", {}).get("lastHandledReconcileAt") == token,
            60,
            f"DriftRule {name} to evaluate",
        )


@pytest.fixture(scope="module")
def drift_rules(kubectl: Kubectl, operator: DaytwoProcess, standins: list[Standin]) -> Iterator[list[str]]:
    """Namespace, credential and four rules, all evaluated once (their baseline)."""
    kubectl.run("create", "namespace", NS)
    rules = [
        rule("server-flavor", "server", "flavor_id", "warning", description="flavor changed"),
        rule("server-status", "server", "status", "critical"),
        rule("volume-size", "volume", "size", "warning"),
        rule("volume-server", "volume", "server_id", "critical"),
    ]
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [*openstack_credential(NS), *rules]}))
    names = [item["metadata"]["name"] for item in rules]
    for name in names:
        ready = wait_for_condition(kubectl, "d2dr", name, "Ready", "True", namespace=NS, timeout=90)
        assert ready["status"]["resourcesEvaluated"] > 0, ready["status"]
        assert ready["status"]["baselineRef"] == f"{name}-drift-baseline"
    assert events(kubectl) == [], "a first sight is a baseline, not drift"
    yield names
    kubectl.run("delete", "namespace", NS, "--wait=false")


def project_servers() -> list[Any]:
    """Servers of the test project, not on the GPU host other tests move around."""
    project = next(p for p in backend().list_projects() if p.name == PROJECT)
    return [
        server
        for server in backend().list_servers(project_id=project.id)
        if server.status == "ACTIVE" and server.host != "h100-host-004.cloud.local"
    ]


def test_changes_raise_exactly_the_expected_events(kubectl: Kubectl, drift_rules: list[str]) -> None:
    servers = project_servers()
    target = servers[0]
    flavors = [f for f in backend().list_flavors() if f.name != target.flavor.name and f.id]
    project = next(p for p in backend().list_projects() if p.name == PROJECT)
    volume = next(v for v in backend().list_volumes(project_id=project.id) if v.attachments)
    edit("servers", target.id, {"flavor_id": flavors[0].id})
    edit("volumes", volume.id, {"size": volume.size_gb + 10})
    evaluate_now(kubectl, *drift_rules)
    [flavor_event] = events(kubectl, "server-flavor")
    spec = flavor_event["spec"]
    assert (spec["resourceId"], spec["resourceName"], spec["severity"]) == (target.id, target.name, "warning")
    assert json.loads(spec["oldValue"]) == target.flavor.name and spec["change"] == "Modified"
    assert spec["projectName"] == PROJECT and spec["domainName"] == "Default"
    assert spec["description"] == "flavor changed"
    assert flavor_event["metadata"]["ownerReferences"][0]["name"] == "server-flavor"
    [size_event] = events(kubectl, "volume-size")
    assert (json.loads(size_event["spec"]["oldValue"]), json.loads(size_event["spec"]["newValue"])) == (
        volume.size_gb,
        volume.size_gb + 10,
    )
    assert events(kubectl, "server-status") == [] and events(kubectl, "volume-server") == []
    status = kubectl.get("d2dr", "server-flavor", NS)["status"]
    assert (status["openEvents"], status["unacknowledgedEvents"]) == (1, 1)
    printed = kubectl.run("get", "d2de", "-n", NS).stdout
    assert "warning" in printed and target.name in printed


def test_deleted_resource_is_recorded_once(kubectl: Kubectl, drift_rules: list[str]) -> None:
    gone = project_servers()[-1]
    edit("servers", gone.id)
    evaluate_now(kubectl, *drift_rules)
    evaluate_now(kubectl, *drift_rules)
    deleted = [e for e in events(kubectl) if e["spec"]["change"] == "Deleted"]
    assert sorted((e["spec"]["ruleRef"], e["spec"]["resourceId"]) for e in deleted) == [
        ("server-flavor", gone.id),
        ("server-status", gone.id),
    ]
    assert all("newValue" not in e["spec"] for e in deleted)
    assert {e["spec"]["severity"] for e in deleted} == {"warning", "critical"}


def test_acknowledge_one_and_in_bulk(kubectl: Kubectl, drift_rules: list[str]) -> None:
    servers = project_servers()
    for server in servers[1:4]:
        edit("servers", server.id, {"status": "ERROR"})
    evaluate_now(kubectl, "server-status")
    open_events = [e for e in events(kubectl, "server-status") if e["spec"]["change"] == "Modified"]
    assert len(open_events) == 3
    assert {json.loads(e["spec"]["newValue"]) for e in open_events} == {"ERROR"}
    first, *rest = (e["metadata"]["name"] for e in open_events)
    ack = {"spec": {"acknowledgement": {"acknowledged": True, "by": "ops@example.com", "note": "known outage"}}}
    kubectl.run("patch", "d2de", first, "-n", NS, "--type=merge", "-p", json.dumps(ack))
    acked = wait_for_condition(kubectl, "d2de", first, "Ready", "True", reason="Acknowledged", namespace=NS)
    assert condition(acked, "Ready")["message"] == "acknowledged by ops@example.com"
    total = len(events(kubectl, "server-status"))
    wait_until(
        lambda: kubectl.get("d2dr", "server-status", NS)["status"].get("unacknowledgedEvents") == total - 1,
        30,
        "the rule's unacknowledged count to drop by one",
    )
    for name in rest:  # bulk: what the facade's bulk acknowledge does, one patch per event
        kubectl.run("patch", "d2de", name, "-n", NS, "--type=merge", "-p", json.dumps(ack))
    wait_until(
        lambda: kubectl.get("d2dr", "server-status", NS)["status"].get("unacknowledgedEvents") == total - 3,
        30,
        "the rule's unacknowledged count to drop by three",
    )
    rejected = kubectl.run(
        "patch", "d2de", first, "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"newValue": '"x"'}}), check=False
    )
    assert rejected.returncode != 0 and "only spec.acknowledgement may change" in rejected.stderr


def test_disabled_rule_raises_nothing(kubectl: Kubectl, drift_rules: list[str]) -> None:
    kubectl.run("patch", "d2dr", "volume-size", "-n", NS, "--type=merge", "-p", '{"spec":{"enabled":false}}')
    wait_for_condition(kubectl, "d2dr", "volume-size", "Ready", "True", reason="Disabled", namespace=NS)
    before = len(events(kubectl, "volume-size"))
    project = next(p for p in backend().list_projects() if p.name == PROJECT)
    for volume in backend().list_volumes(project_id=project.id)[:3]:
        edit("volumes", volume.id, {"size": volume.size_gb + 1})
    evaluate_now(kubectl, "volume-size")
    assert len(events(kubectl, "volume-size")) == before


def test_restart_neither_duplicates_nor_loses_drift(
    kubectl: Kubectl, operator: DaytwoProcess, drift_rules: list[str]
) -> None:
    before = {e["metadata"]["name"] for e in events(kubectl)}
    operator.kill()
    changed = project_servers()[4]
    flavors = [f for f in backend().list_flavors() if f.name != changed.flavor.name and f.id]
    edit("servers", changed.id, {"flavor_id": flavors[-1].id})  # while the operator is down
    operator.start()
    evaluate_now(kubectl, "server-flavor", "server-status", "volume-server")
    after = {e["metadata"]["name"] for e in events(kubectl)}
    new = [e for e in events(kubectl, "server-flavor") if e["metadata"]["name"] not in before]
    assert [e["spec"]["resourceId"] for e in new] == [changed.id]
    assert after - before == {new[0]["metadata"]["name"]}


def test_new_server_booted_from_a_volume_raises_nothing(kubectl: Kubectl, drift_rules: list[str]) -> None:
    """pf9's false positive: a new boot volume's server_id goes from empty to set."""
    cloud = backend(PROJECT)
    image = cloud.list_images()[0]
    before = {e["metadata"]["name"] for e in events(kubectl)}
    volume = cloud.create_volume(name="drift-boot", size_gb=10, image_id=image.id)
    wait_until(lambda: cloud.get_volume(volume.id).status == "available", 60, "the boot volume")
    evaluate_now(kubectl, "volume-server")  # the new volume is a baseline, unattached
    flavor = next(f for f in cloud.list_flavors() if f.id)
    server = cloud.create_server(ServerSpec(name="drift-new", flavor_id=str(flavor.id), boot_volume_id=volume.id))
    wait_until(lambda: cloud.get_volume(volume.id).attachments, 60, "the boot volume to be attached")
    evaluate_now(kubectl, "server-flavor", "server-status", "volume-server")
    raised = [e["spec"] for e in events(kubectl) if e["metadata"]["name"] not in before]
    assert raised == [], "creating a VM raised drift"
    assert server.id
