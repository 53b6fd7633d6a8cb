"""multicloud routes with FastAPI's TestClient: a store filled from dicts, a recording writer, callers by role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.harness.fakes import RecordingWriter, route_client

from .data import billing, credential, inventory, records

TODAY = datetime.now(UTC).date()
PROD = credential("prod", "aws")
SHARED = credential("shared", "openstack", users=[{"kind": "SnapshotPolicy", "name": "nightly"}])
LAB = credential("lab", "gcp")
OBJECTS = [
    PROD,
    SHARED,
    LAB,
    *inventory(PROD, records("aws", "eu-west-1", 6)),
    *inventory(LAB, records("gcp", "us-central1", 2)),
    billing(PROD, "cost-explorer", {"Amazon EC2": 3.0}, TODAY),
    billing(LAB, "estimate", {"Compute Engine": 1.0}, TODAY),
]


class PatchingWriter(RecordingWriter):
    """The harness's recording writer, answering a patch with the patched object like the apiserver."""

    def patch(self, kind: str, name: str, merge_patch: dict[str, Any]) -> dict[str, Any]:
        """Record the patch; answer the cached object (good enough: the tests check the calls)."""
        super().patch(kind, name, merge_patch)
        return next(o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name)


def client(role: str | None = "admin") -> tuple[TestClient, RecordingWriter]:
    """A facade client as ``role`` and the writer its routes use."""
    made, services = route_client(OBJECTS, role=role)
    writer = PatchingWriter()
    services.writer_factory = lambda _principal: writer
    return made, writer


def test_list_and_get_credentials_as_viewer() -> None:
    api, _ = client("viewer")
    listed = api.get("/multicloud/credentials/")
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == ["lab", "prod", "shared"]
    assert api.get("/multicloud/credentials/prod").json()["provider"] == "aws"
    missing = api.get("/multicloud/credentials/nope")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]


def test_create_writes_secret_then_credential_and_echoes_no_secret() -> None:
    api, writer = client("admin")
    body = {
        "provider": "aws",
        "name": "AWS Prod 2",
        "access_key": "AKIAX",
        "secret_key": "top-secret",
        "region": "us-east-1",
    }
    created = api.post("/multicloud/credentials/", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "aws-prod-2" and created.json()["is_active"] is False
    assert "top-secret" not in created.text and "AKIAX" not in created.text
    assert writer.calls == [("create_secret", "aws-prod-2-credentials"), ("create", "CloudCredential", "aws-prod-2")]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"provider": "aws", "name": "x", "access_key": "k"}, 422),
        ({"provider": "aws", "name": "PROD", "access_key": "k", "secret_key": "s", "region": "eu-west-1"}, 409),
        ({"provider": "aws", "name": "x", "access_key": "k", "secret_key": "s", "region": "Mars"}, 422),
        ({"provider": "aws", "name": "!!!", "access_key": "k", "secret_key": "s", "region": "eu-west-1"}, 422),
        ({"provider": "ibm", "name": "x"}, 422),
        ({"provider": "gcp", "name": "x", "service_account_json": "{}", "unknown": 1}, 422),
    ],
)
def test_create_refusals(body: dict[str, Any], status: int) -> None:
    api, writer = client("admin")
    answer = api.post("/multicloud/credentials/", json=body)
    assert answer.status_code == status and "detail" in answer.json() and answer.json()["request_id"]
    assert writer.calls == []


def test_update_and_delete() -> None:
    api, writer = client("admin")
    writer.secrets["prod-credentials"] = {"daytwo.io/secret-of": "prod", "app.kubernetes.io/managed-by": "daytwo-api"}
    updated = api.patch(
        "/multicloud/credentials/prod", json={"provider": "aws", "secret_key": "rotated", "name": "Prod"}
    )
    assert updated.status_code == 200 and "rotated" not in updated.text
    assert writer.calls == [("patch", "CloudCredential", "prod"), ("patch_secret", "prod-credentials")]
    assert api.patch("/multicloud/credentials/prod", json={"provider": "aws"}).json()["id"] == "prod"  # no change
    moved = api.patch("/multicloud/credentials/prod", json={"provider": "gcp", "name": "x"})
    assert moved.status_code == 409 and "cannot change" in moved.json()["detail"]
    assert api.patch("/multicloud/credentials/prod", json={"name": "no provider"}).status_code == 422
    writer.calls.clear()
    assert api.delete("/multicloud/credentials/prod").status_code == 204
    assert writer.calls == [("delete", "CloudCredential", "prod"), ("delete_secret", "prod-credentials")]
    in_use = api.delete("/multicloud/credentials/shared")
    assert in_use.status_code == 409 and "SnapshotPolicy/nightly" in in_use.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/multicloud/credentials/",
            {"provider": "gcp", "name": "g", "service_account_json": "{}", "project_id": "proj-123456"},
        ),
        ("PATCH", "/multicloud/credentials/prod", {"provider": "aws", "name": "n"}),
        ("DELETE", "/multicloud/credentials/prod", None),
        ("POST", "/multicloud/dashboard/sync/trigger", None),
        ("POST", "/multicloud/resources/", {}),
        ("DELETE", "/multicloud/resources/1", None),
    ],
)
def test_writes_refuse_anonymous_and_viewers(method: str, path: str, body: Any) -> None:
    for role, status in ((None, 401), ("viewer", 403)):
        api, writer = client(role)
        answer = api.request(method, path, json=body)
        assert answer.status_code == status and "detail" in answer.json()
        assert writer.calls == []


def test_inventory_lists_filter_and_page() -> None:
    api, _ = client("viewer")
    vms = api.get("/multicloud/inventory/vms", params={"provider": "aws", "status": "running", "limit": 2, "skip": 2})
    assert vms.status_code == 200
    assert vms.headers["X-Total-Count"] == "3" and vms.headers["X-Page-Number"] == "2"
    assert len(vms.json()) == 1 and vms.json()[0]["resource_type"] == "vm"
    storage = api.get("/multicloud/inventory/storage").json()
    assert {s["provider"] for s in storage} == {"aws", "gcp"}
    networks = api.get("/multicloud/inventory/networks", params={"region": "us-central1"}).json()
    assert [n["resource_id"] for n in networks] == ["/gcp/net/0"]
    one = api.get(f"/multicloud/inventory/{storage[0]['id']}")
    assert one.status_code == 200 and one.json() == storage[0]
    assert api.get("/multicloud/inventory/aws-vm-1").json()["resource_name"] == "vm-1"
    assert api.get("/multicloud/inventory/999").status_code == 404
    assert api.get("/multicloud/inventory/vms", params={"limit": 0}).status_code == 422


def test_billing_states_its_source() -> None:
    api, _ = client("viewer")
    costs = api.get("/multicloud/billing/costs", params={"group_by": "provider"})
    assert costs.status_code == 200, costs.text
    assert costs.json()["source"] == "mixed"
    assert {b["provider"] for b in costs.json()["breakdown"]} == {"aws", "gcp"}
    assert {s["source"] for s in costs.json()["sources"]} == {"cost-explorer", "estimate"}
    day = api.get("/multicloud/billing/costs", params={"start_date": TODAY.isoformat(), "group_by": "day"}).json()
    assert day["breakdown"] == [{"date": TODAY.isoformat(), "cost": 4.0}]
    bad = api.get("/multicloud/billing/costs", params={"start_date": "2026-12-02", "end_date": "2026-12-01"})
    assert bad.status_code == 400 and "after" in bad.json()["detail"]
    summary = api.get("/multicloud/billing/summary").json()
    assert summary["current_month"]["total_cost"] == 4.0 * TODAY.day and summary["source"] == "mixed"


def test_dashboard_and_sync_trigger() -> None:
    api, writer = client("operator")
    stats = api.get("/multicloud/dashboard/stats")
    assert stats.status_code == 200 and stats.json()["total_resources"] == 8 + 4
    triggered = api.post("/multicloud/dashboard/sync/trigger")
    assert triggered.status_code == 202
    assert triggered.json()["credentials"] == ["lab", "prod", "shared"]
    assert writer.calls == [("annotate", "CloudCredential", n) for n in ("lab", "prod", "shared")]
