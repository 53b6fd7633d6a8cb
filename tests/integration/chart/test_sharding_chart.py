"""The chart's sharding (README, Sharding): a StatefulSet of shards with their settings, Lease RBAC in the
release namespace only (and only when sharded), standbys refused next to shards, out-of-range values refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness.helm import CHART, helm, render

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)

SHARDED = CHART / "ci" / "sharded-values.yaml"


def env_of(workload: dict[str, Any]) -> dict[str, Any]:
    """The operator container's environment, by name (value, or valueFrom)."""
    container = workload["spec"]["template"]["spec"]["containers"][0]
    return {env["name"]: env.get("value", env.get("valueFrom")) for env in container["env"]}


def test_one_shard_is_the_deployment_without_lease_rights() -> None:
    objects = render()
    assert [obj["kind"] for obj in objects if obj["metadata"]["name"] == "daytwo-operator"].count("Deployment") == 1
    assert not [obj for obj in objects if obj["kind"] == "StatefulSet"]
    assert "coordination.k8s.io" not in str([obj for obj in objects if obj["kind"] in {"Role", "ClusterRole"}])
    assert "DAYTWO_SHARDS" not in env_of(next(obj for obj in objects if obj["kind"] == "Deployment"))


def test_shards_are_a_statefulset_whose_pods_know_their_ordinal_and_the_lease_settings() -> None:
    objects = render(namespace="ops", values_files=[SHARDED])
    assert not [obj for obj in objects if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "daytwo-operator"]
    (workload,) = [obj for obj in objects if obj["kind"] == "StatefulSet"]
    assert workload["metadata"]["name"] == "daytwo-operator"
    assert workload["spec"]["replicas"] == 3 and workload["spec"]["podManagementPolicy"] == "Parallel"
    env = env_of(workload)
    assert env["DAYTWO_SHARDS"] == "3" and env["DAYTWO_SHARD_NAMESPACE"] == "ops"
    assert env["DAYTWO_SHARD_LEASE_PREFIX"] == "daytwo-shard"
    assert (env["DAYTWO_SHARD_LEASE_SECONDS"], env["DAYTWO_SHARD_GRACE_SECONDS"]) == ("20", "10")
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}, "the shard id is the Pod's ordinal"
    assert "DAYTWO_SHARD_ID" not in env and "DAYTWO_PEERING_NAME" not in env


def test_shards_may_get_update_only_their_own_leases_in_the_release_namespace() -> None:
    objects = render(namespace="ops", values_files=[SHARDED])
    roles = [obj for obj in objects if obj["kind"] in {"Role", "ClusterRole"}]
    lease_rules = [
        (obj["kind"], obj["metadata"].get("namespace"), rule)
        for obj in roles
        for rule in obj["rules"]
        if "coordination.k8s.io" in rule["apiGroups"]
    ]
    assert {(kind, namespace) for kind, namespace, _ in lease_rules} == {("Role", "ops")}
    rules = [rule for _, _, rule in lease_rules]
    assert all(rule["resources"] == ["leases"] for rule in rules)
    named = [rule for rule in rules if rule.get("resourceNames")]
    assert [sorted(rule["verbs"]) for rule in named] == [["get", "update"]]
    assert named[0]["resourceNames"] == ["daytwo-shard-0", "daytwo-shard-1", "daytwo-shard-2"]
    assert {verb for rule in rules if not rule.get("resourceNames") for verb in rule["verbs"]} == {"create", "list"}
    (binding,) = [
        obj for obj in objects if obj["kind"] == "RoleBinding" and obj["metadata"]["name"].endswith("-shards")
    ]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "daytwo-operator", "namespace": "ops"}]


def test_standbys_next_to_shards_are_refused_with_what_to_change() -> None:
    result = helm(
        "template", "daytwo", str(CHART), "--set", "operator.sharding.shards=2", "--set", "operator.standbyReplicas=1",
        check=False,
    )  # fmt: skip
    assert result.returncode != 0 and "set operator.standbyReplicas to 0" in result.stderr


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ("operator:\n  sharding:\n    shards: 0\n", "/operator/sharding/shards"),
        ("operator:\n  sharding:\n    shards: two\n", "/operator/sharding/shards"),
        ("operator:\n  sharding:\n    leaseSeconds: 1\n", "/operator/sharding/leaseSeconds"),
        ("operator:\n  sharding:\n    shard: 2\n", "additional properties 'shard' not allowed"),
    ],
)
def test_bad_sharding_values_are_refused(tmp_path: Path, values: str, complaint: str) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(values)
    result = helm("lint", "--strict", str(CHART), "-f", str(path), check=False)
    assert result.returncode != 0 and complaint in result.stdout + result.stderr
