"""/resources/ and the deployment-logs WebSocket with FastAPI's TestClient: a store from dicts, a recording writer."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from daytwo.api.routers.multicloud import deployments
from daytwo.api.store import ObjectStore
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.harness.fakes import RecordingWriter, route_client

from .data import credential

PROD = credential("prod", "aws")


def resource(name: str, ready: str | None, reason: str = "Active", **status: Any) -> dict[str, Any]:
    """A CloudResource as the operator leaves it."""
    conditions = (
        []
        if ready is None
        else [
            {
                "type": "Ready",
                "status": ready,
                "reason": reason,
                "message": "",
                "lastTransitionTime": "2026-12-01T00:05:00Z",
            }
        ]
    )
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudResource",
        "metadata": {
            "name": name,
            "namespace": "daytwo",
            "uid": f"uid-{name}",
            "creationTimestamp": "2026-12-01T00:00:00Z",
        },
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "prod"},
            "type": "vm",
            "vm": {"size": "t3.medium", "image": "ami-1", "publicIp": False},
        },
        "status": {"conditions": conditions, **status},
    }


WEB = resource(
    "web",
    "True",
    outputs={"instance_id": "i-1", "private_ip": "10.0.0.5"},
    steps=[
        {"time": "2026-12-01T00:00:01Z", "message": "creating vm"},
        {"time": "2026-12-01T00:00:09Z", "message": "created i-1"},
    ],
)
BROKEN = resource("broken", "False", "ProvisioningFailed")
NEW = resource("new", None)


def client(role: str | None = "admin") -> tuple[TestClient, RecordingWriter]:
    """A facade client as ``role`` and the writer its routes use."""
    made, services = route_client([PROD, WEB, BROKEN, NEW], role=role)
    writer = RecordingWriter()
    services.writer_factory = lambda _principal: writer
    return made, writer


def test_list_and_get_in_the_documented_shape() -> None:
    api, _ = client("viewer")
    listed = {r["id"]: r for r in api.get("/multicloud/resources/").json()}
    assert {k: v["status"] for k, v in listed.items()} == {"web": "active", "broken": "failed", "new": "provisioning"}
    web = api.get("/multicloud/resources/web").json()
    assert web["provider"] == "aws" and web["type"] == "vm" and web["terraform_output"]["instance_id"] == "i-1"
    assert web["terraform_output"]["logs"].splitlines() == [
        "[2026-12-01 00:00:01] creating vm",
        "[2026-12-01 00:00:09] created i-1",
    ]
    assert web["updated_at"] == "2026-12-01T00:05:00Z" and web["details"].startswith("t3.medium VM")
    missing = api.get("/multicloud/resources/nope")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]


def test_create_writes_a_cloudresource_naming_the_ready_credential() -> None:
    api, writer = client("admin")
    body = {
        "name": "api-server",
        "provider": "aws",
        "type": "vm",
        "configuration": {
            "instance_type": "t3.small",
            "ami": "ami-9",
            "region": "eu-west-1",
            "security_groups": ["sg-1"],
        },
    }
    answer = api.post("/multicloud/resources/", json=body)
    assert answer.status_code == 202, answer.json()
    assert answer.json() | {} == {
        "id": "api-server",
        "name": "api-server",
        "provider": "aws",
        "type": "vm",
        "status": "provisioning",
        "task_id": "api-server",
        "message": "Resource provisioning started",
    }
    assert writer.calls == [("create", "CloudResource", "api-server")]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {"name": "x1", "provider": "azure", "type": "vm", "configuration": {"size": "B2s", "image": "img"}},
            "no azure credential",
        ),
        (
            {
                "name": "x2",
                "provider": "aws",
                "type": "vm",
                "configuration": {"size": "t3", "image": "a", "colour": "red"},
            },
            "colour",
        ),
        ({"name": "x3", "provider": "aws", "type": "storage", "configuration": {"kind": "tape"}}, "configuration"),
        ({"name": "web", "provider": "aws", "type": "vm", "configuration": {"size": "t3", "image": "a"}}, "exists"),
    ],
)
def test_bad_creates_are_refused_with_what_to_fix(body: dict[str, Any], fragment: str) -> None:
    api, writer = client("admin")
    answer = api.post("/multicloud/resources/", json=body)
    assert answer.status_code in (409, 422) and fragment in str(answer.json()["detail"])
    assert writer.calls == []


def test_delete_is_202_and_viewers_may_not_write() -> None:
    api, writer = client("admin")
    answer = api.delete("/multicloud/resources/web")
    assert answer.status_code == 202 and answer.json() == {"message": "Resource destruction started", "task_id": "web"}
    assert writer.calls == [("delete", "CloudResource", "web")]
    viewer, _ = client("viewer")
    assert viewer.delete("/multicloud/resources/web").status_code == 403


def test_websocket_streams_steps_until_settled_and_needs_a_token() -> None:
    api, _ = client("admin")
    token = api.headers["authorization"].split()[1]
    with api.websocket_connect(f"/multicloud/ws/deployments/web/logs?token={token}") as ws:
        lines = [ws.receive_text() for _ in range(3)]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert lines[:2] == ["[2026-12-01 00:00:01] creating vm", "[2026-12-01 00:00:09] created i-1"]
    assert lines[2].endswith("Resource web is active") and closed.value.code == 1000
    anonymous = TestClient(api.app)
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        anonymous.websocket_connect("/multicloud/ws/deployments/web/logs"),
    ):
        pass
    assert refused.value.code == 1008
    with (
        pytest.raises(WebSocketDisconnect) as unknown,
        api.websocket_connect(f"/multicloud/ws/deployments/nope/logs?token={token}") as ws,
    ):
        ws.receive_text()  # accepted, then closed: a close before accept would reach a browser as HTTP 403
    assert unknown.value.code == 4404


def test_websocket_waits_for_a_resource_the_watch_has_not_brought_yet() -> None:
    """A client connecting right after its POST's 202 may beat the watch event: the id is looked for a while."""

    class LateStore:
        def __init__(self) -> None:
            self.looks = 0

        def get(self, kind: str, name: str) -> dict[str, object] | None:
            self.looks += 1
            return {"metadata": {"name": name}} if self.looks > 3 else None

    services = SimpleNamespace(store=LateStore())
    assert asyncio.run(deployments._appears(services, "web", within=5.0)) is True  # type: ignore[arg-type]
    assert asyncio.run(deployments._appears(SimpleNamespace(store=ObjectStore.of([])), "web", within=0.2)) is False  # type: ignore[arg-type]
