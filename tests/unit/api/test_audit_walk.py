"""Every write route of every API, and every denial, leaves exactly one audit trail (issue 16 item 6).

The walk reads the five sub-apps' route tables, so a route added tomorrow is walked too: each write
is called as an admin and anonymously (a body that may well fail validation: any status will do)
and must add audit entries carrying the client IP and user agent, either the route's own richer
entries or one generic ``request.*`` entry, never both.
"""

from __future__ import annotations

import json
import re
from typing import Any

from daytwo.api.app import WRITE_METHODS
from daytwo.api.audit import AuditLog
from daytwo.api.deps import Services
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.harness.fakes import PASSWORD, route_client

PARAM = re.compile(r"\{([^}:]+)(:[^}]*)?\}")


def write_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path with every parameter filled) of every write route of the five APIs."""
    found = []
    for mount in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(mount, Mount):
            continue
        for route in getattr(mount.app, "routes", []):
            if isinstance(route, APIRoute):
                for method in sorted(set(route.methods or ()) & WRITE_METHODS):
                    found.append((method, mount.path + PARAM.sub("walk-0", route.path)))
    return found


def new_entries(services: Services, after: int) -> list[dict[str, Any]]:
    assert services.audit is not None
    _, page = services.audit.entries(limit=10_000)
    return [e for e in page if int(e["id"]) > after]


def last_id(services: Services) -> int:
    assert services.audit is not None
    _, page = services.audit.entries(limit=1)
    return int(page[0]["id"]) if page else 0


def test_every_write_route_is_audited_once_with_ip_and_user_agent() -> None:
    client, services = route_client(role=None)
    services.audit = AuditLog(services.store, None, "daytwo", quota_per_minute=1_000_000)
    assert services.auth is not None
    token = services.auth.login("admin", PASSWORD).token
    routes = write_routes(client)
    assert len(routes) > 60 and {p.split("/")[1] for _, p in routes} == {
        "platform9",
        "horcrux",
        "pmi",
        "spot",
        "multicloud",
    }
    unaudited, doubled = [], []
    for method, path in routes:
        for headers in ({"Authorization": f"Bearer {token}"}, {}):
            before = last_id(services)
            answer = client.request(method, path, json={}, headers={**headers, "User-Agent": "walker/1"})
            entries = new_entries(services, before)
            if not entries:
                unaudited.append((method, path, answer.status_code))
                continue
            generic = [e for e in entries if e["action"].startswith("request.")]
            if (generic and len(entries) > len(generic)) or len(generic) > 1:
                doubled.append((method, path, [e["action"] for e in entries]))
            for entry in entries:
                assert entry["details"]["ip_address"] == "testclient", entry
                assert entry["details"]["user_agent"] == "walker/1", entry
            if not headers:
                assert answer.status_code != 401 or entries[0]["outcome"] == "denied", entries
    assert not unaudited, unaudited
    assert not doubled, doubled


def test_generic_entries_name_the_route_status_and_caller_and_denials_are_recorded() -> None:
    client, services = route_client(role="viewer")
    refused = client.post("/pmi/api/proxmox/nodes/pve-1/resources/101/stop")
    assert refused.status_code == 403
    _, page = services.audit.entries(limit=1)  # type: ignore[union-attr]
    entry = page[0]
    assert entry["action"] == "request.denied" and entry["outcome"] == "denied" and entry["user"] == "viewer"
    assert entry["target"] == "/pmi/api/proxmox/nodes/{node_id}/resources/{vmid}/stop"
    assert entry["details"]["status"] == 403 and entry["details"]["method"] == "POST"
    assert entry["details"]["ip_address"] == "testclient" and entry["details"]["user_agent"] == "testclient"
    read_denied = client.get("/horcrux/api/audit/events")
    assert read_denied.status_code == 403  # a denied read is audited too
    anonymous = client.get("/horcrux/api/vms", headers={"Authorization": "Bearer forged"})
    assert anonymous.status_code == 401
    _, page = services.audit.entries(limit=2)  # type: ignore[union-attr]
    assert [(e["user"], e["details"]["status"]) for e in page] == [("anonymous", 401), ("viewer", 403)]
    assert client.get("/horcrux/api/vms").status_code == 200
    assert services.audit.entries(limit=1)[1][0]["id"] == page[0]["id"]  # type: ignore[union-attr]  # reads: none


def test_credential_bodies_and_secrets_never_reach_the_audit_log() -> None:
    client, services = route_client(role="admin")
    secret = "s3cr3t-value-never-logged"
    client.post(
        "/multicloud/credentials",
        json={"name": "c1", "provider": "aws", "credentials": {"secret_access_key": secret, "access_key_id": secret}},
    )
    client.post(
        "/pmi/api/proxmox/nodes",
        json={"name": "n", "host": "pve.example.com", "api_token_id": "a@pam!t", "api_token_secret": secret},
    )
    client.post("/horcrux/api/auth/password", json={"old_password": secret, "new_password": secret + "x"})
    _, page = services.audit.entries(limit=100)  # type: ignore[union-attr]
    assert len(page) >= 3 and secret not in json.dumps(page)
