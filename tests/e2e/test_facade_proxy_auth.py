"""Dashboards behind an auth proxy, and anonymous access, on the real facade and apiserver (issue 24 item 2).

One facade trusts 127.0.0.1 as its auth proxy (the test client connects from there) and gives the pmi
API an anonymous viewer; another trusts only 192.0.2.1. A ValidatingAdmissionPolicy in the test
namespace refuses SnapshotPolicies named ``whoami-*`` with a message naming the user and groups the
apiserver saw, so the test reads the impersonated identity from Kubernetes itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.controlplane import LocalControlPlane
from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until

pytestmark = pytest.mark.timeout(600)

NS = "daytwo-proxy-auth-e2e"
#: the untrusting facade's own namespace (each facade signs its users with its own JWT secret)
OTHER_NS = "daytwo-proxy-auth-e2e-b"
ROLES = {"dash-admins": "admin", "dash-viewers": "viewer"}
ALICE = {"X-Forwarded-User": "alice", "X-Forwarded-Groups": "dash-viewers,dash-admins"}
POLICIES = "/platform9/snapshot-policies"
PMI_NODES = "/pmi/api/proxmox/nodes"
PMI_START = "/pmi/api/proxmox/nodes/pve1/resources/100/start"


@pytest.fixture(scope="module")
def trusting(
    cluster: LocalControlPlane, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Facade]:
    """A facade trusting 127.0.0.1 as its auth proxy, with an anonymous viewer on pmi."""
    env = {
        "DAYTWO_API_AUTH_PROXY_ADDRESSES": "127.0.0.1/32",
        "DAYTWO_API_AUTH_PROXY_GROUP_ROLES": json.dumps(ROLES),
        "DAYTWO_API_ANONYMOUS_ROLE_PMI": "viewer",
    }
    running = Facade.start(cluster.kubeconfig, kubectl, NS, Path(tmp_path_factory.mktemp("proxy-facade")), env=env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def untrusting(
    cluster: LocalControlPlane, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Facade]:
    """A facade whose auth proxy is some other address (192.0.2.1): the test client is not it."""
    env = {"DAYTWO_API_AUTH_PROXY_ADDRESSES": "192.0.2.1", "DAYTWO_API_AUTH_PROXY_GROUP_ROLES": json.dumps(ROLES)}
    running = Facade.start(cluster.kubeconfig, kubectl, OTHER_NS, Path(tmp_path_factory.mktemp("untrusting")), env=env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def whoami(kubectl: Kubectl, trusting: Facade) -> Iterator[None]:
    """A ValidatingAdmissionPolicy echoing the requesting user and groups for SnapshotPolicies ``whoami-*`` in NS."""
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "daytwo-e2e-whoami"},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["daytwo.io"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE"],
                        "resources": ["snapshotpolicies"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": "!object.metadata.name.startsWith('whoami-')",
                    "messageExpression": "'whoami user=' + request.userInfo.username + ' groups=' + "
                    "request.userInfo.groups.join(',')",
                    "reason": "Invalid",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "daytwo-e2e-whoami"},
        "spec": {
            "policyName": "daytwo-e2e-whoami",
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NS}}},
        },
    }
    kubectl.apply(json.dumps(policy))
    kubectl.apply(json.dumps(binding))
    yield
    for kind in ("validatingadmissionpolicybinding", "validatingadmissionpolicy"):
        kubectl.run("delete", kind, "daytwo-e2e-whoami", "--ignore-not-found")


def policy_body(name: str) -> dict[str, object]:
    return {"name": name, "credential": "no-such-credential", "schedule": "0 3 * * *", "keep_last": 3}


def test_proxy_headers_from_the_trusted_peer_name_the_caller(trusting: Facade, kubectl: Kubectl, whoami: None) -> None:
    with trusting.http(headers=ALICE) as proxy:
        me = proxy.get("/horcrux/api/auth/verify")
        assert me.status_code == 200 and "proxy:alice" in me.text, me.text
        assert proxy.get(POLICIES).status_code == 200  # reads as alice (viewer and admin groups: admin)

        # the apiserver itself names the impersonated caller (the whoami policy's message)
        seen: list[str] = []

        def echoed() -> bool:
            answer = proxy.post(POLICIES, json=policy_body(f"whoami-{uuid.uuid4().hex[:8]}"))
            seen.append(answer.text)
            return answer.status_code == 422 and "whoami user=" in answer.text

        try:
            wait_until(echoed, 60, "the whoami ValidatingAdmissionPolicy to take effect")
        except TimeoutError:
            pytest.fail(f"the apiserver never echoed the caller; last answer: {seen[-1] if seen else None}")
        assert "whoami user=proxy:alice" in seen[-1] and "daytwo:admin" in seen[-1], seen[-1]

        name = f"proxy-e2e-{uuid.uuid4().hex[:8]}"
        created = proxy.post(POLICIES, json=policy_body(name))
        assert created.status_code == 201, created.text
    assert kubectl.get("snapshotpolicy", name, NS)["metadata"]["name"] == name

    def audited() -> bool:
        with trusting.client("admin") as admin:
            rows = admin.get("/platform9/audit/log", params={"username": "proxy:alice"}).json()["results"]
        return any(r["action"] == "snapshot.policy.create" and name in r["target"] for r in rows)

    wait_until(audited, 30, "the audit entry of proxy:alice's write")


def test_unknown_groups_and_untrusted_peers_get_no_access(trusting: Facade, untrusting: Facade) -> None:
    with trusting.http(headers={"X-Forwarded-User": "mallory", "X-Forwarded-Groups": "guests"}) as stranger:
        denied = stranger.get(POLICIES)
        assert denied.status_code == 403, denied.text
    with untrusting.http(headers=ALICE) as spoofed:
        assert spoofed.get(POLICIES).status_code == 401
        assert spoofed.get("/horcrux/api/auth/verify").status_code == 401
        # X-Forwarded-For naming a trusted address changes nothing: trust is decided on the TCP peer
        assert spoofed.get(POLICIES, headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 401


def test_anonymous_viewer_on_pmi_reads_without_a_token_and_cannot_write(trusting: Facade) -> None:
    with trusting.http() as anonymous:
        nodes = anonymous.get(PMI_NODES)
        assert nodes.status_code == 200, nodes.text
        write = anonymous.post(PMI_START)
        assert write.status_code == 403 and write.json()["success"] is False
        assert anonymous.get(POLICIES).status_code == 401  # platform9 keeps its default (none)
    log = trusting.log()
    assert "ANONYMOUS ACCESS ENABLED" in log and "anonymous:pmi" in log and "role viewer" in log

    def audited() -> bool:
        with trusting.client("admin") as admin:
            rows = admin.get("/platform9/audit/log", params={"username": "anonymous:pmi"}).json()["results"]
        return any(r["outcome"] == "denied" for r in rows)

    wait_until(audited, 30, "the audit entry of the anonymous caller's denied write")
