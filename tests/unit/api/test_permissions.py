"""horcrux roles, privileges and path-scoped grants (api/auth/roles.py), and the routes that manage them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from daytwo.api.audit import AuditLog
from daytwo.api.auth.accounts import Accounts
from daytwo.api.auth.roles import HORCRUX_ROLES, PRIVILEGES, path_covers, permissions_of
from daytwo.api.auth.service import Principal
from daytwo.api.store import ObjectStore
from fastapi.testclient import TestClient

from tests.harness.fakes import SecretsAndConfigMaps, route_client

from .test_audit import sync

BASE = "/horcrux"


@pytest.mark.parametrize(
    ("scope", "path", "covered"),
    [
        ("/", "/api/vms/100", True),
        ("*", "/api/anything", True),
        ("/*", None, True),
        ("/api/vms/*", "/api/vms", True),
        ("/api/vms/*", "/api/vms/7/start", True),
        ("/api/vms/100", "/api/vms/100", True),
        ("/api/vms/100", "/api/vms/100/start", True),
        ("/api/vms/100", "/api/vms/1000", False),
        ("/api/vms/100", "/api/vms/101", False),
        ("/api/vms/100", "/api/vmsx/100", False),
        ("/api/vms/100", None, False),
        ("/api/vms/*", "/api/backups", False),
    ],
)
def test_a_grant_covers_its_path_and_below_only(scope: str, path: str | None, covered: bool) -> None:
    assert path_covers(scope, path) is covered


def test_role_privileges_give_their_permissions_everywhere_and_nothing_more() -> None:
    vm_user = Principal("u", "viewer", permissions_of("viewer"), grants=(("/", "VmPowerMgmt"), ("/", "VmAudit")))
    assert vm_user.can("vms:write", "/api/vms/5/start") and vm_user.can("vms:write")
    assert not vm_user.can("vms:admin", "/api/vms/5") and not vm_user.can("snapshots:write", "/api/vms/5")
    assert vm_user.impersonate_group == "daytwo:operator"  # its power writes need daytwo-editor
    auditor = Principal("a", "viewer", permissions_of("viewer"), grants=(("/", "SysAudit"),))
    assert auditor.can("audit:read", "/api/audit/export") and not auditor.can("users:write", "/api/users")
    assert auditor.impersonate_group == "daytwo:viewer"


def test_a_scoped_grant_gives_its_permission_on_that_path_only() -> None:
    user = Principal("u", "viewer", permissions_of("viewer"), grants=(("/api/vms/100", "VmAllocate"),))
    assert user.can("vms:admin", "/api/vms/100") and user.can("vms:admin", "/api/vms/100/clone")
    assert not user.can("vms:admin", "/api/vms/101") and not user.can("vms:admin", "/api/vms")
    assert not user.can("vms:admin")  # no path: only grants on / count
    assert user.impersonate_group == "daytwo:admin"
    assert Principal.of("p", "pending").impersonate_group == "daytwo:pending"


def test_the_role_table_names_only_known_privileges_and_roles() -> None:
    for name, role in HORCRUX_ROLES.items():
        assert role.privileges == ("*",) or set(role.privileges) <= set(PRIVILEGES), name
    assert HORCRUX_ROLES["VmUser"].privileges == ("VmPowerMgmt", "VmAudit")
    for privilege in PRIVILEGES.values():  # an admin may grant every privilege: it holds them all itself
        assert set(privilege.permissions) <= permissions_of("admin")


def _login(client: TestClient, username: str, password: str) -> TestClient:
    answer = client.post(f"{BASE}/api/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    other = TestClient(client.app, raise_server_exceptions=False)
    other.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return other


def test_admin_creates_a_vm_user_grants_one_vm_and_deletes_it() -> None:
    admin, services = route_client(role="admin")
    created = admin.post(
        f"{BASE}/api/users",
        json={"username": "dev", "password": "dev-password-1", "email": "d@example.com", "role": "VmUser"},
    )
    assert created.status_code == 201 and created.json()["message"] == "User created successfully"
    user_id = created.json()["id"]
    assert isinstance(user_id, int) and user_id == Accounts.user_id_for("dev")
    listed = {u["username"]: u for u in admin.get(f"{BASE}/api/users").json()}
    assert listed["dev"]["role"] == "VmUser" and listed["dev"]["daytwo_role"] == "viewer"
    assert "password" not in json.dumps(listed) and "hash" not in json.dumps(listed)
    dev = _login(admin, "dev", "dev-password-1")
    assert dev.delete(f"{BASE}/api/vms/100").status_code == 403
    assert dev.post(f"{BASE}/api/vms", json={}).status_code == 403
    assert dev.get(f"{BASE}/api/users").status_code == 403
    granted = admin.post(f"{BASE}/api/permissions/{user_id}", json={"path": "/api/vms/100", "privilege": "VmAllocate"})
    assert granted.status_code == 200 and granted.json()["message"] == "Permission added successfully"
    assert dev.delete(f"{BASE}/api/vms/100").status_code == 501  # past authorisation: not implemented by daytwo
    assert dev.delete(f"{BASE}/api/vms/101").status_code == 403
    shown = admin.get(f"{BASE}/api/permissions/dev").json()
    assert (
        shown["user_id"] == user_id and {"path": "/api/vms/100", "privileges": ["VmAllocate"]} in shown["permissions"]
    )
    assert {"path": "/", "privileges": ["VmPowerMgmt", "VmAudit"]} in shown["permissions"]
    bad = admin.post(f"{BASE}/api/permissions/dev", json={"path": "/api/vms/100", "privilege": "Root"})
    assert bad.status_code == 422 and "VmAllocate" in bad.json()["message"]
    revoked = admin.delete(f"{BASE}/api/permissions/dev", params={"path": "/api/vms/100", "privilege": "VmAllocate"})
    assert revoked.status_code == 200 and dev.delete(f"{BASE}/api/vms/100").status_code == 403
    assert admin.delete(f"{BASE}/api/users/{user_id}").json() == {"message": "User deleted successfully"}
    assert dev.get(f"{BASE}/api/vms").status_code == 401
    actions = [e["action"] for e in services.audit.entries(limit=50)[1]] if services.audit else []
    assert {"users.create", "users.grant", "users.revoke", "users.delete"} <= set(actions)


def test_only_admins_change_users_and_nobody_changes_a_superadmin_without_users_admin() -> None:
    operator, services = route_client(role="operator")
    assert operator.post(f"{BASE}/api/users", json={"username": "x", "password": "long-enough"}).status_code == 403
    admin = TestClient(operator.app, raise_server_exceptions=False)
    assert services.auth is not None
    admin.headers["Authorization"] = "Bearer " + services.auth.login("admin", "password-for-tests").token
    assert admin.delete(f"{BASE}/api/users/superadmin").status_code == 403
    assert admin.delete(f"{BASE}/api/users/admin").status_code == 409  # oneself
    taken = admin.post(f"{BASE}/api/users", json={"username": "viewer", "password": "long-enough", "role": "VmUser"})
    assert taken.status_code == 409
    unknown = admin.post(f"{BASE}/api/users", json={"username": "y", "password": "long-enough", "role": "Wizard"})
    assert unknown.status_code == 422 and "VmUser" in unknown.json()["message"]
    assert [r["name"] for r in admin.get(f"{BASE}/api/roles").json()] == list(HORCRUX_ROLES)


def test_grants_survive_a_reload_of_the_signed_record() -> None:
    backend = SecretsAndConfigMaps()
    accounts = Accounts("ns", "s" * 40, None, backend)
    accounts.watcher.replace([], "1", notify=False)
    from dataclasses import replace

    from daytwo.api.auth.accounts import User

    accounts.put_user(User("g", "h", "viewer", "", True, "2026-01-01T00:00:00Z", 0, horcrux_role="VmUser"), True)
    stored = accounts.user("g")
    assert stored is not None
    accounts.put_user(replace(stored, grants=(("/api/vms/1", "VmSnapshot"),)), create=False)
    fresh = Accounts("ns", "s" * 40, None, backend)
    fresh.watcher.replace([dict(o, kind="Secret") for o in backend.objects.values()], "2", notify=False)
    again = fresh.user("g")
    assert again is not None and again.grants == (("/api/vms/1", "VmSnapshot"),) and again.horcrux_role == "VmUser"


def test_iter_entries_walks_both_rings_newest_first_like_entries() -> None:
    store = ObjectStore.of([], "ns")
    backend = SecretsAndConfigMaps()
    log = AuditLog(store, backend, "ns", segments=3, per_segment=4)
    admin, viewer = Principal.of("root", "admin"), Principal.of("vic", "viewer")
    for i in range(30):
        log.record(admin if i % 3 == 0 else viewer, "vm.start", f"vm-{i}")
        if i % 5 == 0:
            log.flush()
            sync(store, backend)
    expected = [e["id"] for e in log.entries(limit=1000)[1]]
    assert [e["id"] for e in log.iter_entries()] == expected and len(expected) > 12
    assert [e["id"] for e in log.iter_entries(user="root")] == [e["id"] for e in log.entries(user="root", limit=99)[1]]


def test_audit_export_streams_csv_and_json_without_passwords_and_is_audited() -> None:
    admin, services = route_client(role="admin")
    admin.post(f"{BASE}/api/users", json={"username": "eve", "password": "secret-pass-9", "role": "Auditor"})
    admin.post(f"{BASE}/api/users", json={"username": "fay", "password": "secret-pass-9", "role": "Auditor"})
    as_csv = admin.post(f"{BASE}/api/audit/export", json={"format": "csv", "action": "users."})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["resource"] for r in rows} == {"user/eve", "user/fay"} and all(
        r["action"] == "users.create" for r in rows
    )
    assert "secret-pass-9" not in as_csv.text
    as_json = admin.post(f"{BASE}/api/audit/export", json={"format": "json", "start": "2000-01-01T00:00:00Z"})
    events = as_json.json()
    assert events[0]["action"] == "audit.export" and "users.create" in {e["action"] for e in events}
    assert "secret-pass-9" not in as_json.text
    none = admin.post(f"{BASE}/api/audit/export", json={"format": "json", "end": "2000-01-01T00:00:00Z"})
    assert none.json() == []
    bad = admin.post(f"{BASE}/api/audit/export", json={"start": "yesterday"})
    assert bad.status_code == 422 and "ISO 8601" in bad.json()["message"]
    viewer = TestClient(admin.app, raise_server_exceptions=False)
    assert services.auth is not None
    viewer.headers["Authorization"] = "Bearer " + services.auth.login("viewer", "password-for-tests").token
    assert viewer.post(f"{BASE}/api/audit/export", json={}).status_code == 403


def test_csv_cells_never_start_a_formula() -> None:
    from daytwo.api.routers.horcrux.audit import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("-1") == "'-1" and _cell("vm-1") == "vm-1"
    assert _cell(None) == ""
