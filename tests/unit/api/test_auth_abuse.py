"""Issue 16 (auth): registration off by default and pending until approved, per-account login backoff,
API key cap and expiry, tokens that die with the password, registration that does not reveal names."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from daytwo.api.app import create_app
from daytwo.api.auth.accounts import USER_FIELDS, Accounts, User, user_secret_name
from daytwo.api.auth.admin import run
from daytwo.api.auth.crypto import hash_password, sign_record
from daytwo.api.auth.ratelimit import AccountBackoff
from daytwo.api.auth.roles import PENDING, ROLES, group_of, permissions_of
from daytwo.api.auth.routes import PENDING_ROUTES, PUBLIC_ROUTES, SELF_SERVICE_ROUTES
from daytwo.api.auth.service import REGISTRATION_FAILED, AuthPolicy, AuthService
from daytwo.api.errors import ApiError
from daytwo.api.settings import ApiSettings
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tests.harness.fakes import PASSWORD, TEST_SECRET, SecretsAndConfigMaps, route_client, unit_services


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- item 2: registration ----------------------------------------------------------------------------


def test_registration_is_off_by_default() -> None:
    assert ApiSettings(jwt_secret=TEST_SECRET).allow_registration is False
    client, services = route_client(role=None)
    horcrux = client.post("/horcrux/api/auth/register", json={"username": "eve", "password": "long-enough"})
    assert horcrux.status_code == 403 and horcrux.json()["error"] == "FORBIDDEN"
    assert "disabled" in horcrux.json()["message"]
    multicloud = client.post("/multicloud/auth/signup", json={"email": "eve@x.io", "password": "long-enough"})
    assert multicloud.status_code == 403 and "disabled" in multicloud.json()["detail"]
    assert services.auth is not None and services.auth.accounts.user("eve") is None


def test_pending_role_grants_nothing_and_maps_to_no_bound_group() -> None:
    assert ROLES[0] == PENDING and permissions_of(PENDING) == frozenset()
    assert group_of(PENDING) == "daytwo:pending"  # the chart binds (and lets the facade impersonate) none


def data_routes(client: TestClient) -> list[tuple[str, str, str]]:
    """(prefix, method, template) of every route of every sub-app, logout last."""
    found: list[tuple[str, str, str]] = []
    for mount in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(mount, Mount):
            for route in iter_route_contexts(mount.routes):
                methods = set(getattr(route, "methods", None) or ()) - {"HEAD"}
                found.extend((mount.path.strip("/"), m, str(route.path)) for m in sorted(methods))
    return sorted(found, key=lambda r: r[2].endswith("/logout"))


def test_a_registered_user_is_pending_and_refused_on_every_data_route() -> None:
    client, services = route_client(role=None, allow_registration=True)
    created = client.post("/horcrux/api/auth/register", json={"username": "newbie", "password": "long-enough"})
    assert created.status_code == 201, created.text
    login = client.post("/horcrux/api/auth/login", json={"username": "newbie", "password": "long-enough"}).json()
    assert login["user"]["role"] == PENDING  # what a UI needs to say "waiting for approval"
    token = login["token"]
    assert client.get("/platform9/servers", headers=bearer(token)).status_code == 403
    vms = client.get("/horcrux/api/vms", headers=bearer(token))
    assert vms.status_code == 403 and vms.json()["error"] == "FORBIDDEN"
    key = client.post("/horcrux/api/users/newbie/api-keys", json={"name": "ci"}, headers=bearer(token))
    assert key.status_code == 403 and "approval" in key.json()["message"]
    prefs = client.put("/platform9/user-preferences", json={"theme": "dark"}, headers=bearer(token))
    assert prefs.status_code == 403
    assert client.get("/horcrux/api/auth/verify", headers=bearer(token)).status_code == 200
    wrong = []
    for prefix, method, template in data_routes(client):
        url = f"/{prefix}" + re.sub(r"\{[^}]+\}", "x1", template)
        if (prefix, method, template) in PUBLIC_ROUTES | PENDING_ROUTES | SELF_SERVICE_ROUTES:
            continue  # own account (the API-key and preference routes are checked above and in the e2e walk)
        if client.request(method, url, json={}).status_code != 401:
            continue  # anonymous callers may use it too (health, docs, branding)
        answer = client.request(method, url, json={}, headers=bearer(token))
        if answer.status_code != 403:
            wrong.append(f"{method} {url}: {answer.status_code} {answer.text[:100]}")
    assert wrong == []
    # multicloud sign-up makes a pending account too, which still sees itself
    client.post("/multicloud/auth/signup", json={"email": "m@x.io", "password": "long-enough"})
    form = client.post("/multicloud/auth/login", data={"username": "m@x.io", "password": "long-enough"}).json()
    assert client.get("/multicloud/auth/me", headers=bearer(form["access_token"])).json()["email"] == "m@x.io"
    assert client.get("/multicloud/inventory/vms", headers=bearer(form["access_token"])).status_code == 403
    # an administrator grants a role: the same token reads at once
    assert services.auth is not None
    assert run(services.auth, ["set-role", "newbie", "viewer"]) == 0
    assert client.get("/platform9/servers", headers=bearer(token)).status_code == 200


def test_admin_command_lists_and_refuses_unknown_users(capsys: pytest.CaptureFixture[str]) -> None:
    auth = unit_services().auth
    assert auth is not None
    assert run(auth, ["list"]) == 0
    assert "viewer\tviewer\tactive" in capsys.readouterr().out
    assert run(auth, ["set-role", "ghost", "viewer"]) == 1
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(auth, ["set-role", "viewer", "emperor"])


# -- item 9: per-account login backoff ------------------------------------------------------------------


def test_account_backoff_is_exponential_capped_and_reset_by_success() -> None:
    now = [1000.0]
    backoff = AccountBackoff(threshold=5, cap=900, clock=lambda: now[0])
    assert [backoff.failed("ann") for _ in range(4)] == [0, 0, 0, 0]
    assert backoff.retry_after("ann") == 0
    assert backoff.failed("ann") == 2 and backoff.retry_after("ann") == 2
    assert backoff.retry_after("bob") == 0  # per account
    waits = []
    for _ in range(12):
        now[0] += backoff.retry_after("ann")
        waits.append(backoff.failed("ann"))
    assert waits == [4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]  # capped: never locked out for good
    now[0] += 100
    assert backoff.retry_after("ann") == 800  # asking again does not extend the block
    now[0] += 800
    backoff.succeeded("ann")
    assert backoff.failed("ann") == 0  # a success starts the count over


def test_account_backoff_forgets_old_failures() -> None:
    now = [0.0]
    backoff = AccountBackoff(threshold=2, cap=60, forget_after=3600, clock=lambda: now[0])
    backoff.failed("ann")
    now[0] += 3600
    assert backoff.failed("ann") == 0


def test_failures_from_many_forwarded_ips_hit_the_per_account_limit() -> None:
    services = unit_services()
    # what uvicorn does when DAYTWO_API_FORWARDED_ALLOW_IPS trusts the proxy
    client = TestClient(ProxyHeadersMiddleware(create_app(services=services), trusted_hosts="*"))  # type: ignore[arg-type]
    answers = [
        client.post(
            "/platform9/auth/login",
            json={"username": "operator", "password": "wrong"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
        for n in range(7)
    ]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 2
    assert all(a.headers["X-RateLimit-Remaining"] == "9" for a in answers)  # each IP made one attempt
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 2 and "this account" in refused.json()["detail"]
    # even the right password waits; another account does not
    right = client.post(
        "/horcrux/api/auth/login",
        json={"username": "operator", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert right.status_code == 429 and right.json()["error"] == "RATE_LIMITED"
    other = client.post(
        "/platform9/auth/login",
        json={"username": "viewer", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.10"},
    )
    assert other.status_code == 200


def test_backoff_settings_reach_the_service() -> None:
    client, services = route_client(role=None, login_account_failures=2, login_account_max_backoff_seconds=30)
    codes = [
        client.post("/platform9/auth/login", json={"username": "admin", "password": "no"}).status_code for _ in range(3)
    ]
    assert codes == [401, 401, 429]
    assert services.auth is not None and services.auth.account_backoff.cap == 30


# -- item 7: API keys per user, and their expiry ----------------------------------------------------------


def test_api_keys_are_capped_per_user() -> None:
    client, services = route_client(role="operator", api_keys_per_user=3)
    made = [client.post("/horcrux/api/users/operator/api-keys", json={"name": f"k{n}"}) for n in range(3)]
    assert [m.status_code for m in made] == [201] * 3
    refused = client.post("/horcrux/api/users/operator/api-keys", json={"name": "one-too-many"})
    assert refused.status_code == 409 and refused.json()["error"] == "CONFLICT"
    assert "delete an old key" in refused.json()["message"]
    client.delete(f"/horcrux/api/users/operator/api-keys/{made[0].json()['key_id']}")
    assert client.post("/horcrux/api/users/operator/api-keys", json={"name": "again"}).status_code == 201
    assert services.auth is not None and len(services.auth.accounts.api_keys("operator")) == 3


def test_api_keys_expire_by_default_and_never_later_than_allowed() -> None:
    client, _ = route_client(role="operator")
    made = client.post("/horcrux/api/users/operator/api-keys", json={"name": "default"}).json()
    expires = datetime.fromisoformat(made["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    shorter = client.post("/horcrux/api/users/operator/api-keys", json={"name": "short", "expires_in_days": 7}).json()
    assert datetime.fromisoformat(shorter["expires_at"].replace("Z", "+00:00")) - datetime.now(UTC) <= timedelta(7)
    longer = client.post("/horcrux/api/users/operator/api-keys", json={"name": "long", "expires_in_days": 365})
    assert longer.status_code == 422 and "at most 90" in longer.json()["message"]


# -- Low: password change, register clash -----------------------------------------------------------------


def test_a_password_change_kills_existing_tokens_but_not_api_keys() -> None:
    client, services = route_client(role=None)
    auth = services.auth
    assert auth is not None
    first = auth.login("operator", PASSWORD).token
    second = auth.login("operator", PASSWORD).token
    key, _ = auth.create_api_key("operator", "ci", None)
    changed = client.post(
        "/horcrux/api/auth/password",
        json={"old_password": PASSWORD, "new_password": "a-new-password"},
        headers=bearer(first),
    )
    assert changed.status_code == 200
    for token in (first, second):
        assert client.get("/horcrux/api/auth/verify", headers=bearer(token)).status_code == 401
    fresh = auth.login("operator", "a-new-password").token
    assert client.get("/horcrux/api/auth/verify", headers=bearer(fresh)).status_code == 200
    assert client.get("/horcrux/api/auth/verify", headers={"X-API-Key": key}).status_code == 200


def test_a_bootstrap_password_rotation_kills_the_old_tokens() -> None:
    auth = unit_services().auth
    assert auth is not None
    auth.bootstrap("root", "first-password")
    token = auth.login("root", "first-password").token
    auth.bootstrap("root", "first-password")  # unchanged: tokens stay
    assert auth.from_token(token) is not None
    auth.bootstrap("root", "rotated-password")
    assert auth.from_token(token) is None


def test_records_written_before_token_generations_still_authenticate() -> None:
    backend = SecretsAndConfigMaps()
    accounts = Accounts("daytwo", TEST_SECRET, None, backend)
    accounts.watcher.replace([], "1", notify=False)
    fields = {k: "" for k in USER_FIELDS} | {
        "username": "old",
        "password_hash": hash_password(PASSWORD),
        "role": "viewer",
        "active": "true",
        "id": "7",
    }
    secret = {
        "metadata": {"name": user_secret_name("old"), "labels": {"daytwo.io/facade-auth": "user"}},
        "data": {
            k: base64.b64encode(v.encode()).decode()
            for k, v in {**fields, "signature": sign_record(TEST_SECRET, fields)}.items()
        },
    }
    accounts.watcher.replace([secret], "2", notify=False)
    auth = AuthService(accounts, TEST_SECRET, 600, 10, 100)
    assert auth.from_token(auth.login("old", PASSWORD).token) is not None
    # and stripping the generation from a new record breaks its signature
    accounts.put_user(User("new", hash_password(PASSWORD), "viewer", "", True, "", 0, "", 3), create=True)
    stored = backend.objects[f"secrets/{user_secret_name('new')}"]
    assert base64.b64decode(stored["data"]["token_generation"]) == b"3"
    del stored["data"]["token_generation"]
    accounts.watcher.replace([stored], "3", notify=False)
    assert accounts.user("new") is None


def test_register_answers_a_taken_name_like_any_refused_input() -> None:
    client, services = route_client(role=None, allow_registration=True)
    taken = client.post("/horcrux/api/auth/register", json={"username": "operator", "password": "long-enough"})
    assert taken.status_code == 422 and "operator" not in taken.json()["message"]
    assert taken.json()["message"] == REGISTRATION_FAILED
    auth = services.auth
    assert auth is not None
    for username, password in (("operator", "long-enough"), ("fresh", "short")):
        with pytest.raises(ApiError) as refused:
            auth.register(username, password)
        assert (refused.value.status_code, refused.value.message) == (422, REGISTRATION_FAILED)
    signup = client.post("/multicloud/auth/signup", json={"email": "viewer@example.com", "password": "long-enough"})
    assert signup.status_code == 201  # the seeded user "viewer" is not this email
    again = client.post("/multicloud/auth/signup", json={"email": "viewer@example.com", "password": "long-enough"})
    assert again.status_code == 422 and "viewer@example.com" not in again.text


def test_policy_defaults_are_the_settings_defaults() -> None:
    settings = ApiSettings(jwt_secret=TEST_SECRET)
    assert AuthPolicy() == AuthPolicy.from_settings(settings)
    assert (settings.api_keys_per_user, settings.api_key_lifetime_days) == (10, 90)
    assert (settings.login_account_failures, settings.login_account_max_backoff_seconds) == (5, 900)
