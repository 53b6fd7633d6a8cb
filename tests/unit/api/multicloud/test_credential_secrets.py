"""multicloud credential Secrets (issue 16): labelled for the operator, rewritten or deleted only when the facade
made them, an endpoint change needs the secret again, and display names are anchored."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from daytwo.api.views.multicloud import credentials as views
from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL
from fastapi.testclient import TestClient

from tests.harness.fakes import RecordingWriter, route_client

from .data import credential

OS_URL = "https://keystone.example:5000/v3"
FACADE_MADE = {"app.kubernetes.io/managed-by": "daytwo-api"}


def openstack(name: str = "os") -> dict[str, Any]:
    """An OpenStack credential made through the API."""
    obj = credential(name, "openstack")
    obj["spec"]["openstack"] = {"authUrl": OS_URL, "projectName": "demo"}
    return obj


def with_block(name: str, provider: str, block: dict[str, Any]) -> dict[str, Any]:
    """A credential of ``provider`` with this provider block."""
    obj = credential(name, provider)
    obj["spec"][provider] = block
    return obj


OBJECTS = [
    openstack(),
    with_block("aws1", "aws", {"region": "eu-west-1", "endpointUrl": "https://s3.example"}),
    with_block("az1", "azure", {"tenantId": "t", "subscriptionId": "s"}),
    with_block("gcp1", "gcp", {"projectId": "proj-123456"}),
]


class LabelWriter(RecordingWriter):
    """Records patch bodies (Secret labels: RecordingWriter.written_labels); answers a patch with the cached object."""

    def __init__(self) -> None:
        super().__init__()
        self.patches: list[dict[str, Any]] = []
        for obj in OBJECTS:
            name = obj["metadata"]["name"]
            self.secrets[f"{name}-credentials"] = {**FACADE_MADE, "daytwo.io/secret-of": name}

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        """Record the patch."""
        super().patch(kind, name, merge_patch)
        self.patches.append(copy.deepcopy(merge_patch))
        return next(o for o in OBJECTS if o["metadata"]["name"] == name)


def client() -> tuple[TestClient, LabelWriter]:
    """The facade as admin over OBJECTS."""
    made, services = route_client(OBJECTS, role="admin")
    writer = LabelWriter()
    services.writer_factory = lambda _principal: writer
    return made, writer


AWS = {"provider": "aws", "access_key": "AKIAX", "secret_key": "k", "region": "us-east-1"}


@pytest.mark.parametrize("name", ["ok name;$(x)", "ok\n", "ok name\n", "a`id`", "x|y", "ok <b>", "-dash", " lead"])
def test_names_are_matched_whole(name: str) -> None:
    api, writer = client()
    answer = api.post("/multicloud/credentials/", json={**AWS, "name": name})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "aws", "name"] and writer.calls == []
    renamed = api.patch("/multicloud/credentials/aws1", json={"provider": "aws", "name": name})
    assert renamed.status_code == 422 and writer.calls == []


@pytest.mark.parametrize("name", ["AWS Production Account", "Azure Main Subscription", "GCP (eu-west) 2/3, v1.2"])
def test_ordinary_names_still_pass(name: str) -> None:
    api, _ = client()
    assert api.post("/multicloud/credentials/", json={**AWS, "name": name}).status_code == 201


def test_create_labels_the_secret_for_the_operator() -> None:
    api, writer = client()
    assert api.post("/multicloud/credentials/", json={**AWS, "name": "New One"}).status_code == 201
    labels = writer.written_labels["new-one-credentials"]
    assert labels == {
        CREDENTIAL_SECRET_LABEL: "true",
        "app.kubernetes.io/managed-by": "daytwo-api",
        "daytwo.io/secret-of": "new-one",
    }


@pytest.mark.parametrize(
    ("credential_id", "body", "resend"),
    [
        ("os", {"provider": "openstack", "auth_url": "https://listener.example/v3"}, ["password"]),
        ("os", {"provider": "openstack", "auth_url": "https://x.example/v3", "username": "u"}, ["password"]),
        ("aws1", {"provider": "aws", "endpoint_url": "https://listener.example"}, ["access_key", "secret_key"]),
        ("aws1", {"provider": "aws", "endpoint_url": "https://l.example", "access_key": "A"}, ["secret_key"]),
        ("az1", {"provider": "azure", "authority_host": "https://login.listener.example"}, ["client_secret"]),
        ("az1", {"provider": "azure", "management_endpoint": "https://arm.listener.example"}, ["client_secret"]),
        ("gcp1", {"provider": "gcp", "token_uri_override": "https://t.listener.example"}, ["service_account_json"]),
        ("gcp1", {"provider": "gcp", "endpoint_override": "https://c.listener.example"}, ["service_account_json"]),
    ],
)
def test_an_endpoint_change_without_the_secret_is_422_and_changes_nothing(
    credential_id: str, body: dict[str, Any], resend: list[str]
) -> None:
    api, writer = client()
    answer = api.patch(f"/multicloud/credentials/{credential_id}", json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", field] for field in resend]
    assert all("send" in d["msg"] and "nothing was changed" in d["msg"] for d in detail)
    assert writer.calls == []


def test_an_endpoint_change_with_the_secret_patches_the_credential_then_rewrites_the_secret() -> None:
    api, writer = client()
    body = {"provider": "openstack", "auth_url": "https://new.example/v3", "password": "again"}
    answer = api.patch("/multicloud/credentials/os", json=body)
    assert answer.status_code == 200, answer.text
    assert "again" not in answer.text
    assert writer.calls == [("patch", "CloudCredential", "os"), ("patch_secret", "os-credentials")]
    assert writer.patches == [{"spec": {"openstack": {"authUrl": "https://new.example/v3"}}}]
    assert writer.written_labels["os-credentials"][CREDENTIAL_SECRET_LABEL] == "true"  # older facade Secrets get it too


def test_the_same_endpoint_or_other_fields_need_no_secret() -> None:
    api, writer = client()
    same = api.patch(
        "/multicloud/credentials/os", json={"provider": "openstack", "auth_url": OS_URL, "name": "Renamed"}
    )
    assert same.status_code == 200, same.text
    assert writer.calls == [("patch", "CloudCredential", "os")]


def test_secret_values_go_only_into_a_secret_the_facade_made_for_the_credential() -> None:
    api, writer = client()
    writer.secrets["aws1-credentials"] = {"app": "made-with-kubectl"}
    writer.secrets["gcp1-credentials"] = {**FACADE_MADE, "daytwo.io/secret-of": "someone-else"}
    refused = api.patch("/multicloud/credentials/aws1", json={"provider": "aws", "secret_key": "rotated"})
    assert refused.status_code == 409 and "kubectl" in refused.json()["detail"]
    other = api.patch("/multicloud/credentials/gcp1", json={"provider": "gcp", "service_account_json": "{}"})
    assert other.status_code == 409
    assert writer.calls == []


@pytest.mark.parametrize(
    ("labels", "deleted"),
    [
        ({**FACADE_MADE, "daytwo.io/secret-of": "az1"}, True),
        ({"app": "made-with-kubectl"}, False),
        ({"daytwo.io/secret-of": "az1"}, False),  # no facade mark
        ({**FACADE_MADE, "daytwo.io/secret-of": "another"}, False),
        (None, False),
    ],
)
def test_delete_removes_only_the_secret_the_facade_made(labels: dict[str, str] | None, deleted: bool) -> None:
    api, writer = client()
    writer.secrets.pop("az1-credentials")
    if labels is not None:
        writer.secrets["az1-credentials"] = labels
    assert api.delete("/multicloud/credentials/az1").status_code == 204
    assert (("delete_secret", "az1-credentials") in writer.calls) is deleted


def test_missing_resend_is_the_pure_decision() -> None:
    spec = views.credential_spec(openstack())
    assert views.missing_resend("openstack", spec, {"auth_url": OS_URL}) == ([], [])
    assert views.missing_resend("openstack", spec, {"auth_url": "https://b/v3"}) == (["auth_url"], ["password"])
    assert views.missing_resend("openstack", spec, {"auth_url": "https://b/v3", "password": "p"}) == (["auth_url"], [])
    assert views.missing_resend("openstack", spec, {"region": "RegionTwo", "project_name": "p"}) == ([], [])


@pytest.mark.parametrize(
    "body",
    [
        {
            "provider": "openstack",
            "name": "Lab",
            "auth_url": "http://keystone.lab:5000/v3",
            "username": "u",
            "password": "p",
        },
        {**AWS, "name": "Moto", "endpoint_url": "http://127.0.0.1:5000"},
        {**AWS, "name": "Moto", "endpoint_url": "http://127.0.0.1:5000", "allow_insecure_http": False},
    ],
)
def test_http_endpoints_are_refused_without_the_opt_out(body: dict[str, Any]) -> None:
    api, writer = client()
    answer = api.post("/multicloud/credentials/", json=body)
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["detail"]
    field = "auth_url" if body["provider"] == "openstack" else "endpoint_url"
    assert error["loc"] == ["body", field] and "allow_insecure_http" in error["msg"]
    assert writer.calls == []
    api.post("/multicloud/credentials/", json={**body, "allow_insecure_http": True})
    assert [c[0] for c in writer.calls] == ["create_secret", "create"]


def test_the_opt_out_reaches_the_credential_and_https_needs_none() -> None:
    api, _ = client()
    body = {**AWS, "name": "Moto", "endpoint_url": "http://127.0.0.1:5000", "allow_insecure_http": True}
    created = api.post("/multicloud/credentials/", json=body)
    assert created.status_code == 201, created.text
    secure = api.post("/multicloud/credentials/", json={**AWS, "name": "Secure", "endpoint_url": "https://a.example"})
    assert secure.status_code == 201, secure.text
    manifest = views.credential_manifests(body, "admin")[2]
    assert manifest["spec"]["aws"] == {
        "region": "us-east-1",
        "endpointUrl": "http://127.0.0.1:5000",
        "allowInsecureHttp": True,
    }


def test_an_update_to_http_needs_the_opt_out_and_the_secret() -> None:
    api, writer = client()
    plain = api.patch("/multicloud/credentials/os", json={"provider": "openstack", "auth_url": "http://k.lab/v3"})
    assert plain.status_code == 422 and plain.json()["detail"][0]["loc"] == ["body", "auth_url"]
    opted = api.patch(
        "/multicloud/credentials/os",
        json={"provider": "openstack", "auth_url": "http://k.lab/v3", "allow_insecure_http": True},
    )
    assert opted.status_code == 422 and opted.json()["detail"][0]["loc"] == ["body", "password"]
    toggled = api.patch("/multicloud/credentials/os", json={"provider": "openstack", "allow_insecure_http": True})
    assert toggled.status_code == 422 and "allow_insecure_http" in toggled.json()["detail"][0]["msg"]
    assert writer.calls == []
    same = api.patch("/multicloud/credentials/os", json={"provider": "openstack", "allow_insecure_http": False})
    assert same.status_code == 200 and writer.calls == [("patch", "CloudCredential", "os")]  # the default: no change


def test_an_opt_out_already_on_the_credential_counts_unless_the_body_revokes_it() -> None:
    lab = with_block("lab", "openstack", {"authUrl": "http://k.lab/v3", "allowInsecureHttp": True})
    assert views.insecure_http("openstack", {"auth_url": "http://other.lab/v3"}, views.credential_spec(lab)) is None
    revoked = {"auth_url": "http://other.lab/v3", "allow_insecure_http": False}
    assert views.insecure_http("openstack", revoked, views.credential_spec(lab)) == "auth_url"
    assert (
        views.insecure_http("openstack", {"auth_url": "http://other.lab/v3"}, views.credential_spec(openstack()))
        == "auth_url"
    )
    assert views.insecure_http("openstack", {"auth_url": "http://other.lab/v3"}) == "auth_url"  # create
    assert views.insecure_http("azure", {"authority_host": "http://x"}) is None  # https-only by pattern
