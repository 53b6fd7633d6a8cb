"""Every error of every sub-app is in its API's documented envelope and carries the request id."""

from __future__ import annotations

import pytest
from daytwo.api.errors import FAMILIES, ApiError, envelope, install_envelope
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tests.harness.fakes import route_client

EXPECTED = {
    "platform9": {"detail", "request_id"},
    "multicloud": {"detail", "request_id"},
    "horcrux": {"status", "error", "message", "details", "request_id", "timestamp"},
    "pmi": {"success", "error", "error_code", "details", "timestamp", "request_id"},
    "spot": {"status", "error", "details", "request_id"},
}


@pytest.mark.parametrize("family", FAMILIES)
def test_envelope_keys_per_family(family: str) -> None:
    body = envelope(family, 404, "VM 'x' not found", None, None, "req_1")  # type: ignore[arg-type]
    assert set(body) == EXPECTED[family]
    assert body["request_id"] == "req_1"


def test_horcrux_and_pmi_codes() -> None:
    assert envelope("horcrux", 409, "taken", None, None, "r")["error"] == "CONFLICT"
    assert envelope("pmi", 401, "no", None, None, "r")["error_code"] == "AUTH_ERROR"
    assert envelope("pmi", 418, "tea", None, None, "r")["error_code"] == "HTTP_418"
    assert envelope("spot", 500, "boom", None, {"a": 1}, "r")["status"] == "error"


class Body(BaseModel):
    count: int


def app_for(family: str) -> TestClient:
    app = FastAPI()
    install_envelope(app, family)  # type: ignore[arg-type]

    @app.get("/api-error")
    def api_error() -> None:
        raise ApiError(409, "already running", "CONFLICT", {"job": "x"})

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    @app.post("/validate")
    def validate(body: Body) -> dict[str, int]:
        return {"count": body.count}

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("family", FAMILIES)
def test_api_error_validation_and_crash_are_enveloped(family: str) -> None:
    client = app_for(family)
    conflict = client.get("/api-error")
    assert conflict.status_code == 409 and set(conflict.json()) == EXPECTED[family]
    invalid = client.post("/validate", json={"count": "many", "password": "hunter2"})
    assert invalid.status_code == 422 and set(invalid.json()) == EXPECTED[family]
    assert "hunter2" not in invalid.text and "many" not in invalid.text  # inputs are not echoed
    crash = client.get("/crash")
    assert crash.status_code == 500 and set(crash.json()) == EXPECTED[family]
    assert "passwd" not in crash.text and "RuntimeError" not in crash.text


@pytest.mark.parametrize("family", FAMILIES)
def test_mounted_errors_carry_the_request_id(family: str) -> None:
    client, _ = route_client(role=None)
    missing = client.get(f"/{family}/no/such/route", headers={"X-Request-ID": "trace-42"})
    assert missing.status_code == 404
    assert missing.json()["request_id"] == "trace-42" == missing.headers["x-request-id"]
    generated = client.get(f"/{family}/no/such/route")
    assert generated.json()["request_id"].startswith("req_")
    insane = client.get(f"/{family}/x", headers={"X-Request-ID": "bad id\twith spaces"})
    assert insane.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("family", FAMILIES)
def test_openapi_documents_the_real_422_body(family: str) -> None:
    app = FastAPI()
    install_envelope(app, family)  # type: ignore[arg-type]

    @app.post("/validate")
    def validate(body: Body) -> dict[str, int]:
        return {"count": body.count}

    documented = app.openapi()["components"]["schemas"]["HTTPValidationError"]["properties"]
    client = TestClient(app, raise_server_exceptions=False)
    assert set(client.post("/validate", json={}).json()) == set(documented)


def test_front_door_counts_sub_app_routes_by_template() -> None:
    client, _ = route_client(role="viewer")
    assert client.get("/horcrux/api/users/viewer/api-keys").status_code == 200
    assert client.get("/horcrux/api/users/someone/api-keys").status_code == 403
    text = client.get("/metrics").text
    assert 'route="/horcrux/api/users/{username}/api-keys",status="200"' in text
    assert 'route="/horcrux/api/users/{username}/api-keys",status="403"' in text


def test_paths_outside_the_five_apis_still_carry_the_request_id() -> None:
    client, _ = route_client(role=None)
    lost = client.get("/nowhere", headers={"X-Request-ID": "trace-7"})
    assert lost.status_code == 404 and lost.json() == {"detail": "Not Found", "request_id": "trace-7"}
    wrong_method = client.post("/health")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    assert wrong_method.json()["request_id"] == wrong_method.headers["x-request-id"]
