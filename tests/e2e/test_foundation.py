"""The foundation on the real apiserver: examples, printer columns, explain, operator and facade basics."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from daytwo.crds.kinds import KINDS

from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until

from .conftest import NAMESPACE, condition, wait_for_condition

IMPLEMENTED = {
    "ProxmoxNode",
    "DriftRule",
    "DriftEvent",
    "CloudCredential",
    "AggregateMigration",
    "SnapshotPolicy",
    "RestoreJob",
    "AlertRule",
}


def test_every_kind_has_an_example(examples: dict[str, dict[str, Any]]) -> None:
    assert sorted(examples) == sorted(definition.info.kind for definition in KINDS)


def test_examples_reach_their_honest_conditions(kubectl: Kubectl, examples: dict[str, dict[str, Any]]) -> None:
    """Kinds whose reconciliation has not landed say so; the others are Ready against the stand-ins."""
    for kind in IMPLEMENTED:
        wait_for_condition(kubectl, kind, examples[kind]["metadata"]["name"], "Ready", "True")
    # the example CloudResource names an aws credential the demo has none of: it says so
    wait_for_condition(kubectl, "CloudResource", examples["CloudResource"]["metadata"]["name"], "Ready", "False",
                       reason="CredentialsNotFound")  # fmt: skip
    for kind, obj in examples.items():
        if kind in IMPLEMENTED or kind == "CloudResource":
            continue
        name = obj["metadata"]["name"]
        current = wait_for_condition(kubectl, kind, name, "Ready", "False", reason="NotImplemented")
        assert current["status"]["observedGeneration"] == current["metadata"]["generation"]
        stalled = condition(current, "Stalled")
        assert stalled is not None and stalled["status"] == "True"
        assert condition(current, "Reconciling") is None, "kstatus: Reconciling is present only while True"


def test_get_daytwo_lists_examples_with_printer_columns(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    output = kubectl.run("get", "daytwo", "-A").stdout
    for definition in KINDS:
        assert f"{definition.info.singular}.daytwo.io/" in output, output
    snapshot_policies = kubectl.run("get", "d2sp", "-n", NAMESPACE).stdout.splitlines()
    assert snapshot_policies[0].split() == ["NAME", "SCHEDULE", "POLICY", "TARGETS", "LAST", "SUCCESS", "READY", "AGE"]
    assert "daily_5" in snapshot_policies[1]


def test_explain_describes_every_spec_field(kubectl: Kubectl) -> None:
    for definition in KINDS:
        text = kubectl.run("explain", f"{definition.info.plural}.spec").stdout
        for field_info in definition.spec.model_fields.values():
            alias = field_info.alias
            assert (alias and f"  {alias}\t" in text) or f"  {alias} " in text, (definition.info.kind, alias, text)
        assert "<no description>" not in text, text


def test_reconcile_request_annotation_is_echoed(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    token = str(uuid.uuid4())
    kubectl.run(
        "annotate",
        "--overwrite",
        "d2dr",
        "server-flavor-prod",
        "-n",
        NAMESPACE,
        f"daytwo.io/reconcile-requested-at={token}",
    )
    wait_until(
        lambda: kubectl.get("d2dr", "server-flavor-prod", NAMESPACE)["status"].get("lastHandledReconcileAt") == token,
        30,
        "lastHandledReconcileAt to echo the token",
    )


def test_missing_credentials_then_created(kubectl: Kubectl, operator: DaytwoProcess, examples: dict[str, Any]) -> None:
    policy = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": {"name": "orphan-policy", "namespace": NAMESPACE},
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "not-yet"},
            "targets": {"openstack": {"projects": ["p1"]}},
            "policyName": "daily_3",
        },
    }
    kubectl.apply(json.dumps(policy))
    blocked = wait_for_condition(kubectl, "d2sp", "orphan-policy", "Ready", "False", reason="CredentialsNotFound")
    assert "CloudCredential 'not-yet' does not exist" in condition(blocked, "Ready")["message"]
    events = kubectl.run(
        "get", "events", "-n", NAMESPACE, "--field-selector", "involvedObject.name=orphan-policy", "-o", "json"
    ).stdout
    assert "CredentialsNotFound" in events
    credential = kubectl.get("d2cc", "openstack-prod", NAMESPACE)
    credential["metadata"] = {"name": "not-yet", "namespace": NAMESPACE}
    credential.pop("status")
    kubectl.apply(json.dumps(credential))
    wait_for_condition(kubectl, "d2sp", "orphan-policy", "Ready", "True", reason="Scheduled", timeout=30)
    kubectl.run("delete", "d2sp", "orphan-policy", "-n", NAMESPACE)


def test_secret_with_missing_key_is_reported(
    kubectl: Kubectl, operator: DaytwoProcess, examples: dict[str, Any]
) -> None:
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "half-aws", "namespace": NAMESPACE, "labels": {"daytwo.io/credential": "true"}},
                "stringData": {"accessKeyId": "AKIAHALFKEYEXAMPLE"},
            }
        )
    )
    credential = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": "half", "namespace": NAMESPACE},
        "spec": {"provider": "aws", "secretRef": {"name": "half-aws"}, "aws": {"region": "eu-west-1"}},
    }
    kubectl.apply(json.dumps(credential))
    blocked = wait_for_condition(kubectl, "d2cc", "half", "Ready", "False", reason="KeyMissing")
    assert "secretAccessKey" in condition(blocked, "Ready")["message"]
    assert "AKIAHALFKEYEXAMPLE" not in json.dumps(blocked["status"])
    kubectl.run("delete", "d2cc", "half", "-n", NAMESPACE)


def test_credential_in_use_is_not_deleted(kubectl: Kubectl, operator: DaytwoProcess, examples: dict[str, Any]) -> None:
    credential = kubectl.get("d2cc", "openstack-prod", NAMESPACE)
    credential["metadata"] = {"name": "in-use", "namespace": NAMESPACE}
    credential.pop("status")
    kubectl.apply(json.dumps(credential))
    rule = kubectl.get("d2dr", "server-flavor-prod", NAMESPACE)
    rule["metadata"] = {"name": "uses-in-use", "namespace": NAMESPACE}
    rule["spec"]["target"]["credentialsRef"]["name"] = "in-use"
    rule.pop("status")
    kubectl.apply(json.dumps(rule))
    wait_until(
        lambda: "daytwo.io/finalizer" in kubectl.get("d2cc", "in-use", NAMESPACE)["metadata"].get("finalizers", []),
        30,
        "the operator's finalizer on the credential",
    )
    kubectl.run("delete", "d2cc", "in-use", "-n", NAMESPACE, "--wait=false")
    wait_until(lambda: "in use by DriftRule/uses-in-use" in operator.log(), 30, "the operator to refuse deletion")
    assert kubectl.get("d2cc", "in-use", NAMESPACE)["metadata"].get("deletionTimestamp")
    kubectl.run("delete", "d2dr", "uses-in-use", "-n", NAMESPACE)
    wait_until(
        lambda: kubectl.run("get", "d2cc", "in-use", "-n", NAMESPACE, check=False).returncode != 0,
        60,
        "the unreferenced credential to be deleted",
    )


def test_operator_logs_are_json_with_object_reference(operator: DaytwoProcess, examples: dict[str, Any]) -> None:
    lines = [line for line in operator.log().splitlines() if line.startswith("{")]
    assert lines, operator.log()[-2000:]
    records = [json.loads(line) for line in lines]
    assert any(
        record.get("object", {}).get("namespace") == NAMESPACE and record["object"].get("name") for record in records
    )


def test_operator_liveness(operator: DaytwoProcess) -> None:
    with urllib.request.urlopen(f"{operator.url}/healthz", timeout=5) as response:
        assert response.status == 200


def test_facade_health_and_openapi(facade: DaytwoProcess) -> None:
    with urllib.request.urlopen(f"{facade.url}/health", timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "ok" and body["kubernetes"] == "reachable"
    with urllib.request.urlopen(f"{facade.url}/openapi.json", timeout=10) as response:
        assert "/health" in json.loads(response.read())["paths"]
    with urllib.request.urlopen(f"{facade.url}/docs", timeout=10) as response:
        assert b"swagger" in response.read().lower()


def test_facade_metrics_count_requests_by_route(facade: DaytwoProcess) -> None:
    """/metrics (the chart's ServiceMonitor target) is Prometheus text with per-route request counts."""
    urllib.request.urlopen(f"{facade.url}/health", timeout=10).close()
    with urllib.request.urlopen(f"{facade.url}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    assert 'daytwo_api_requests_total{method="GET",route="/health",status="200"}' in text
    assert "process_resident_memory_bytes" in text
