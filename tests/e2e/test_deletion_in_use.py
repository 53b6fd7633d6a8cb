"""Deleting a CloudCredential or ProxmoxNode that other objects still name: the object says why at once
(Ready=False and Reconciling=True, reason InUse, naming the users), one Warning Event per change of the
blocking users, status.users following the users, and the deletion completing once the last user goes.

The credentials point at Secrets that do not exist: whether a credential works has nothing to do with
whether it may be deleted, and no stand-in is needed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until

from .conftest import condition

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NS = "inuse-e2e"
API = "daytwo.io/v1alpha1"


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl, operator: DaytwoProcess) -> Iterator[str]:
    """An empty namespace for these tests."""
    kubectl.run("create", "namespace", NS)
    yield NS
    kubectl.run("delete", "namespace", NS, "--wait=false")


def _obj(kind: str, name: str, spec: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": API, "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": spec})


def credential(name: str) -> str:
    """An AWS CloudCredential whose Secret does not exist (a distinct name per test)."""
    return _obj(
        "CloudCredential",
        name,
        {"provider": "aws", "secretRef": {"name": f"absent-{uuid.uuid4()}"}, "aws": {"region": "eu-west-1"}},
    )


def proxmox_node(name: str) -> str:
    """A ProxmoxNode whose token Secret does not exist."""
    return _obj(
        "ProxmoxNode",
        name,
        {"host": "127.0.0.1", "port": 9, "tokenSecretRef": {"name": f"absent-{uuid.uuid4()}"}, "timeoutSeconds": 2},
    )


def drift_rule(name: str, credential_name: str) -> str:
    """A DriftRule on the credential."""
    target = {"credentialsRef": {"kind": "CloudCredential", "name": credential_name}, "resourceType": "server"}
    return _obj("DriftRule", name, {"target": target, "field": "flavor_id", "severity": "info"})


def snapshot_policy(name: str, kind: str, credential_name: str) -> str:
    """A yearly SnapshotPolicy naming the credential."""
    targets = {"proxmox": {"vmids": [100]}} if kind == "ProxmoxNode" else {"openstack": {"volumeIds": ["v-1"]}}
    spec = {
        "credentialsRef": {"kind": kind, "name": credential_name},
        "targets": targets,
        "schedule": "0 0 1 1 *",
        "retention": {"keepLast": 1},
    }
    return _obj("SnapshotPolicy", name, spec)


def exists(kubectl: Kubectl, kind: str, name: str) -> bool:
    """Whether the object exists in the test namespace."""
    found = kubectl.run("get", kind, name, "-n", NS, "--ignore-not-found", "-o", "name", check=False)
    return found.stdout.strip() != ""


def in_use_events(kubectl: Kubectl, name: str) -> list[dict[str, Any]]:
    """The InUse Events of an object, oldest first."""
    selector = f"involvedObject.name={name},reason=InUse"
    listed = kubectl.run("get", "events", "-n", NS, "--field-selector", selector, "-o", "json").stdout
    return sorted(json.loads(listed)["items"], key=lambda event: event["metadata"]["creationTimestamp"])


def wait_for_finalizer(kubectl: Kubectl, kind: str, name: str) -> None:
    """Until the operator has put its finalizer on the object (before that, deletion is immediate)."""
    wait_until(
        lambda: "daytwo.io/finalizer" in (kubectl.get(kind, name, NS)["metadata"].get("finalizers") or []),
        60,
        f"the finalizer on {kind}/{name}",
    )


def wait_for_in_use(kubectl: Kubectl, kind: str, name: str, listed: str) -> dict[str, Any]:
    """Until Ready=False InUse names ``listed``; returns the object."""
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen["obj"] = kubectl.get(kind, name, NS)
        ready = condition(seen["obj"], "Ready")
        return bool(ready and ready["reason"] == "InUse" and listed in ready["message"])

    wait_until(check, 60, f"{kind}/{name} Ready=False InUse naming {listed!r}")
    return seen["obj"]


def users(kubectl: Kubectl, name: str) -> list[dict[str, str]]:
    """status.users of a CloudCredential."""
    return list(kubectl.get("d2cc", name, NS).get("status", {}).get("users") or [])


def test_credential_deletion_waits_for_its_users_and_says_why(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(credential("busy"))
    wait_for_finalizer(kubectl, "d2cc", "busy")
    rules = ["rule-a", "rule-b", "rule-c"]
    for rule in rules:
        kubectl.apply(drift_rule(rule, "busy"))
    kubectl.apply(snapshot_policy("policy-d", "CloudCredential", "busy"))
    expected = [{"kind": "DriftRule", "name": rule} for rule in rules]
    expected.append({"kind": "SnapshotPolicy", "name": "policy-d"})
    wait_until(lambda: users(kubectl, "busy") == expected, 60, "status.users listing the four users")

    kubectl.run("delete", "d2cc", "busy", "-n", NS, "--wait=false")
    named = "DriftRule/rule-a, DriftRule/rule-b, DriftRule/rule-c and 1 more"
    blocked = wait_for_in_use(kubectl, "d2cc", "busy", named)
    assert blocked["metadata"]["deletionTimestamp"]
    ready, reconciling = condition(blocked, "Ready"), condition(blocked, "Reconciling")
    assert ready is not None and ready["status"] == "False" and "delete or repoint them" in ready["message"]
    assert reconciling is not None and reconciling["status"] == "True" and reconciling["reason"] == "InUse"
    assert condition(blocked, "Stalled") is None
    assert blocked["status"]["observedGeneration"] == blocked["metadata"]["generation"]
    wait_until(lambda: len(in_use_events(kubectl, "busy")) >= 1, 60, "a Warning Event saying why")
    first = in_use_events(kubectl, "busy")
    assert len(first) == 1 and first[0]["type"] == "Warning" and "and 1 more" in first[0]["message"]

    kubectl.run("delete", "d2dr", "rule-a", "-n", NS)
    wait_for_in_use(kubectl, "d2cc", "busy", "DriftRule/rule-b, DriftRule/rule-c and SnapshotPolicy/policy-d;")
    wait_until(lambda: len(users(kubectl, "busy")) == 3, 60, "status.users without the deleted user")
    wait_until(lambda: len(in_use_events(kubectl, "busy")) >= 2, 60, "a Warning Event for the change")
    assert len(in_use_events(kubectl, "busy")) == 2, "one Event per change of the blocking users, not per retry"

    kubectl.run("delete", "d2dr", "rule-b", "rule-c", "-n", NS)
    kubectl.run("delete", "d2sp", "policy-d", "-n", NS)
    wait_until(lambda: not exists(kubectl, "d2cc", "busy"), 60, "the credential deleted once unused")


def test_status_users_follows_users_added_and_removed(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(credential("followed"))
    kubectl.apply(credential("other"))
    wait_for_finalizer(kubectl, "d2cc", "followed")
    kubectl.apply(drift_rule("follower", "followed"))
    wait_until(lambda: users(kubectl, "followed") == [{"kind": "DriftRule", "name": "follower"}], 60, "the user listed")
    kubectl.apply(drift_rule("follower", "other"))  # repointed
    wait_until(lambda: users(kubectl, "followed") == [], 60, "the repointed user gone from the old credential")
    wait_until(lambda: users(kubectl, "other") == [{"kind": "DriftRule", "name": "follower"}], 60, "and on the new")
    kubectl.run("delete", "d2dr", "follower", "-n", NS)
    wait_until(lambda: users(kubectl, "other") == [], 60, "the deleted user gone")
    kubectl.run("delete", "d2cc", "followed", "other", "-n", NS)
    assert not exists(kubectl, "d2cc", "followed") and not exists(kubectl, "d2cc", "other")


def test_proxmoxnode_deletion_waits_for_its_users_and_says_why(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(proxmox_node("pve-busy"))
    wait_for_finalizer(kubectl, "d2pn", "pve-busy")
    kubectl.apply(snapshot_policy("guests", "ProxmoxNode", "pve-busy"))
    wait_until(lambda: exists(kubectl, "d2sp", "guests"), 30, "the user created")

    kubectl.run("delete", "d2pn", "pve-busy", "-n", NS, "--wait=false")
    blocked = wait_for_in_use(kubectl, "d2pn", "pve-busy", "ProxmoxNode is in use by SnapshotPolicy/guests;")
    reconciling = condition(blocked, "Reconciling")
    assert reconciling is not None and reconciling["status"] == "True"
    wait_until(lambda: len(in_use_events(kubectl, "pve-busy")) == 1, 60, "a Warning Event saying why")

    kubectl.run("delete", "d2sp", "guests", "-n", NS)
    wait_until(lambda: not exists(kubectl, "d2pn", "pve-busy"), 60, "the node deleted once unused")
    assert len(in_use_events(kubectl, "pve-busy")) == 1
