"""The multicloud manager API over HTTP: the real facade, apiserver and operator, and moto (signatures checked).

signup/login -> an admin creates an AWS credential through /credentials (a Secret + a CloudCredential
appear; the secret is never echoed) -> the operator validates it -> a sync is triggered -> the inventory
lists moto's instances -> billing answers with its source (moto keeps no cost data, so the AWS billing is
an estimate and says why) -> dashboard stats -> the credential is deleted with its Secret.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL

from tests.harness.facade import Facade, fresh_address
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import credential_secret
from tests.standins.aws import AwsStandin, run_moto

from .conftest import NAMESPACE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

INSTANCES = 4
NAME = "AWS Production Account"
ID = "aws-production-account"


@pytest.fixture(scope="module")
def moto() -> Iterator[AwsStandin]:
    """moto with IAM auth on: 4 instances (t3.micro / m5.large), 1 volume, 1 VPC."""
    with run_moto(instances=INSTANCES, volumes=1, vpcs=1, batch=2) as standin:
        yield standin


def api(facade: Facade, role: str | None) -> httpx.Client:
    """A client on /multicloud as ``role``."""
    client = facade.client(role)
    client.base_url = httpx.URL(f"{facade.url}/multicloud")
    return client


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body after checking the status."""
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@pytest.fixture(scope="module")
def created(facade: Facade, operator: DaytwoProcess, moto: AwsStandin) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """The AWS credential created through the API (and every answer body seen, for the leak check)."""
    seen: list[str] = []
    with api(facade, "admin") as admin:
        body = {
            "provider": "aws",
            "name": NAME,
            "access_key": moto.access_key_id,
            "secret_key": moto.secret_access_key,
            "region": moto.region,
            "endpoint_url": moto.url,
            "allow_insecure_http": True,  # moto is plain http on loopback
        }
        answer = admin.post("/credentials/", json=body)
        seen.append(answer.text)
        yield ok(answer, 201), seen


def test_signup_login_and_what_a_new_user_may_do(facade: Facade) -> None:
    with facade.http(fresh_address()) as http:
        signed = http.post(
            "/multicloud/auth/signup",
            json={"email": "dana@example.com", "password": "long-enough-pw", "full_name": "Dana"},
        )
        assert signed.status_code == 201, signed.text
        login = http.post("/multicloud/auth/login", data={"username": "dana@example.com", "password": "long-enough-pw"})
        token = ok(login)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with facade.http(headers=headers) as dana:
        assert ok(dana.get("/multicloud/auth/me"))["email"] == "dana@example.com"
        refused = dana.post("/multicloud/credentials/", json={"provider": "aws", "name": "x"})
        assert refused.status_code == 403 and "credentials:write" in refused.json()["detail"]
    with facade.http() as anonymous:
        assert anonymous.get("/multicloud/credentials/").status_code == 401


def test_create_makes_a_secret_and_a_credential_and_echoes_no_secret(
    created: tuple[dict[str, Any], list[str]], kubectl: Kubectl, moto: AwsStandin
) -> None:
    item, seen = created
    assert item["id"] == ID and item["name"] == NAME and item["region"] == moto.region
    assert moto.secret_access_key not in seen[0] and moto.access_key_id not in seen[0]
    cc = kubectl.get("d2cc", ID, NAMESPACE)
    assert cc["spec"]["secretRef"] == {"name": f"{ID}-credentials"}
    assert cc["spec"]["aws"] == {"region": moto.region, "endpointUrl": moto.url, "allowInsecureHttp": True}
    assert moto.secret_access_key not in json.dumps(cc)
    secret = kubectl.get("secret", f"{ID}-credentials", NAMESPACE)
    assert set(secret["data"]) == {"accessKeyId", "secretAccessKey"}
    labels = secret["metadata"]["labels"]  # the operator reads it; the facade may rewrite and delete it
    assert labels[CREDENTIAL_SECRET_LABEL] == "true" and labels["app.kubernetes.io/managed-by"] == "daytwo-api"


def test_http_endpoint_without_the_opt_out_and_unanchored_names_are_refused(
    facade: Facade, moto: AwsStandin, kubectl: Kubectl
) -> None:
    body = {
        "provider": "aws",
        "name": "Plain HTTP",
        "access_key": moto.access_key_id,
        "secret_key": moto.secret_access_key,
        "region": moto.region,
        "endpoint_url": moto.url,
    }
    with api(facade, "admin") as admin:
        refused = admin.post("/credentials/", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "endpoint_url"]
        assert moto.secret_access_key not in refused.text
        for name in ("ok name;$(x)", "trailing\n"):
            named = admin.post("/credentials/", json={**body, "allow_insecure_http": True, "name": name})
            assert named.status_code == 422 and named.json()["detail"][0]["loc"][-1] == "name", named.text
    found = kubectl.run("get", "d2cc", "plain-http", "-n", NAMESPACE, "--ignore-not-found", "-o", "name").stdout
    assert found.strip() == ""


def test_it_validates_and_a_triggered_sync_is_handled(
    created: tuple[dict[str, Any], list[str]], facade: Facade, kubectl: Kubectl
) -> None:
    with api(facade, "viewer") as viewer:
        wait_until(lambda: ok(viewer.get(f"/credentials/{ID}"))["is_active"], 90, "the credential validated")
        item = ok(viewer.get(f"/credentials/{ID}"))
        assert item["principal"] == "arn:aws:iam::123456789012:user/daytwo"
    with api(facade, "operator") as operator:
        triggered = ok(operator.post("/dashboard/sync/trigger"), 202)
    assert ID in triggered["credentials"]
    wait_until(
        lambda: (
            kubectl.get("d2cc", ID, NAMESPACE).get("status", {}).get("lastHandledReconcileAt") == triggered["task_id"]
        ),
        90,
        "the sync request handled",
    )


def explain(kubectl: Kubectl) -> str:
    """The credential's status and the daytwo ConfigMaps, for a failed wait."""
    status = kubectl.get("d2cc", ID, NAMESPACE).get("status")
    maps = kubectl.run(
        "get", "configmaps", "-n", NAMESPACE, "-l", "app.kubernetes.io/part-of=daytwo", "-o", "name"
    ).stdout
    return f"status={json.dumps(status)}\nconfigmaps={maps}"


def test_inventory_lists_the_moto_instances(
    created: tuple[dict[str, Any], list[str]], facade: Facade, kubectl: Kubectl
) -> None:
    with api(facade, "viewer") as viewer:
        try:
            wait_until(
                lambda: len(viewer.get("/inventory/vms", params={"credential": ID}).json()) == INSTANCES,
                90,
                "the instances in the facade",
            )
        except TimeoutError as error:
            raise AssertionError(f"{error}\n{explain(kubectl)}") from None
        vms = viewer.get("/inventory/vms", params={"provider": "aws", "credential": ID, "limit": 3})
        assert vms.status_code == 200 and vms.headers["X-Total-Count"] == str(INSTANCES)
        page = vms.json()
        assert len(page) == 3 and all(v["resource_id"].startswith("i-") for v in page)
        assert {v["metadata"]["instance_type"] for v in page} <= {"t3.micro", "m5.large"}
        assert all(v["metadata"]["cost_per_hour"] > 0 and v["status"] == "running" for v in page)
        one = ok(viewer.get(f"/inventory/{page[0]['id']}"))
        assert one["resource_id"] == page[0]["resource_id"] and one["last_synced"]
        storage = ok(viewer.get("/inventory/storage", params={"credential": ID}))
        assert len(storage) == INSTANCES + 1  # root volumes + the standalone one
        assert len(ok(viewer.get("/inventory/networks", params={"credential": ID}))) == 2  # + the default VPC


def test_billing_states_its_source(created: tuple[dict[str, Any], list[str]], facade: Facade) -> None:
    with api(facade, "viewer") as viewer:

        def ours() -> dict[str, Any] | None:
            sources = ok(viewer.get("/billing/costs", params={"group_by": "service"}))["sources"]
            return next((s for s in sources if s["credential"] == ID), None)

        wait_until(lambda: ours() is not None, 90, "the billing document in the facade")
        entry = ours()
        assert entry is not None and entry["source"] == "estimate" and entry["provider"] == "aws"
        assert entry["price_table"].startswith("daytwo-list-prices-")
        assert "Cost Explorer has no cost data" in entry["note"]
        costs = ok(viewer.get("/billing/costs", params={"group_by": "provider"}))
        # moto's instances were launched moments ago: their estimate so far is small, maybe rounded to 0
        aws = next(b for b in costs["breakdown"] if b["provider"] == "aws")
        assert aws["cost"] >= 0 and {s["service"] for s in aws["services"]} <= {"EC2", "EBS"}
        assert costs["source"] in ("estimate", "mixed") and costs["currency"] == "USD"
        summary = ok(viewer.get("/billing/summary"))
        assert summary["current_month"]["period"] == costs["period"]["end"][:7]
        assert summary["source"] in ("estimate", "mixed")
        bad = viewer.get("/billing/costs", params={"start_date": "2026-02-11", "end_date": "2026-02-01"})
        assert bad.status_code == 400 and bad.json()["request_id"]


def test_dashboard_stats(created: tuple[dict[str, Any], list[str]], facade: Facade) -> None:
    with api(facade, "viewer") as viewer:
        stats = ok(viewer.get("/dashboard/stats"))
    aws = next(p for p in stats["provider_breakdown"] if p["provider"] == "aws")
    assert aws["vms"] >= INSTANCES and stats["active_vms"] >= INSTANCES
    assert stats["estimated_monthly_cost"] >= 0 and stats["cost_source"] in ("estimate", "mixed")
    health = next(h for h in stats["provider_health"] if h["provider"] == "aws")
    assert health["status"] in ("healthy", "degraded") and health["last_check"]
    assert any(r["region"] == "eu-west-1" and r["count"] >= aws["count"] for r in stats["region_distribution"])


def test_resources_are_served(facade: Facade) -> None:
    with api(facade, "admin") as admin:
        answer = admin.get("/resources/")
        missing = admin.get(f"/resources/{uuid.uuid4()}")
    assert answer.status_code == 200 and isinstance(answer.json(), list)
    assert missing.status_code == 404 and missing.json()["request_id"]


def _bound(kubectl: Kubectl, endpoint: str, secret_version: str) -> bool:
    """The credential is Ready at ``endpoint`` for its generation, having sent that version of its Secret."""
    cc = kubectl.get("d2cc", ID, NAMESPACE)
    status = cc.get("status", {})
    ready = {c["type"]: c for c in status.get("conditions", [])}.get("Ready", {})
    return (
        cc["spec"]["aws"]["endpointUrl"] == endpoint
        and ready.get("status") == "True"
        and status.get("observedGeneration") == cc["metadata"]["generation"]
        and (status.get("secretBinding") or {}).get("secretResourceVersion") == secret_version
    )


def test_moving_the_endpoint_needs_the_secret_again(
    created: tuple[dict[str, Any], list[str]], facade: Facade, kubectl: Kubectl, moto: AwsStandin
) -> None:
    """endpoint_url without the keys: 422 naming them, nothing changed; with them the operator follows."""
    elsewhere = moto.url.replace("127.0.0.1", "localhost")
    assert elsewhere != moto.url
    before = kubectl.get("secret", f"{ID}-credentials", NAMESPACE)["metadata"]["resourceVersion"]
    with api(facade, "admin") as admin:
        refused = admin.patch(f"/credentials/{ID}", json={"provider": "aws", "endpoint_url": elsewhere})
        assert refused.status_code == 422, refused.text
        assert [d["loc"] for d in refused.json()["detail"]] == [["body", "access_key"], ["body", "secret_key"]]
        assert kubectl.get("d2cc", ID, NAMESPACE)["spec"]["aws"]["endpointUrl"] == moto.url
        assert kubectl.get("secret", f"{ID}-credentials", NAMESPACE)["metadata"]["resourceVersion"] == before
        body = {
            "provider": "aws",
            "endpoint_url": elsewhere,
            "access_key": moto.access_key_id,
            "secret_key": moto.secret_access_key,
        }
        moved = admin.patch(f"/credentials/{ID}", json=body)
        assert moved.status_code == 200, moved.text
        assert moto.secret_access_key not in moved.text
    after = kubectl.get("secret", f"{ID}-credentials", NAMESPACE)["metadata"]["resourceVersion"]
    assert after != before  # written again, although the values are the same
    wait_until(lambda: _bound(kubectl, elsewhere, after), 90, "the credential ready at the new endpoint")


def test_delete_leaves_a_kubectl_made_secret(facade: Facade, kubectl: Kubectl, moto: AwsStandin) -> None:
    """A CloudCredential and its Secret made with kubectl: deleting it through the API keeps the Secret."""
    name = "kubectl-made-cc"
    data = {"accessKeyId": moto.access_key_id, "secretAccessKey": moto.secret_access_key}
    kubectl.run("apply", "-f", "-", input=json.dumps(credential_secret(f"{name}-credentials", NAMESPACE, data)))
    cc = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": name, "namespace": NAMESPACE, "annotations": {"daytwo.io/created-by": "admin"}},
        "spec": {
            "provider": "aws",
            "secretRef": {"name": f"{name}-credentials"},
            "aws": {"region": moto.region, "endpointUrl": moto.url, "allowInsecureHttp": True},
        },
    }
    kubectl.run("apply", "-f", "-", input=json.dumps(cc))
    with api(facade, "admin") as admin:
        wait_until(lambda: admin.get(f"/credentials/{name}").status_code == 200, 60, "the credential in the cache")
        rotated = admin.patch(f"/credentials/{name}", json={"provider": "aws", "secret_key": "rotated"})
        assert rotated.status_code == 409 and "kubectl" in rotated.json()["detail"]
        assert admin.delete(f"/credentials/{name}").status_code == 204
    wait_until(
        lambda: not kubectl.run("get", "d2cc", name, "-n", NAMESPACE, "--ignore-not-found", "-o", "name").stdout,
        60,
        "the credential deleted",
    )
    kept = kubectl.get("secret", f"{name}-credentials", NAMESPACE)
    assert "app.kubernetes.io/managed-by" not in kept["metadata"]["labels"]
    kubectl.run("delete", "secret", f"{name}-credentials", "-n", NAMESPACE)


def test_no_secret_in_answers_or_logs_then_delete(
    created: tuple[dict[str, Any], list[str]],
    facade: Facade,
    operator: DaytwoProcess,
    kubectl: Kubectl,
    moto: AwsStandin,
) -> None:
    _, seen = created
    with api(facade, "admin") as admin:
        for path in ("/credentials/", f"/credentials/{ID}", "/inventory/vms", "/billing/costs", "/dashboard/stats"):
            answer = admin.get(path)
            assert answer.status_code == 200, answer.text
            seen.append(answer.text)
        maps = kubectl.run("get", "configmaps", "-n", NAMESPACE, "-o", "json").stdout
        for text in (*seen, facade.log(), operator.log(), maps, kubectl.run("get", "d2cc", "-A", "-o", "json").stdout):
            assert moto.secret_access_key not in text
        assert admin.delete(f"/credentials/{ID}").status_code == 204

    def gone(kind: str, name: str) -> bool:
        found = kubectl.run("get", kind, name, "-n", NAMESPACE, "--ignore-not-found", "-o", "name", check=False)
        return found.stdout.strip() == ""

    wait_until(lambda: gone("d2cc", ID) and gone("secret", f"{ID}-credentials"), 60, "credential and Secret deleted")
    wait_until(lambda: gone("configmap", f"{ID}-billing"), 60, "its billing ConfigMap garbage-collected")
