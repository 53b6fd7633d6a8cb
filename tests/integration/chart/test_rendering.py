"""What the chart renders: least-privilege RBAC, restricted Pods, optional parts only when asked for."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.helm import CHART, render

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "*"}


def by_name(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` called ``name``."""
    (found,) = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    return found


def grants(rules: list[dict[str, Any]], group: str, resource: str) -> set[str]:
    """Verbs the rules grant on one resource."""
    return {
        verb for rule in rules if group in rule["apiGroups"] and resource in rule["resources"] for verb in rule["verbs"]
    }


def test_no_wildcards_anywhere() -> None:
    for obj in render(values_files=[CHART / "ci" / "everything-values.yaml"], kinds={"ClusterRole", "Role"}):
        for rule in obj["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], obj["metadata"]["name"]


def test_operator_cluster_role_is_least_privilege() -> None:
    rules = by_name(render(), "ClusterRole", "daytwo-operator")["rules"]
    assert grants(rules, "", "secrets") == {"get", "list", "watch"}
    assert grants(rules, "", "configmaps") == {"get", "list", "create", "update", "delete"}  # drift baselines
    assert grants(rules, "daytwo.io", "snapshotpolicies") == {"get", "list", "watch", "patch"}
    assert grants(rules, "daytwo.io", "snapshotpolicies/status") == {"get", "patch", "update"}
    assert grants(rules, "daytwo.io", "driftevents") == {"get", "list", "watch", "patch", "create", "delete"}
    assert grants(rules, "", "events") == grants(rules, "events.k8s.io", "events") == {"create", "patch"}
    assert grants(rules, "apiextensions.k8s.io", "customresourcedefinitions") == {"get", "list", "watch"}
    groups = {group for rule in rules for group in rule["apiGroups"]}
    assert groups == {"", "daytwo.io", "events.k8s.io", "apiextensions.k8s.io"}
    assert {r for rule in rules if rule["apiGroups"] == [""] for r in rule["resources"]} == {
        "secrets",
        "configmaps",
        "events",
    }


def test_peering_only_with_standbys() -> None:
    plain = render()
    assert not [obj for obj in plain if "kopf" in str(obj)]
    deployment = by_name(plain, "Deployment", "daytwo-operator")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    assert "DAYTWO_PEERING_NAME" not in {
        env["name"] for env in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }

    peered = render(values=["operator.standbyReplicas=2"])
    deployment = by_name(peered, "Deployment", "daytwo-operator")
    assert deployment["spec"]["replicas"] == 3 and deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DAYTWO_PEERING_NAME"] == "daytwo"
    assert by_name(peered, "CustomResourceDefinition", "clusterkopfpeerings.kopf.dev")
    peering = by_name(peered, "ClusterKopfPeering", "daytwo")
    assert "post-install" in peering["metadata"]["annotations"]["helm.sh/hook"]
    rules = by_name(peered, "ClusterRole", "daytwo-operator")["rules"]
    assert grants(rules, "kopf.dev", "clusterkopfpeerings") == {"get", "list", "watch", "patch"}


def test_watch_namespaces_narrow_rbac_to_roles() -> None:
    objects = render(values=["operator.watchNamespaces={team-a,team-b}", "operator.standbyReplicas=1"])
    cluster_rules = by_name(objects, "ClusterRole", "daytwo-operator")["rules"]
    assert grants(cluster_rules, "", "secrets") == set()
    assert grants(cluster_rules, "", "namespaces") == {"list", "watch"}
    roles = [obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"] == "daytwo-operator"]
    assert sorted(role["metadata"]["namespace"] for role in roles) == ["team-a", "team-b"]
    assert grants(roles[0]["rules"], "kopf.dev", "kopfpeerings") == {"get", "list", "watch", "patch"}
    assert sorted(obj["metadata"]["namespace"] for obj in objects if obj["kind"] == "KopfPeering") == [
        "team-a",
        "team-b",
    ]
    deployment = by_name(objects, "Deployment", "daytwo-operator")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DAYTWO_NAMESPACES"] == '["team-a","team-b"]'


def test_facade_reads_and_impersonates_only() -> None:
    rules = by_name(render(), "ClusterRole", "daytwo-facade")["rules"]
    assert grants(rules, "daytwo.io", "driftrules") == {"get", "list", "watch"}
    assert grants(rules, "", "users") == grants(rules, "", "groups") == {"impersonate"}
    assert grants(rules, "", "serviceaccounts") == set()
    (groups,) = [rule for rule in rules if "groups" in rule["resources"]]
    assert groups["resourceNames"] == ["daytwo:viewer", "daytwo:operator", "daytwo:admin", "daytwo:superadmin"]
    assert not any(set(rule["verbs"]) & WRITE_VERBS for rule in rules)
    state = by_name(render(), "Role", "daytwo-facade-state")  # its own users/keys/audit, in its namespace only
    assert state["metadata"]["namespace"] == "daytwo-system"
    assert grants(state["rules"], "", "secrets") == {"get", "list", "watch", "create", "patch", "delete"}


def test_facade_callers_are_bound_by_role_group() -> None:
    objects = render()
    bound = {
        obj["subjects"][0]["name"]: obj["roleRef"]["name"]
        for obj in objects
        if obj["kind"] == "RoleBinding"
        and obj["metadata"]["name"].startswith("daytwo-facade-")
        and obj["roleRef"]["kind"] == "ClusterRole"
    }
    assert bound == {
        "daytwo:viewer": "daytwo-viewer",
        "daytwo:operator": "daytwo-editor",
        "daytwo:admin": "daytwo-admin",
        "daytwo:superadmin": "daytwo-admin",
    }
    writer = by_name(objects, "Role", "daytwo-facade-credential-writer")
    assert grants(writer["rules"], "", "secrets") == {"create", "patch", "delete"}  # never read back


def test_user_roles_aggregate() -> None:
    objects = render()
    labels = {
        name: by_name(objects, "ClusterRole", name)["metadata"]["labels"]
        for name in ("daytwo-viewer", "daytwo-editor", "daytwo-admin")
    }
    assert labels["daytwo-viewer"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert labels["daytwo-editor"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert labels["daytwo-admin"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    viewer = by_name(objects, "ClusterRole", "daytwo-viewer")["rules"]
    assert not any(set(rule["verbs"]) & WRITE_VERBS for rule in viewer)


def test_pods_are_restricted() -> None:
    for obj in render(values_files=[CHART / "ci" / "everything-values.yaml"], kinds={"Deployment"}):
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
            assert container["livenessProbe"]["httpGet"]["path"] in ("/healthz", "/health")
            assert obj["spec"]["template"]["spec"]["serviceAccountName"].startswith("daytwo-")
            assert "@sha256:" in container["image"]


def test_operator_liveness_endpoint_matches_probe() -> None:
    deployment = by_name(render(), "Deployment", "daytwo-operator")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DAYTWO_LIVENESS_ENDPOINT"] == "http://0.0.0.0:8080/healthz"
    assert container["command"] == ["daytwo-operator"] and container["ports"][0]["containerPort"] == 8080
    facade = by_name(render(), "Deployment", "daytwo-facade")["spec"]["template"]["spec"]["containers"][0]
    assert facade["command"] == ["daytwo-api"] and facade["readinessProbe"]["httpGet"]["path"] == "/ready"
    facade_env = {e["name"]: e for e in facade["env"]}
    assert facade_env["DAYTWO_API_NAMESPACE"]["value"] == "daytwo-system"
    jwt = facade_env["DAYTWO_API_JWT_SECRET"]
    assert "value" not in jwt and jwt["valueFrom"]["secretKeyRef"] == {"name": "daytwo-facade-jwt", "key": "jwt-secret"}


def test_optional_parts_only_when_enabled() -> None:
    kinds = {obj["kind"] for obj in render()}
    assert {"ServiceMonitor", "Ingress", "DriftRule"}.isdisjoint(kinds)
    assert {"NetworkPolicy", "Service", "Deployment", "ServiceAccount"} <= kinds
    everything = {obj["kind"] for obj in render(values_files=[CHART / "ci" / "everything-values.yaml"])}
    assert {"ServiceMonitor", "Ingress", "DriftRule", "ClusterKopfPeering"} <= everything
    assert "NetworkPolicy" not in {obj["kind"] for obj in render(values=["networkPolicy.enabled=false"])}


def test_network_policies() -> None:
    objects = render(values_files=[CHART / "ci" / "everything-values.yaml"])
    operator = by_name(objects, "NetworkPolicy", "daytwo-operator")["spec"]
    assert operator["ingress"] == [] and set(operator["policyTypes"]) == {"Ingress", "Egress"}
    peers = [peer.get("ipBlock", {}).get("cidr") for rule in operator["egress"] for peer in rule["to"]]
    assert {"10.96.0.1/32", "203.0.113.0/24", "198.51.100.10/32"} <= set(peers)
    facade = by_name(objects, "NetworkPolicy", "daytwo-facade")["spec"]
    assert facade["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert facade["ingress"][0]["from"][0]["namespaceSelector"]


def test_chart_crds_are_the_generated_ones() -> None:
    crds = render(kinds={"CustomResourceDefinition"})
    assert sorted(crd["metadata"]["name"] for crd in crds) == sorted(
        f"{path.stem.split('_', 1)[1]}.daytwo.io" for path in (CHART / "crds").glob("daytwo.io_*.yaml")
    )


def test_restore_settings_reach_operator_and_facade_alike() -> None:
    """pf9's /restore/config (facade) must report what the operator does: one values block feeds both."""
    objects = render(values=["restore.dryRun=true", "restore.cleanupVolumes=true"])

    def env(name: str, prefix: str) -> dict[str, str]:
        container = by_name(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        return {e["name"][len(prefix) :]: e["value"] for e in container["env"] if e["name"].startswith(prefix)}

    expected = {"ENABLED": "true", "DRY_RUN": "true", "CLEANUP_VOLUMES": "true"}
    assert env("daytwo-operator", "DAYTWO_RESTORE_") == expected
    assert env("daytwo-facade", "DAYTWO_API_RESTORE_") == expected
