"""pmi token Secrets (issue 16): labelled for the operator, touched only when the facade made them, and moving
a node (host, port, ssl_verify) needs the token secret again."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from daytwo.api.views.pmi import nodes as views
from daytwo.crds.proxmoxnode import ProxmoxNodeSpec, ProxmoxTLS
from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL
from fastapi.testclient import TestClient

from tests.harness.fakes import RecordingWriter, route_client

from .data import proxmox_node

BASE = "/pmi/api/proxmox"
FACADE_MADE = {"daytwo.io/proxmox-node": "pve-lab", "app.kubernetes.io/managed-by": "daytwo-api"}
TOKEN = {"api_token_id": "root@pam!d2", "api_token_secret": "s3cr3t-uuid"}


class LabelWriter(RecordingWriter):
    """Records Secret labels and the bodies of creates and patches."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[tuple[str, str, Any]] = []

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record the body."""
        self.bodies.append(("create", kind, copy.deepcopy(body)))
        return super().create(kind, body)

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        """Record the patch."""
        self.bodies.append(("patch", name, copy.deepcopy(merge_patch)))
        return super().patch(kind, name, merge_patch)

    def patch_secret(
        self,
        name: str,
        string_data: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
        resource_version: str | None = None,
    ) -> None:
        """Record the keys written (never the values)."""
        self.bodies.append(("patch_secret", name, sorted(string_data)))
        super().patch_secret(name, string_data, labels, resource_version)


def client(writer: RecordingWriter, objects: list[dict[str, Any]] | None = None) -> TestClient:
    """The facade as admin over ``objects`` (default: node pve-lab), writing through ``writer``."""
    made, services = route_client(objects if objects is not None else [proxmox_node()], role="admin")
    services.writer_factory = lambda _principal: writer
    return made


def test_add_node_labels_the_token_secret_for_the_operator_and_verifies_tls_by_default() -> None:
    writer = LabelWriter()
    answer = client(writer, []).post(f"{BASE}/nodes", json={"name": "Edge", "host": "10.0.0.9", **TOKEN})
    assert answer.status_code == 201, answer.text
    labels = writer.written_labels["edge-token"]
    assert labels[CREDENTIAL_SECRET_LABEL] == "true" and labels["app.kubernetes.io/managed-by"] == "daytwo-api"
    assert labels["daytwo.io/proxmox-node"] == "edge"
    node = next(body for verb, kind, body in writer.bodies if verb == "create" and kind == "ProxmoxNode")
    assert node["spec"]["tls"] == {"insecureSkipVerify": False}  # ssl_verify omitted: verified


def test_ssl_verify_false_is_an_explicit_opt_out() -> None:
    writer = LabelWriter()
    body = {"name": "Lab", "host": "10.0.0.9", "ssl_verify": False, **TOKEN}
    assert client(writer, []).post(f"{BASE}/nodes", json=body).status_code == 201
    node = next(body for verb, kind, body in writer.bodies if verb == "create" and kind == "ProxmoxNode")
    assert node["spec"]["tls"] == {"insecureSkipVerify": True}


def test_test_connection_probe_secret_is_labelled_too() -> None:
    writer = LabelWriter()
    answer = client(writer, []).post(
        f"{BASE}/test-connection?wait=0", json={"name": "probe", "host": "10.0.0.9", **TOKEN}
    )
    assert answer.status_code == 408
    (labels,) = writer.written_labels.values()
    assert labels[CREDENTIAL_SECRET_LABEL] == "true" and labels["daytwo.io/pmi-connection-test"] == "true"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"host": "attacker.example"}, "host"),
        ({"port": 8443}, "port"),
        ({"ssl_verify": False}, "ssl_verify"),
        ({"host": "attacker.example", "api_token_id": "root@pam!d2"}, "host"),
    ],
)
def test_moving_a_node_without_the_token_secret_is_422_and_changes_nothing(change: dict[str, Any], named: str) -> None:
    writer = LabelWriter()
    writer.secrets["pve-lab-token"] = dict(FACADE_MADE)
    answer = client(writer).put(f"{BASE}/nodes/pve-lab", json=change)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["success"] is False and body["error_code"] == "VALIDATION_ERROR"
    assert "api_token_secret" in body["error"] and named in body["error"]
    assert body["details"][0]["loc"] == ["body", "api_token_secret"]
    assert writer.calls == []


def test_moving_a_node_with_the_token_secret_patches_the_node_then_rewrites_its_secret() -> None:
    writer = LabelWriter()
    writer.secrets["pve-lab-token"] = dict(FACADE_MADE)
    answer = client(writer).put(
        f"{BASE}/nodes/pve-lab", json={"host": "pve.example", "ssl_verify": True, "api_token_secret": "again"}
    )
    assert answer.status_code == 200, answer.text
    assert [(verb, name) for verb, name, _ in writer.bodies] == [
        ("patch", "pve-lab"),
        ("patch_secret", "pve-lab-token"),
    ]
    assert writer.bodies[0][2] == {"spec": {"host": "pve.example", "tls": {"insecureSkipVerify": False}}}
    assert (
        writer.written_labels["pve-lab-token"][CREDENTIAL_SECRET_LABEL] == "true"
    )  # an older facade Secret gets the label


def test_unchanged_endpoint_fields_and_other_fields_need_no_token() -> None:
    writer = LabelWriter()
    answer = client(writer).put(
        f"{BASE}/nodes/pve-lab", json={"host": "10.0.0.5", "port": 8006, "ssl_verify": True, "name": "Renamed"}
    )
    assert answer.status_code == 200, answer.text
    assert [verb for verb, _name, _body in writer.bodies] == ["patch"]


def test_a_token_goes_only_into_a_secret_the_facade_made() -> None:
    writer = LabelWriter()
    writer.secrets["pve-lab-token"] = {"app": "made-with-kubectl"}
    answer = client(writer).put(f"{BASE}/nodes/pve-lab", json={"port": 8443, "api_token_secret": "again"})
    assert answer.status_code == 409 and "kubectl" in answer.json()["error"]
    assert writer.calls == []  # checked before anything is written


@pytest.mark.parametrize(
    ("labels", "deleted"),
    [
        (FACADE_MADE, True),
        ({"app": "made-with-kubectl"}, False),
        ({"daytwo.io/proxmox-node": "pve-lab"}, False),  # no facade mark
        ({**FACADE_MADE, "daytwo.io/proxmox-node": "another-node"}, False),
        (None, False),  # no such Secret
    ],
)
def test_delete_removes_only_the_token_secret_the_facade_made_for_the_node(
    labels: dict[str, str] | None, deleted: bool
) -> None:
    writer = LabelWriter()
    if labels is not None:
        writer.secrets["pve-lab-token"] = dict(labels)
    assert client(writer).delete(f"{BASE}/nodes/pve-lab").status_code == 200
    assert ("delete", "ProxmoxNode", "pve-lab") in writer.calls
    assert (("delete_secret", "pve-lab-token") in writer.calls) is deleted


def test_endpoint_changes_is_the_pure_decision() -> None:
    spec = ProxmoxNodeSpec.model_validate({"host": "h", "tokenSecretRef": {"name": "t"}})  # port, tls: defaults
    assert views.endpoint_changes(spec, {"host": "h", "port": 8006, "ssl_verify": True, "timeout": 5}) == []
    assert views.endpoint_changes(spec, {"host": "x", "port": 1, "ssl_verify": False}) == ["host", "port", "ssl_verify"]
    insecure = spec.model_copy(update={"tls": ProxmoxTLS(insecure_skip_verify=True)})
    assert views.endpoint_changes(insecure, {"ssl_verify": True}) == ["ssl_verify"]
