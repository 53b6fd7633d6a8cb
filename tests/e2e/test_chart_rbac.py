"""The chart's RBAC on a real apiserver: the operator works with exactly its ClusterRole, and not without a rule.

A control plane of its own (module scope) keeps the session's admin-credentialed operator out of the
way: here the only operator is `daytwo-operator` authenticated with the chart's ServiceAccount token.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import EXAMPLES
from tests.harness.controlplane import LocalControlPlane
from tests.harness.helm import render
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

RELEASE_NAMESPACE = "daytwo-system"
OPERATOR_SA = f"system:serviceaccount:{RELEASE_NAMESPACE}:daytwo-operator"
FACADE_SA = f"system:serviceaccount:{RELEASE_NAMESPACE}:daytwo-facade"
RBAC_KINDS = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount"}


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalControlPlane]:
    """A second local control plane, for this module only."""
    with LocalControlPlane(state_dir=tmp_path_factory.mktemp("chart-cluster")) as started:
        yield started


@pytest.fixture(scope="module")
def admin(plane: LocalControlPlane) -> Kubectl:
    """kubectl as admin, with the chart's CRDs, ServiceAccounts and RBAC applied (nothing else)."""
    kubectl = Kubectl(plane.kubeconfig)
    kubectl.run("create", "namespace", RELEASE_NAMESPACE)
    objects = render(namespace=RELEASE_NAMESPACE, kinds=RBAC_KINDS)
    kubectl.apply(yaml.safe_dump_all(objects))
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "app.kubernetes.io/part-of=daytwo")
    return kubectl


def token_kubeconfig(plane: LocalControlPlane, admin: Kubectl, account: str, path: Path) -> Path:
    """A kubeconfig that authenticates as a ServiceAccount with a fresh bound token."""
    token = admin.run("create", "token", account, "-n", RELEASE_NAMESPACE, "--duration=1h").stdout.strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": plane.server, "certificate-authority": str(plane.ca_file)}}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": account, "context": {"cluster": "c", "user": account}}],
        "current-context": account,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def examples_in(namespace: str) -> list[dict[str, Any]]:
    """Every object of examples/ moved into ``namespace`` (the Namespace object itself left out)."""
    objects = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] != "Namespace":
                moved = copy.deepcopy(doc)
                moved["metadata"]["namespace"] = namespace
                objects.append(moved)
    return objects


def daytwo_objects(admin: Kubectl, namespace: str) -> list[dict[str, Any]]:
    """All daytwo objects in a namespace."""
    items: list[dict[str, Any]] = json.loads(admin.run("get", "daytwo", "-n", namespace, "-o", "json").stdout)["items"]
    return items


def all_reconciled(admin: Kubectl, namespace: str, expected: int) -> bool:
    """Every daytwo object has observedGeneration == generation and a Ready condition."""
    items = daytwo_objects(admin, namespace)
    return len(items) == expected and all(
        item.get("status", {}).get("observedGeneration") == item["metadata"]["generation"]
        and any(c["type"] == "Ready" for c in item["status"].get("conditions", []))
        for item in items
    )


def start_operator(kubeconfig: Path, log: Path, namespaces: list[str] | None = None) -> DaytwoProcess:
    """`daytwo-operator` authenticated as the operator ServiceAccount; cluster-wide like the chart's default."""
    env = {"DAYTWO_RESYNC_SECONDS": "5", "DAYTWO_RETRY_DELAY_SECONDS": "2", "DAYTWO_LOG_FORMAT": "plain"}
    if namespaces:
        env["DAYTWO_NAMESPACES"] = json.dumps(namespaces)
    return DaytwoProcess("daytwo-operator", kubeconfig, log, env=env).start()


def can_i(admin: Kubectl, user: str, *args: str) -> bool:
    """`kubectl auth can-i ... --as user`."""
    result = admin.run("auth", "can-i", *args, f"--as={user}", check=False)
    return result.stdout.strip() == "yes"


def test_operator_reconciles_with_exactly_the_chart_rbac(
    plane: LocalControlPlane, admin: Kubectl, tmp_path: Path
) -> None:
    """With the chart's ClusterRole the operator observes, patches status and posts Events; no 403 anywhere."""
    namespace = "chart-rbac"
    admin.run("create", "namespace", namespace)
    objects = examples_in(namespace)
    admin.apply(yaml.safe_dump_all(objects))
    kubeconfig = token_kubeconfig(plane, admin, "daytwo-operator", tmp_path / "operator.kubeconfig")
    operator = start_operator(kubeconfig, tmp_path / "operator.log")
    try:
        expected = sum(1 for obj in objects if obj["apiVersion"].startswith("daytwo.io/"))
        wait_until(lambda: all_reconciled(admin, namespace, expected), 90, "every object reconciled")
        events = json.loads(admin.run("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
        assert any(event["involvedObject"]["apiVersion"].startswith("daytwo.io/") for event in events)
        log = operator.log()
        assert "Forbidden" not in log and " 403" not in log, log[-3000:]
    finally:
        operator.stop()


def test_operator_without_the_status_rule_cannot_reconcile(
    plane: LocalControlPlane, admin: Kubectl, tmp_path: Path
) -> None:
    """The same operator with the /status rule removed from its ClusterRole writes no status and logs a 403."""
    namespace = "chart-rbac-nostatus"
    (role,) = [
        obj
        for obj in render(namespace=RELEASE_NAMESPACE, kinds={"ClusterRole"})
        if obj["metadata"]["name"] == "daytwo-operator"
    ]
    crippled = copy.deepcopy(role)
    crippled["rules"] = [rule for rule in role["rules"] if not any(r.endswith("/status") for r in rule["resources"])]
    assert len(crippled["rules"]) == len(role["rules"]) - 1
    admin.apply(json.dumps(crippled))
    try:
        wait_until(
            lambda: not can_i(admin, OPERATOR_SA, "patch", "driftrules", "--subresource=status", "-n", namespace),
            30,
            "the status rule to be gone",
        )
        admin.run("create", "namespace", namespace)
        objects = [obj for obj in examples_in(namespace) if obj["kind"] in ("Secret", "CloudCredential", "DriftRule")]
        admin.apply(yaml.safe_dump_all(objects))
        kubeconfig = token_kubeconfig(plane, admin, "daytwo-operator", tmp_path / "operator.kubeconfig")
        operator = start_operator(kubeconfig, tmp_path / "operator.log")
        try:
            wait_until(lambda: "Forbidden" in operator.log() or " 403" in operator.log(), 60, "a 403 in the log")
            assert all("status" not in item for item in daytwo_objects(admin, namespace))
        finally:
            operator.stop()
    finally:
        admin.apply(json.dumps(role))


def test_operator_service_account_can_do_only_what_it_needs(admin: Kubectl) -> None:
    """Read Secrets but never write them; patch status; create DriftEvents; keep drift baselines and
    inventories in ConfigMaps; never delete desired state."""
    allowed = [
        ("get", "secrets", "-n", "any"),
        ("list", "snapshotpolicies", "-A"),
        ("patch", "snapshotpolicies", "-n", "any"),
        ("patch", "snapshotpolicies", "--subresource=status", "-n", "any"),
        ("create", "driftevents", "-n", "any"),
        ("delete", "driftevents", "-n", "any"),
        ("create", "events", "-n", "any"),
        ("create", "events.events.k8s.io", "-n", "any"),
        ("watch", "customresourcedefinitions"),
        ("get", "configmaps", "-n", "any"),
        ("create", "configmaps", "-n", "any"),
        ("delete", "configmaps", "-n", "any"),
    ]
    denied = [
        ("create", "secrets", "-n", "any"),
        ("update", "secrets", "-n", "any"),
        ("delete", "snapshotpolicies", "-n", "any"),
        ("create", "snapshotpolicies", "-n", "any"),
        ("update", "cloudcredentials", "-n", "any"),
        ("watch", "configmaps", "-n", "any"),
        ("list", "pods", "-A"),
        ("create", "customresourcedefinitions"),
        ("impersonate", "users"),
        ("get", "clusterkopfpeerings.kopf.dev"),
    ]
    assert [args for args in allowed if not can_i(admin, OPERATOR_SA, *args)] == []
    assert [args for args in denied if can_i(admin, OPERATOR_SA, *args)] == []


def test_facade_impersonates_and_reads_but_never_writes(
    plane: LocalControlPlane, admin: Kubectl, tmp_path: Path
) -> None:
    """The facade reads every kind and impersonates callers; as a caller it gets only the caller's rights."""
    for args in [
        ("impersonate", "users"),
        ("impersonate", "groups/daytwo:operator"),
        ("list", "driftrules", "-A"),
        ("watch", "restorejobs", "-A"),
        ("get", "proxmoxnodes", "-n", "any"),
    ]:
        assert can_i(admin, FACADE_SA, *args), args
    for args in [
        ("create", "driftrules", "-n", "any"),
        ("get", "secrets", "-n", "any"),
        ("delete", "restorejobs"),
        ("impersonate", "groups/system:masters"),
        ("impersonate", "serviceaccounts"),
    ]:
        assert not can_i(admin, FACADE_SA, *args), args

    facade = Kubectl(token_kubeconfig(plane, admin, "daytwo-facade", tmp_path / "facade.kubeconfig"))
    assert facade.run("get", "driftrules", "-A").returncode == 0
    as_alice = facade.run("get", "driftrules", "-n", "default", "--as=alice", check=False)
    assert as_alice.returncode != 0 and "forbidden" in as_alice.stderr.lower()
    admin.run("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "default")
    wait_until(
        lambda: facade.run("get", "driftrules", "-n", "default", "--as=alice", check=False).returncode == 0,
        30,
        "alice, bound to view, to read DriftRules through the facade's impersonation",
    )


def test_user_roles_aggregate_into_view_edit_admin(admin: Kubectl) -> None:
    """view reads daytwo objects; edit changes them and acknowledges DriftEvents but cannot create them; admin can."""
    namespace = "team-roles"
    admin.run("create", "namespace", namespace)
    for user, role in (("viewer-user", "view"), ("editor-user", "edit"), ("admin-user", "admin")):
        admin.run("create", "rolebinding", user, f"--clusterrole={role}", f"--user={user}", "-n", namespace)
    expectations = [
        ("viewer-user", ("list", "snapshotpolicies"), True),
        ("viewer-user", ("create", "snapshotpolicies"), False),
        ("editor-user", ("create", "snapshotpolicies"), True),
        ("editor-user", ("patch", "driftevents"), True),
        ("editor-user", ("create", "driftevents"), False),
        ("editor-user", ("patch", "snapshotpolicies", "--subresource=status"), False),
        ("admin-user", ("create", "driftevents"), True),
        ("admin-user", ("deletecollection", "driftrules"), True),
    ]

    wrong: list[tuple[str, tuple[str, ...]]] = []

    def aggregated() -> bool:
        wrong[:] = [(u, a) for u, a, want in expectations if can_i(admin, u, *a, "-n", namespace) != want]
        return not wrong

    try:
        wait_until(aggregated, 30, "daytwo-viewer/-editor/-admin to aggregate into view/edit/admin")
    except TimeoutError:
        pytest.fail(f"unexpected can-i answers: {wrong}")


def test_namespaced_install_works_with_roles_only(plane: LocalControlPlane, admin: Kubectl, tmp_path: Path) -> None:
    """operator.watchNamespaces: Roles in those namespaces and a ClusterRole that reads only CRDs and namespaces."""
    namespace = "chart-rbac-roles"
    admin.run("create", "namespace", namespace)
    (default_role,) = [
        obj
        for obj in render(namespace=RELEASE_NAMESPACE, kinds={"ClusterRole"})
        if obj["metadata"]["name"] == "daytwo-operator"
    ]
    objects = render(
        namespace=RELEASE_NAMESPACE,
        kinds={"ClusterRole", "Role", "RoleBinding"},
        values=[f"operator.watchNamespaces={{{namespace}}}", "facade.enabled=false", "rbac.userRoles=false"],
    )
    assert sorted(obj["kind"] for obj in objects) == ["ClusterRole", "Role", "RoleBinding"]
    admin.apply(yaml.safe_dump_all(objects))
    try:
        wait_until(lambda: not can_i(admin, OPERATOR_SA, "get", "secrets", "-n", "chart-rbac"), 30, "narrowed RBAC")
        assert can_i(admin, OPERATOR_SA, "get", "secrets", "-n", namespace)
        assert can_i(admin, OPERATOR_SA, "list", "namespaces")
        workload = [obj for obj in examples_in(namespace) if obj["kind"] in ("Secret", "CloudCredential", "DriftRule")]
        admin.apply(yaml.safe_dump_all(workload))
        kubeconfig = token_kubeconfig(plane, admin, "daytwo-operator", tmp_path / "operator.kubeconfig")
        operator = start_operator(kubeconfig, tmp_path / "operator.log", namespaces=[namespace])
        try:
            wait_until(lambda: all_reconciled(admin, namespace, 2), 90, "both objects reconciled")
            log = operator.log()
            assert "Forbidden" not in log and " 403" not in log and "Not enough permissions" not in log, log[-3000:]
        finally:
            operator.stop()
    finally:
        admin.run("delete", "role,rolebinding", "daytwo-operator", "-n", namespace)
        admin.apply(json.dumps(default_role))
