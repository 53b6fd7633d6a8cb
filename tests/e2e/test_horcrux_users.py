"""horcrux users, roles, permissions and audit export over HTTP: the real facade, apiserver, operator and fakepve.

An admin creates a VmUser: it may power a guest (a ProxmoxNode action written as the caller through
impersonation, group daytwo:operator: RBAC lets it through) but not create or delete one (403). A grant
of VmAllocate on one guest's path lets it past authorisation there only (501: daytwo does not delete
guests; 403 on another guest). A viewer may not list users. Deleting the user makes its token fail.
The audit export (CSV and JSON) holds these changes and never the password.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from tests.harness.facade import Facade, fresh_address
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until

from .conftest import NAMESPACE

# long waits by design (intervals, windows, hung endpoints): above the 120 s default
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

#: Guests other e2e files power or snapshot; this file picks another.
TAKEN = {"100", "101", "105"}


def _login(facade: Facade, username: str, password: str) -> httpx.Client:
    with facade.http(fresh_address()) as http:
        answer = http.post("/horcrux/api/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    return httpx.Client(base_url=f"{facade.url}/horcrux", timeout=30, headers={"Authorization": f"Bearer {token}"})


def _guest(client: httpx.Client) -> dict[str, Any]:
    """A qemu guest no other e2e file touches (the highest vmid)."""
    rows = client.get("/api/vms", params={"limit": 1000}).json()
    free = [r for r in rows if r["hypervisor"] == "qemu" and r["id"] not in TAKEN]
    assert free, rows
    return max(free, key=lambda r: int(r["id"]))


def test_users_roles_permissions_and_audit_export(examples: dict[str, Any], facade: Facade, kubectl: Kubectl) -> None:
    name, password = f"dev-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    admin = httpx.Client(
        base_url=f"{facade.url}/horcrux", timeout=30, headers={"Authorization": f"Bearer {facade.login('admin')}"}
    )
    roles = admin.get("/api/roles").json()
    assert {r["name"]: r["privileges"] for r in roles}["VmUser"] == ["VmPowerMgmt", "VmAudit"]
    created = admin.post("/api/users", json={"username": name, "password": password, "role": "VmUser"})
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert any(u["username"] == name and u["role"] == "VmUser" for u in admin.get("/api/users").json())
    stored = next(s for s in facade.auth_secrets("user") if s["username"] == name)
    assert password not in str(stored) and stored["password_hash"].startswith("$argon2id$")

    dev = _login(facade, name, password)
    wait_until(lambda: dev.get("/api/vms").status_code == 200 and _guest(dev), 120, "guests in the facade")
    guest = _guest(dev)
    vm, other = guest["id"], next(iter(TAKEN))
    operation = "stop" if guest["status"] == "running" else "start"
    powered = dev.post(f"/api/vms/{vm}/{operation}")
    assert powered.status_code == 202, powered.text  # written as daytwo:user:<name>, group daytwo:operator
    node = kubectl.get("proxmoxnode", guest["proxmox_node"], NAMESPACE)
    assert any(a["id"] == powered.json()["job_id"] and a["requestedBy"] == name for a in node["spec"]["actions"])
    assert dev.delete(f"/api/vms/{vm}").status_code == 403
    assert dev.post("/api/vms", json={"name": "new"}).status_code == 403

    granted = admin.post(f"/api/permissions/{user_id}", json={"path": f"/api/vms/{vm}", "privilege": "VmAllocate"})
    assert granted.status_code == 200 and granted.json()["message"] == "Permission added successfully"
    deleted_vm = dev.delete(f"/api/vms/{vm}")
    assert deleted_vm.status_code == 501 and deleted_vm.json()["error"] == "NOT_IMPLEMENTED"  # authorised now
    assert dev.post(f"/api/vms/{vm}/clone", json={}).status_code == 501
    assert dev.delete(f"/api/vms/{other}").status_code == 403 and dev.post("/api/vms", json={}).status_code == 403
    shown = admin.get(f"/api/permissions/{user_id}").json()
    assert {"path": f"/api/vms/{vm}", "privileges": ["VmAllocate"]} in shown["permissions"]

    with facade.client("viewer") as viewer:
        denied = viewer.get(f"{facade.url}/horcrux/api/users")
        assert denied.status_code == 403 and denied.json()["error"] == "FORBIDDEN"
        assert viewer.post(f"{facade.url}/horcrux/api/permissions/{user_id}", json={}).status_code == 403

    assert admin.delete(f"/api/users/{user_id}").json() == {"message": "User deleted successfully"}
    wait_until(lambda: dev.get("/api/vms").status_code == 401, 15, "the deleted user's token to stop working")
    assert not any(s["username"] == name for s in facade.auth_secrets("user"))

    exported = admin.post("/api/audit/export", json={"format": "csv", "resource": f"user/{name}"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["action"] for r in rows} >= {"users.create", "users.grant", "users.delete"}
    assert all(r["user"] == "admin" for r in rows if r["action"].startswith("users."))
    as_json = admin.post("/api/audit/export", json={"format": "json", "user": "admin", "action": "users."})
    assert {(e["action"], e["resource"]) for e in as_json.json()} >= {("users.create", f"user/{name}")}
    for text in (exported.text, as_json.text):
        assert password not in text
    own = admin.post("/api/audit/export", json={"format": "json", "action": "audit.export"}).json()
    assert own and own[0]["user"] == "admin"  # the export is audited itself

    undo = "start" if operation == "stop" else "stop"
    with facade.client("operator") as operator:
        wait_until(
            lambda: operator.post(f"{facade.url}/horcrux/api/vms/{vm}/{undo}").status_code == 202,
            120,
            f"guest {vm} back as it was",
        )
