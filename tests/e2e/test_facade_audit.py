"""The audit trail over HTTP (issue 16 item 6): a pmi power write and a denial, each with the caller's
IP (as the server saw it) and user agent, readable in horcrux /api/audit/events and security-events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.harness.facade import Facade, fresh_address
from tests.harness.processes import wait_until

pytestmark = pytest.mark.e2e


def audit_events(facade: Facade, **params: Any) -> list[dict[str, Any]]:
    with facade.client("admin") as admin:
        answer = admin.get("/horcrux/api/audit/events", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_a_pmi_power_write_and_a_denial_are_audited_with_ip_and_user_agent(facade: Facade) -> None:
    agent = f"e2e-audit/{uuid.uuid4()}"
    address = fresh_address()
    token = facade.login("admin")
    with facade.http(address, headers={"Authorization": f"Bearer {token}", "User-Agent": agent}) as admin:
        power = admin.post("/pmi/api/proxmox/nodes/pve-audit-missing/resources/4242/start")
    assert power.status_code in (202, 404), power.text

    def written() -> dict[str, Any] | None:
        return next((e for e in audit_events(facade, user="admin") if e["user_agent"] == agent), None)

    wait_until(written, 30, "the power write in the audit log")
    entry = written()
    assert entry is not None and entry["ip_address"] == address
    assert "/pmi/api/proxmox/nodes/" in entry["resource"] or "pve-audit-missing" in entry["resource"]

    denied_from = fresh_address()
    with facade.http(denied_from, headers={"User-Agent": agent}) as anonymous:
        assert anonymous.post("/pmi/api/proxmox/nodes/pve-audit-missing/resources/4242/stop").status_code == 401
    with facade.client("admin") as reader:
        security = reader.get("/horcrux/api/audit/security-events")
    assert security.status_code == 200
    found = [e for e in security.json() if e["user_agent"] == agent]
    assert found and found[0]["ip_address"] == denied_from and found[0]["event_type"] == "authentication_failed"
    assert found[0]["status"] == 401 and found[0]["user"] == "anonymous"


def test_bodies_over_the_limit_are_refused_before_they_are_read(facade: Facade) -> None:
    with facade.client("admin") as admin:
        too_big = admin.post("/pmi/api/proxmox/nodes", content=b"{" + b" " * (2 * 1024 * 1024) + b"}")
        assert too_big.status_code == 413 and too_big.json()["error_code"] == "PAYLOAD_TOO_LARGE"
        streamed = admin.post("/pmi/api/proxmox/nodes", content=iter([b" " * (512 * 1024)] * 4))
        assert streamed.status_code == 413
    with facade.client("admin") as admin:  # the server is still answering
        assert admin.get("/pmi/api/proxmox/nodes").status_code == 200
