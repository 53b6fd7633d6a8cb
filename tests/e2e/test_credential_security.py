"""The operator cannot be turned against the Secrets of its namespace (issue 16, items 1 and 3).

A user with the chart's daytwo-editor rights (may create CloudCredentials and ProxmoxNodes, may not
read Secrets) points a credential at the facade's bootstrap-admin Secret and at a listener of theirs:
nothing reaches the listener. A credential whose endpoint moves, or a second credential reusing a bound
Secret elsewhere, sends nothing until the Secret is written again. A revoked OpenStack password turns
Validated=False at the next validation, and the credential retries by itself once it is restored.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.harness.facade import caller_rbac
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import credential_secret
from tests.standins.openstack.fixtures import StandIn, running_standin

from .conftest import condition, wait_for_condition

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

NS = "credsec-e2e"
AS_OPERATOR = ("--as", "daytwo:user:operator", "--as-group", "daytwo:operator")
BOOTSTRAP_PASSWORD = "bootstrap-admin-password-7f3e91"


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection and the bytes it received."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while chunk := conn.recv(65536):
                        data += chunk
                        if b"\r\n\r\n" in data and len(data) > 4096:
                            break
                except OSError:
                    pass
                self.received.append(data)

    def close(self) -> None:
        """Stop listening."""
        self.sock.close()


@pytest.fixture(scope="module")
def openstack() -> Iterator[StandIn]:
    """Keystone + Nova + Cinder + Neutron with the "small" estate."""
    with running_standin("small", clock_mode="real") as standin:
        yield standin


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A fresh listener for one test."""
    found = Listener()
    yield found
    found.close()


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl, operator: DaytwoProcess) -> str:
    """The namespace with the chart's caller roles, and the facade-like Secret the cluster admin made (no label)."""
    kubectl.run("create", "namespace", NS)
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": caller_rbac(NS)}))
    bootstrap = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "daytwo-api-bootstrap-admin", "namespace": NS},
        "stringData": {"username": "admin", "password": BOOTSTRAP_PASSWORD},
    }
    kubectl.apply(json.dumps(bootstrap))
    return NS


def as_operator(kubectl: Kubectl, manifest: dict[str, Any]) -> None:
    """Apply ``manifest`` as the impersonated facade operator (daytwo-editor rights, no Secret access)."""
    kubectl.run("apply", *AS_OPERATOR, "-f", "-", input=json.dumps(manifest))


def cloud_credential(name: str, secret: dict[str, Any], auth_url: str, **spec: Any) -> dict[str, Any]:
    """An OpenStack CloudCredential manifest."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "provider": "openstack",
            "secretRef": secret,
            "openstack": {"authUrl": auth_url, "projectName": "admin", "allowInsecureHttp": True},
            "validationIntervalSeconds": 3600,
            **spec,
        },
    }


def test_editor_may_create_credentials_but_not_read_secrets(kubectl: Kubectl, namespace: str) -> None:
    def can(verb: str, resource: str) -> str:
        result = kubectl.run("auth", "can-i", verb, resource, "-n", namespace, *AS_OPERATOR, check=False)
        return result.stdout.strip()

    assert can("get", "secrets") == "no"
    assert can("create", "cloudcredentials.daytwo.io") == "yes"
    assert can("create", "proxmoxnodes.daytwo.io") == "yes"


def test_unlabelled_secret_never_reaches_a_listener(kubectl: Kubectl, namespace: str, listener: Listener) -> None:
    """The exact attack: secretRef (with keys renames) at the bootstrap-admin Secret, endpoints at a listener."""
    as_operator(
        kubectl,
        cloud_credential(
            "steal-cc",
            {"name": "daytwo-api-bootstrap-admin", "keys": {"username": "username", "password": "password"}},
            f"http://127.0.0.1:{listener.port}/v3",
        ),
    )
    as_operator(
        kubectl,
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "ProxmoxNode",
            "metadata": {"name": "steal-pn", "namespace": NS},
            "spec": {
                "host": "127.0.0.1",
                "port": listener.port,
                "tokenSecretRef": {
                    "name": "daytwo-api-bootstrap-admin",
                    "tokenIdKey": "username",
                    "tokenSecretKey": "password",
                },
                "tls": {"insecureSkipVerify": True},
                "inventoryIntervalSeconds": 10,
            },
        },
    )
    for kind, name in (("d2cc", "steal-cc"), ("d2pn", "steal-pn")):
        refused = wait_for_condition(kubectl, kind, name, "Ready", "False", reason="SecretNotAllowed", namespace=NS)
        ready = condition(refused, "Ready")
        assert ready is not None
        assert "kubectl label secret daytwo-api-bootstrap-admin daytwo.io/credential=true" in ready["message"]
        assert BOOTSTRAP_PASSWORD not in json.dumps(refused)
    # a second pass of each (the node polls every 10 s; the credential is woken by a reconcile request)
    kubectl.run(
        "annotate", "d2cc", "steal-cc", "-n", NS, f"daytwo.io/reconcile-requested-at={datetime.now(UTC).isoformat()}"
    )
    wait_for_condition(kubectl, "d2pn", "steal-pn", "Ready", "False", reason="SecretNotAllowed", namespace=NS)
    assert listener.received == []


def _bound_credential(kubectl: Kubectl, openstack: StandIn, name: str, secret: str) -> None:
    """A labelled Secret with the stand-in admin, and a credential validated (so bound) against the stand-in."""
    admin = openstack.info
    data = {"username": admin.admin_username, "password": admin.admin_password}
    kubectl.apply(json.dumps(credential_secret(secret, NS, data)))
    kubectl.apply(json.dumps(cloud_credential(name, {"name": secret}, openstack.auth_url)))
    validated = wait_for_condition(kubectl, "d2cc", name, "Validated", "True", namespace=NS)
    assert validated["status"]["secretBinding"]["endpointFingerprint"]


def test_moved_endpoint_needs_the_secret_written_again(
    kubectl: Kubectl, namespace: str, openstack: StandIn, listener: Listener
) -> None:
    _bound_credential(kubectl, openstack, "moving", "moving-secret")
    moved = f"http://127.0.0.1:{listener.port}/v3"
    patch = {"spec": {"openstack": {"authUrl": moved}}}
    kubectl.run("patch", "d2cc", "moving", "-n", NS, "--type", "merge", "-p", json.dumps(patch))
    refused = wait_for_condition(kubectl, "d2cc", "moving", "Ready", "False", reason="SecretNotRebound", namespace=NS)
    assert "spec.openstack.authUrl" in str(condition(refused, "Ready"))
    assert listener.received == []
    # whoever may write the Secret says it may go there: touching it changes its resourceVersion
    kubectl.run("annotate", "secret", "moving-secret", "-n", NS, "daytwo.io/rebound-at=1", "--overwrite")
    wait_until(
        lambda: bool(listener.received), 60, "the operator goes to the new endpoint once the Secret is rewritten"
    )


def test_bound_secret_is_not_sent_elsewhere_by_another_credential(
    kubectl: Kubectl, namespace: str, openstack: StandIn, listener: Listener
) -> None:
    _bound_credential(kubectl, openstack, "owner", "owner-secret")
    kubectl.apply(
        json.dumps(cloud_credential("borrower", {"name": "owner-secret"}, f"http://127.0.0.1:{listener.port}/v3"))
    )
    refused = wait_for_condition(
        kubectl, "d2cc", "borrower", "Ready", "False", reason="SecretBoundElsewhere", namespace=NS
    )
    assert "CloudCredential/owner" in str(condition(refused, "Ready"))
    assert listener.received == []
    # the same Secret to the same endpoint is no conflict
    kubectl.apply(json.dumps(cloud_credential("twin", {"name": "owner-secret"}, openstack.auth_url)))
    wait_for_condition(kubectl, "d2cc", "twin", "Validated", "True", namespace=NS)


def test_revoked_password_fails_the_next_validation_and_recovers_by_itself(
    kubectl: Kubectl, namespace: str, openstack: StandIn
) -> None:
    _bound_credential(kubectl, openstack, "revoked", "revoked-secret")
    admin = next(user for user in openstack.model.users.values() if user["name"] == openstack.info.admin_username)
    password = admin["_password"]
    admin["_password"] = "revoked-" + password  # changed on the cloud's side; the Secret still has the old one
    try:
        token = datetime.now(UTC).isoformat()
        kubectl.run("annotate", "d2cc", "revoked", "-n", NS, f"daytwo.io/reconcile-requested-at={token}")
        wait_for_condition(kubectl, "d2cc", "revoked", "Validated", "False", reason="AuthFailed", namespace=NS)
    finally:
        admin["_password"] = password
    # no Secret change, no spec change, no reconcile request: the retry (with backoff) finds it valid again
    wait_for_condition(kubectl, "d2cc", "revoked", "Validated", "True", namespace=NS, timeout=180)
