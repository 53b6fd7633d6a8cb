"""spot routes with FastAPI's TestClient: a store filled from dicts, a recording writer, callers by role."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from daytwo.api.errors import ApiError
from daytwo.api.routers.spot.common import SpotSettings
from daytwo.api.routers.spot.unsupported import UNSUPPORTED
from daytwo.api.store import ObjectStore
from fastapi.testclient import TestClient

from tests.harness.fakes import PASSWORD, RecordingWriter, route_client

from .estate_data import NAMESPACE, configmaps, credential, log_entry, migration

PLAN = {
    "plan": {
        "commands": ["openstack aggregate add host L40-n3 l40-4", "openstack aggregate remove host L40-n3-spot l40-4"],
        "checks": [{"name": n, "ok": True, "message": ""} for n in ("SourceExists", "TargetExists", "HostInSource")],
        "runningVms": 0,
        "availabilityZoneBefore": "az-east",
        "availabilityZoneAfter": "az-east",
    },
    "conditions": [{"type": "Ready", "status": "True", "reason": "PreviewReady", "message": "ready"}],
}


class PlanningWriter(RecordingWriter):
    """The harness's recording writer, naming created objects like ``generateName`` does and, when
    ``plan`` is set, giving dry runs the status an instant operator would write."""

    def __init__(self, plan: dict[str, Any] | None) -> None:
        super().__init__()
        self.plan = plan
        self.created: list[dict[str, Any]] = []
        self.refusal: ApiError | None = None

    def reset(self, plan: dict[str, Any] | None = PLAN) -> None:
        """Forget the calls; plan dry runs like this from now on."""
        self.calls.clear()
        self.created.clear()
        self.plan, self.refusal = plan, None

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record the create and answer the stored object (or raise ``refusal``, as Kubernetes would)."""
        if self.refusal is not None:
            raise self.refusal
        created = copy.deepcopy(body)
        created["metadata"]["name"] = body["metadata"]["generateName"] + f"x{len(self.calls)}"
        if self.plan is not None and body["spec"]["dryRun"]:
            created["status"] = copy.deepcopy(self.plan)
        self.calls.append(("create", kind, created["metadata"]["name"]))
        self.created.append(created)
        return created


def client_for(
    objects: list[dict[str, Any]], writer: RecordingWriter, role: str | None = "operator", wait: float = 0.0
) -> TestClient:
    """The whole facade over ``objects``, logged in as ``role``; spot previews wait ``wait`` seconds."""
    client, services = route_client(objects, role=role, namespace=NAMESPACE)
    services.writer_factory = lambda _principal: writer
    spot = next(route.app for route in client.app.routes if getattr(route, "path", "") == "/spot")  # type: ignore[attr-defined]
    spot.state.spot_settings = SpotSettings(api_spot_preview_wait_seconds=wait)
    client.base_url = client.base_url.join("/spot")
    client.app_state = services  # type: ignore[attr-defined]
    return client


_TOKENS: dict[tuple[int, str], str] = {}


def login(client: TestClient, role: str | None) -> None:
    """Act as ``role`` from now on (None: anonymous); the spot API has no login route, any API's token works."""
    client.headers.pop("Authorization", None)
    services = client.app_state  # type: ignore[attr-defined]
    if role is not None:
        key = (id(services), role)
        if key not in _TOKENS:  # a login verifies an argon2 hash: once per role
            _TOKENS[key] = services.auth.login(role, PASSWORD).token
        client.headers["Authorization"] = f"Bearer {_TOKENS[key]}"


@pytest.fixture(scope="module")
def shared() -> tuple[TestClient, PlanningWriter]:
    """One facade for the module (building one hashes a password per role)."""
    writer = PlanningWriter(PLAN)
    return client_for([credential(), *configmaps(), *_log()], writer), writer


@pytest.fixture
def writer(shared: tuple[TestClient, PlanningWriter]) -> PlanningWriter:
    shared[1].reset()
    return shared[1]


def _log() -> list[dict[str, Any]]:
    return [
        migration("done", log=[log_entry("2026-11-30T10:00:00Z", "openstack aggregate add host L40-n3 l40-4")]),
        migration("preview-only", dry_run=True),
    ]


@pytest.fixture
def client(shared: tuple[TestClient, PlanningWriter], writer: PlanningWriter) -> TestClient:
    login(shared[0], "operator")
    return shared[0]


def test_gpu_types_and_aggregates(client: TestClient) -> None:
    types = client.get("/api/gpu-types").json()
    assert types["status"] == "success" and [t["name"] for t in types["data"]] == ["H100", "L40"]
    aggs = client.get("/api/aggregates/L40").json()["data"]
    assert aggs["ondemand"]["name"] == "L40-n3" and aggs["gpu_overview"]["gpu_usage_ratio"] == "24/40"
    assert client.get("/api/aggregates/L40/spot").json()["data"]["hosts"][0]["hostname"] == "l40-4"
    assert client.get("/api/contract-aggregates/L40").json()["data"][0]["aggregate"] == "Contract-L40-Acme"
    assert client.get("/api/host-vms/l40-1").json()["data"]["total_vms"] == 2
    target = client.post("/api/get-target-aggregate", json={"hostname": "l40-3", "gpu_type": "L40"}).json()
    assert target["data"]["recommended_aggregate"] == "L40-n3-spot"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/aggregates/B200", None),
        ("GET", "/api/aggregates/H100/spot", None),
        ("GET", "/api/host-vms/ghost", None),
        ("POST", "/api/get-target-aggregate", {"hostname": "ghost"}),
        ("GET", "/api/migrations/nope", None),
    ],
)
def test_unknown_things_are_404_in_the_envelope(client: TestClient, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 404
    assert response.json()["status"] == "error" and response.json()["error"]


def test_bad_input_is_422_in_the_envelope(client: TestClient) -> None:
    response = client.get("/api/aggregates/L40/contract")
    assert response.status_code == 422 and response.json()["status"] == "error"
    response = client.post("/api/preview-migration", json={"host": "l40-4"})
    assert response.status_code == 422 and "source_aggregate" in response.json()["error"]


def test_without_a_compute_inventory_reads_say_what_to_do() -> None:
    other = {**credential(), "metadata": {"name": "second", "namespace": NAMESPACE, "uid": "uid-2"}}
    client = client_for([credential(("vms",)), other], PlanningWriter(PLAN))
    response = client.get("/api/gpu-types")  # openstack-prod has no compute; "second" has, but no inventory yet
    assert response.status_code == 503 and "has no host aggregates yet" in response.json()["error"]
    assert "CloudCredential second" in response.json()["error"]
    client.app_state.store = ObjectStore.of([credential(("vms",))], NAMESPACE)  # type: ignore[attr-defined]
    response = client.get("/api/gpu-types")
    assert response.status_code == 503 and "add compute to spec.inventory.kinds" in response.json()["error"]


def test_preview_creates_a_dry_run_answers_its_plan_and_deletes_it(client: TestClient, writer: PlanningWriter) -> None:
    body = {"host": "l40-4", "source_aggregate": "L40-n3-spot", "target_aggregate": "L40-n3"}
    response = client.post("/api/preview-migration", json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["commands"][0] == "openstack aggregate add host L40-n3 l40-4"
    assert data["validation"] == {"source_exists": True, "target_exists": True, "host_in_source": True}
    (created,) = writer.created
    assert created["spec"]["dryRun"] is True and created["spec"]["credentialsRef"]["name"] == "openstack-prod"
    assert created["spec"]["requestedBy"] == "operator"  # the caller's username
    name = created["metadata"]["name"]
    assert writer.calls == [("create", "AggregateMigration", name), ("delete", "AggregateMigration", name)]


def test_a_slow_preview_answers_202_with_the_job_id(client: TestClient, writer: PlanningWriter) -> None:
    writer.reset(plan=None)
    body = {"host": "l40-4", "source_aggregate": "L40-n3-spot", "target_aggregate": "L40-n3"}
    response = client.post("/api/preview-migration", json=body)
    assert response.status_code == 202
    assert response.json()["data"]["job_id"].startswith("spot-preview-l40-4-") and len(writer.calls) == 1


def test_execute_answers_202_with_the_migration_name(client: TestClient, writer: PlanningWriter) -> None:
    body = {"host": "l40-4", "source_aggregate": "L40-n3-spot", "target_aggregate": "L40-n3", "force": True}
    response = client.post("/api/execute-migration", json=body)
    assert response.status_code == 202
    data = response.json()["data"]
    assert data["job_id"].startswith("spot-execute-l40-4-") and data["phase"] == "Pending"
    (created,) = writer.created
    assert created["spec"]["dryRun"] is False and created["spec"]["force"] is True


def test_poll_command_log_and_clear_log(client: TestClient, writer: PlanningWriter) -> None:
    assert client.get("/api/migrations/done").json()["data"]["commands_executed"] == [
        "openstack aggregate add host L40-n3 l40-4"
    ]
    log = client.get("/api/command-log").json()["data"]
    assert [(e["migration"], e["execution_time"]) for e in log] == [("done", "1.2s")]
    cleared = client.post("/api/clear-log").json()
    assert cleared["message"] == "Command log cleared successfully" and cleared["data"] == {"migrations": ["done"]}
    assert writer.calls == [("annotate", "AggregateMigration", "done")]


def test_roles(client: TestClient) -> None:
    login(client, "viewer")
    assert client.get("/api/gpu-types").status_code == 200
    assert client.get("/api/command-log").status_code == 200
    for path in ("/api/preview-migration", "/api/execute-migration"):
        body = {"host": "h", "source_aggregate": "a", "target_aggregate": "b"}
        response = client.post(path, json=body)
        assert response.status_code == 403 and "migrations:write" in response.json()["error"]
    assert client.post("/api/clear-log").status_code == 403
    login(client, None)
    assert client.get("/api/gpu-types").status_code == 401
    assert client.post("/api/clear-log").status_code == 401


@pytest.mark.parametrize(("method", "path", "why"), UNSUPPORTED)
def test_unsupported_routes_answer_501_after_auth(client: TestClient, method: str, path: str, why: str) -> None:
    response = client.request(method, path, json={})
    assert response.status_code == 501 and response.json()["error"].endswith(why)
    login(client, None)
    assert client.request(method, path, json={}).status_code == 401


def test_the_writer_errors_reach_the_caller(client: TestClient, writer: PlanningWriter) -> None:
    writer.refusal = ApiError(403, "aggregatemigrations is forbidden: User cannot create")
    body = {"host": "l40-4", "source_aggregate": "L40-n3-spot", "target_aggregate": "L40-n3"}
    response = client.post("/api/execute-migration", json=body)
    assert response.status_code == 403 and "forbidden" in response.json()["error"]
