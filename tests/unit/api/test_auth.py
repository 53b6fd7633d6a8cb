"""Passwords, JWTs, revocation, API keys, signed records, roles and rate limits."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from daytwo.api.auth.accounts import Accounts, user_secret_name
from daytwo.api.auth.crypto import decode_token, hash_api_key, hash_password, issue_token, verify_password
from daytwo.api.auth.ratelimit import RateLimiter
from daytwo.api.auth.roles import GRANTS, PERMISSIONS, ROLES, check_permission, permissions_of, role_at_least
from daytwo.api.auth.service import AuthService
from daytwo.api.deps import require
from daytwo.api.errors import ApiError
from daytwo.api.settings import ApiSettings
from pydantic import ValidationError

from tests.harness.fakes import PASSWORD, TEST_SECRET, SecretsAndConfigMaps, route_client, unit_services


def test_passwords_are_argon2id_and_verified() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert verify_password(hashed, "correct horse") and not verify_password(hashed, "wrong")
    assert not verify_password("not-a-hash", "x")


def test_tokens_expire_and_reject_other_secrets() -> None:
    token, claims = issue_token(TEST_SECRET, "ann", "viewer", timedelta(minutes=5))
    decoded = decode_token(TEST_SECRET, token)
    assert decoded is not None and decoded.username == "ann" and decoded.jti == claims.jti
    assert decode_token("another-secret-of-enough-length-0123456789", token) is None
    old, _ = issue_token(TEST_SECRET, "ann", "viewer", timedelta(minutes=5), now=datetime.now(UTC) - timedelta(hours=1))
    assert decode_token(TEST_SECRET, old) is None
    assert decode_token(TEST_SECRET, "garbage") is None


@pytest.mark.parametrize("secret", ["", "secret", "short", "changeme" * 1])
def test_settings_refuse_weak_jwt_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ApiSettings(jwt_secret=secret)  # type: ignore[arg-type]


def test_roles_are_cumulative_and_deny_by_default() -> None:
    assert set(GRANTS) == set(ROLES)
    for lower, higher in itertools.pairwise(ROLES):
        assert permissions_of(lower) < permissions_of(higher)
    assert permissions_of("superadmin") == PERMISSIONS
    assert permissions_of("nobody") == frozenset()
    for documented in (
        "drift:read",
        "drift:write",
        "restore:read",
        "restore:write",
        "restore:admin",
        "snapshots:admin",
        "settings:admin",
        "dashboard:read",
        "tenant_health:read",
    ):
        assert documented in PERMISSIONS
    assert "restore:admin" not in permissions_of("operator") and "drift:write" not in permissions_of("viewer")
    assert role_at_least("admin", "operator") and not role_at_least("viewer", "operator")
    with pytest.raises(ValueError, match="unknown permission"):
        check_permission("drfit:read")
    with pytest.raises(ValueError):
        require("nope:nope")


def test_rate_limiter_window_and_headers() -> None:
    now = [1000.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    decisions = [limiter.hit("ip") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[0].headers()["X-RateLimit-Remaining"] == "2"
    assert decisions[3].headers()["X-RateLimit-Reset"] == "1060" and "Retry-After" in decisions[3].headers()
    assert limiter.hit("other-ip").allowed
    now[0] += 61
    assert limiter.hit("ip").allowed


def test_logout_revokes_and_revocation_is_stored() -> None:
    services = unit_services()
    auth = services.auth
    assert auth is not None
    result = auth.login("operator", PASSWORD)
    principal = auth.from_token(result.token)
    assert principal is not None and principal.role == "operator" and principal.impersonate_group == "daytwo:operator"
    assert principal.impersonate_user == "daytwo:user:operator"
    auth.logout(principal)
    assert auth.from_token(result.token) is None
    # a fresh Accounts over the same Secrets (a restarted facade) still refuses the token
    backend = auth.accounts._write
    assert isinstance(backend, SecretsAndConfigMaps)
    restarted = Accounts("daytwo", TEST_SECRET, None, backend)
    restarted.watcher.replace([o for k, o in backend.objects.items() if k.startswith("secrets/")], "2", notify=False)
    assert AuthService(restarted, TEST_SECRET, 600, 10, 100).from_token(result.token) is None
    assert AuthService(restarted, TEST_SECRET, 600, 10, 100).from_token(auth.login("viewer", PASSWORD).token)


def test_expired_revocations_are_pruned() -> None:
    services = unit_services()
    accounts = services.auth.accounts  # type: ignore[union-attr]
    accounts.revoke("old", datetime.now(UTC) - timedelta(seconds=1))
    accounts.revoke("new", datetime.now(UTC) + timedelta(hours=1))
    assert not accounts.revoked("old") and accounts.revoked("new")


def test_api_keys_are_stored_hashed_and_expire() -> None:
    services = unit_services()
    auth = services.auth
    assert auth is not None
    key, stored = auth.create_api_key("operator", "ci", None)
    assert key.startswith("hx_") and stored.key_hash == hash_api_key(key)
    backend = auth.accounts._write
    assert isinstance(backend, SecretsAndConfigMaps)
    everything = str(backend.objects) + "".join(
        base64.b64decode(v).decode() for o in backend.objects.values() for v in (o.get("data") or {}).values()
    )
    assert key not in everything and key[3:] not in everything
    assert auth.from_api_key(key) is not None and auth.from_api_key(key + "x") is None
    assert auth.from_api_key("Bearer nonsense") is None
    short, _ = auth.create_api_key("operator", "old", 1)
    assert auth.from_api_key(short) is not None


def test_edited_user_record_no_longer_authenticates() -> None:
    services = unit_services()
    auth = services.auth
    assert auth is not None
    backend = auth.accounts._write
    assert isinstance(backend, SecretsAndConfigMaps)
    secret = backend.objects[f"secrets/{user_secret_name('viewer')}"]
    secret["data"]["role"] = base64.b64encode(b"superadmin").decode()
    auth.accounts.watcher.replace([secret], "9", notify=False)
    with pytest.raises(ApiError) as refused:
        auth.login("viewer", PASSWORD)
    assert refused.value.status_code == 401


def test_bootstrap_creates_then_repairs_the_superadmin() -> None:
    services = unit_services()
    auth = services.auth
    assert auth is not None
    auth.bootstrap("root", "first-password")
    assert auth.login("root", "first-password").user.role == "superadmin"
    auth.bootstrap("root", "rotated-password")
    assert auth.login("root", "rotated-password").user.role == "superadmin"


def test_login_rate_limit_is_per_ip_and_enveloped() -> None:
    client, _ = route_client(role=None)
    codes = [  # a different (unknown) account each time: the per-account backoff never starts
        client.post("/platform9/auth/login", json={"username": f"x{n}", "password": "y"}).status_code for n in range(11)
    ]
    assert codes == [401] * 10 + [429]
    last = client.post("/horcrux/api/auth/login", json={"username": "x", "password": "y"})
    assert last.status_code == 429 and last.json()["error"] == "RATE_LIMITED" and last.json()["request_id"]
    assert last.headers["x-ratelimit-limit"] == "10" and last.headers["x-ratelimit-remaining"] == "0"


def test_user_rate_limit_headers_on_authenticated_calls() -> None:
    client, _ = route_client(role="viewer", user_rate_per_minute=2)
    first = client.get("/horcrux/api/auth/verify")
    assert first.status_code == 200 and first.headers["x-ratelimit-limit"] == "2"
    client.get("/horcrux/api/auth/verify")
    third = client.get("/horcrux/api/auth/verify")
    assert third.status_code == 429 and third.json()["error"] == "RATE_LIMITED"


def test_auth_routes_of_each_api() -> None:
    client, services = route_client(role=None, allow_registration=True)
    pf9 = client.post("/platform9/auth/login", json={"username": "admin", "password": PASSWORD}).json()
    assert pf9["token_type"] == "bearer" and pf9["expires_in"] > 0 and pf9["user"]["role"] == "admin"
    signup = client.post(
        "/multicloud/auth/signup", json={"email": "a@b.io", "password": "long-enough", "full_name": "A B"}
    )
    assert signup.status_code == 201 and signup.json()["email"] == "a@b.io"
    form = client.post("/multicloud/auth/login", data={"username": "a@b.io", "password": "long-enough"})
    me = client.get("/multicloud/auth/me", headers={"Authorization": f"Bearer {form.json()['access_token']}"})
    assert me.json()["full_name"] == "A B"
    clash = client.post("/multicloud/auth/signup", json={"email": "a@b.io", "password": "long-enough"})
    assert clash.status_code == 422 and "a@b.io" not in clash.text
    reg = client.post("/horcrux/api/auth/register", json={"username": "neo", "password": "long-enough"})
    assert reg.status_code == 201
    services.auth.set_role("neo", "viewer")  # type: ignore[union-attr]  # an administrator approves the account
    token = client.post("/horcrux/api/auth/login", json={"username": "neo", "password": "long-enough"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    changed = client.post(
        "/horcrux/api/auth/password",
        json={"old_password": "long-enough", "new_password": "longer-still"},
        headers=headers,
    )
    assert changed.status_code == 200
    relogin = client.post("/horcrux/api/auth/login", json={"username": "neo", "password": "longer-still"})
    assert relogin.status_code == 200
    headers = {"Authorization": f"Bearer {relogin.json()['token']}"}  # the old token died with the old password
    created = client.post(
        "/horcrux/api/users/neo/api-keys", json={"name": "ci", "expires_in_days": 30}, headers=headers
    ).json()
    listed = client.get("/horcrux/api/users/neo/api-keys", headers=headers).json()
    assert [k["key_id"] for k in listed] == [created["key_id"]] and "key" not in listed[0]
    other = client.get("/horcrux/api/users/admin/api-keys", headers=headers)
    assert other.status_code == 403
    gone = client.delete(f"/horcrux/api/users/neo/api-keys/{created['key_id']}", headers=headers)
    assert gone.status_code == 200
    assert client.get("/horcrux/api/auth/verify", headers={"X-API-Key": created["key"]}).status_code == 401
    total, page = services.audit.entries(action="auth.")  # type: ignore[union-attr]
    assert total >= 5 and page[0]["id"] > page[-1]["id"]
