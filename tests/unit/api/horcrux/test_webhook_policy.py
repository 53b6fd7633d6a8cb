"""Webhook destinations (https, no loopback/link-local unless allow-listed) and URL redaction (issue 16, Low)."""

from __future__ import annotations

import pytest
from daytwo.api.webhooks.urls import check_url, redact
from fastapi.testclient import TestClient

from tests.harness.fakes import PASSWORD

from .test_routes import world

BASE = "/horcrux"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://localhost:8443/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/x",
        "https://[::ffff:127.0.0.1]/x",
        "ftp://hooks.example.com/x",
        "https:///nohost",
    ],
)
def test_refused_destinations(url: str) -> None:
    with pytest.raises(ValueError):
        check_url(url)


def test_allowed_destinations_and_the_allow_list() -> None:
    assert check_url("https://hooks.slack.com/services/T0/B0/abc") == "https://hooks.slack.com/services/T0/B0/abc"
    assert check_url("https://10.1.2.3:8443/hook")  # private networks over https are fine
    assert check_url("http://127.0.0.1:9000/x", "127.0.0.1")
    assert check_url("http://receiver.ops.svc/x", "receiver.ops.svc, 10.0.0.0/8")
    assert check_url("http://10.9.9.9/x", "receiver.ops.svc, 10.0.0.0/8")
    with pytest.raises(ValueError):
        check_url("http://10.9.9.9/x", "192.168.0.0/16")


def test_redaction() -> None:
    assert redact("https://user:pw@hooks.slack.com/services/T0/B0/token?x=1") == "https://hooks.slack.com/…"
    assert redact("http://10.0.0.1:8080/a") == "http://10.0.0.1:8080/…"


def test_routes_refuse_bad_urls_and_redact_for_non_admins() -> None:
    admin, _ = world([], role="admin")
    refused = admin.post(
        f"{BASE}/api/webhooks", json={"name": "n", "url": "http://169.254.169.254/x", "events": ["vm.started"]}
    )
    assert refused.status_code == 422 and "https" in refused.json()["message"]
    url = "https://hooks.example.com/services/T000/B000/very-secret-token"
    made = admin.post(f"{BASE}/api/webhooks", json={"name": "n", "url": url, "events": ["vm.started"]})
    assert made.status_code == 201, made.text
    hook_id = made.json()["id"]
    moved = admin.post(f"{BASE}/api/webhooks/{hook_id}", json={"url": "https://169.254.169.254/"})
    assert moved.status_code == 422
    assert admin.get(f"{BASE}/api/webhooks/{hook_id}").json()["url"] == url
    services = admin.app.state.daytwo  # type: ignore[attr-defined]
    operator = TestClient(admin.app, raise_server_exceptions=False)
    operator.headers["Authorization"] = f"Bearer {services.auth.login('operator', PASSWORD).token}"
    assert operator.get(f"{BASE}/api/webhooks/{hook_id}").json()["url"] == "https://hooks.example.com/…"
    assert "very-secret-token" not in operator.get(f"{BASE}/api/webhooks").text
