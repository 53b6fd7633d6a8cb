"""The authentication endpoints of each documented API (mounted into its sub-app by api/app.py).

- platform9: ``POST /auth/login`` (JSON)
- horcrux: ``/api/auth/login|register|logout|verify|password`` and ``/api/users/{username}/api-keys``
- multicloud: ``POST /auth/signup``, ``POST /auth/login`` (OAuth2 password form), ``GET /auth/me``

Login and registration count against the per-IP login limit, logins also against the per-account
backoff (api/auth/ratelimit.py); every outcome goes to the audit log. Registration is off unless
``DAYTWO_API_ALLOW_REGISTRATION``; a registered account is ``pending`` (no permissions) until an
administrator grants a role (``python -m daytwo.api.auth.admin set-role``).
"""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from ..deps import Authenticated, Services, get_services
from ..errors import ApiError, Family
from .accounts import ApiKey, User
from .roles import PENDING
from .service import AuthPolicy, AuthService, LoginResult, Principal

__all__ = ["PENDING_ROUTES", "PUBLIC_ROUTES", "READ_ONLY_ROUTES", "SELF_SERVICE_ROUTES", "auth_router"]

#: Write routes anyone may call (the authz table test skips them).
PUBLIC_ROUTES: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("platform9", "POST", "/auth/login"),
        ("horcrux", "POST", "/api/auth/login"),
        ("horcrux", "POST", "/api/auth/register"),
        ("multicloud", "POST", "/auth/login"),
        ("multicloud", "POST", "/auth/signup"),
    }
)
#: Write routes every logged-in caller may use on their own account (401 anonymous, never 403 for a viewer).
SELF_SERVICE_ROUTES: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("horcrux", "POST", "/api/auth/logout"),
        ("horcrux", "POST", "/api/auth/password"),
        ("horcrux", "POST", "/api/users/{username}/api-keys"),
        ("horcrux", "DELETE", "/api/users/{username}/api-keys/{key_id}"),
        ("platform9", "PUT", "/user-preferences"),
    }
)
#: Routes a ``pending`` (self-registered, not yet approved) account may use besides the public ones:
#: its own account only. Every other route that needs a login answers it 403.
PENDING_ROUTES: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("horcrux", "GET", "/api/auth/verify"),
        ("horcrux", "POST", "/api/auth/logout"),
        ("horcrux", "POST", "/api/auth/password"),
        ("multicloud", "GET", "/auth/me"),
    }
)
#: Routes with a write method that only read (a query in a POST body): viewers may call them, anonymous may not.
READ_ONLY_ROUTES: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("spot", "POST", "/api/get-target-aggregate"),
    }
)


class Credentials(BaseModel):
    """A JSON login."""

    username: str = Field(min_length=1, max_length=253)
    password: str = Field(min_length=1, max_length=1024)


class Registration(BaseModel):
    """horcrux ``/api/auth/register``."""

    username: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9._@+-]+$")
    password: str = Field(min_length=8, max_length=1024)
    email: str = Field("", max_length=254)


class Signup(BaseModel):
    """multicloud ``/auth/signup`` (the email is the username)."""

    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=1024)
    full_name: str = Field("", max_length=200)


class PasswordChange(BaseModel):
    """horcrux ``/api/auth/password``."""

    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class KeyRequest(BaseModel):
    """horcrux ``POST /api/users/{username}/api-keys``."""

    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


def _auth(services: Services) -> AuthService:
    if services.auth is None:
        raise ApiError(503, "Authentication is not available", "SERVICE_UNAVAILABLE")
    services.auth.configure(AuthPolicy.from_settings(services.settings))  # no-op once applied
    return services.auth


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limited(request: Request, services: Services) -> AuthService:
    """The auth service after counting one login-class call of this client IP (429 when over)."""
    auth = _auth(services)
    decision = auth.limit_login(_client_ip(request))
    request.scope.setdefault("state", {})["rate_limit_headers"] = decision.headers()
    return auth


def _audit(services: Services, who: Any, action: str, target: str, outcome: str = "success") -> None:
    if services.audit is not None:
        services.audit.record(who, action, target, outcome)


def _login(request: Request, services: Services, username: str, password: str) -> LoginResult:
    auth = _limited(request, services)
    try:
        result = auth.login(username, password)
    except ApiError:
        _audit(services, username, "auth.login", f"user/{username}", "failure")
        raise
    _audit(services, username, "auth.login", f"user/{username}")
    return result


def _own_or_admin(principal: Principal, username: str) -> None:
    if principal.username != username and not principal.can("users:admin"):
        raise ApiError(403, "Permission denied: requires users:admin to manage another user's API keys", "FORBIDDEN")


# Shaped like routers/horcrux/users._user_view (duplicate scan): each renders its own record's wire fields.
def _key_view(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "created_at": key.created_at,
        "expires_at": key.expires_at or None,
        "last_used": None,
    }


def _platform9() -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.post("/auth/login")
    def login(body: Credentials, request: Request) -> dict[str, Any]:
        """Exchange username and password for a bearer token."""
        result = _login(request, get_services(request), body.username, body.password)
        return {
            "access_token": result.token,
            "token_type": "bearer",
            "expires_in": result.expires_in,
            "expires_at": format_time(result.claims.expires_at),
            "user": {"username": result.user.username, "role": result.user.role, "is_active": result.user.active},
        }

    return router


def _horcrux() -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.post("/api/auth/login")
    def login(body: Credentials, request: Request) -> dict[str, Any]:
        """Exchange username and password for a JWT."""
        result = _login(request, get_services(request), body.username, body.password)
        user = result.user
        return {
            "token": result.token,
            "user": {"id": user.id, "username": user.username, "role": user.role},
            "expires_at": format_time(result.claims.expires_at),
        }

    @router.post("/api/auth/register", status_code=201)
    def register(body: Registration, request: Request) -> dict[str, Any]:
        """Create a ``pending`` account (when registration is allowed): no permissions until an admin grants a role."""
        services = get_services(request)
        auth = _limited(request, services)
        if not services.settings.allow_registration:
            raise ApiError(403, "Registration is disabled; ask an administrator for an account", "FORBIDDEN")
        user = auth.register(body.username, body.password, body.email)
        _audit(services, user.username, "auth.register", f"user/{user.username}")
        return {"id": user.id, "username": user.username, "email": user.email, "created_at": user.created_at}

    @router.post("/api/auth/logout")
    def logout(principal: Authenticated, request: Request) -> dict[str, str]:
        """Revoke the bearer token used for this call."""
        services = get_services(request)
        _auth(services).logout(principal)
        _audit(services, principal, "auth.logout", f"user/{principal.username}")
        return {"message": "Logged out successfully"}

    @router.get("/api/auth/verify")
    def verify(principal: Authenticated) -> dict[str, Any]:
        """Whether the presented credential is valid, and whose it is."""
        expires = format_time(principal.expires_at) if principal.expires_at else None
        return {"valid": True, "user": {"id": principal.user_id, "username": principal.username}, "expires_at": expires}

    @router.post("/api/auth/password")
    def password(body: PasswordChange, principal: Authenticated, request: Request) -> dict[str, str]:
        """Change the caller's own password."""
        services = get_services(request)
        _auth(services).change_password(principal, body.old_password, body.new_password)
        _audit(services, principal, "auth.password", f"user/{principal.username}")
        return {"message": "Password changed successfully"}

    @router.post("/api/users/{username}/api-keys", status_code=201)
    def create_key(username: str, body: KeyRequest, principal: Authenticated, request: Request) -> dict[str, Any]:
        """A new API key; the key itself is in this response only (it is stored hashed)."""
        _own_or_admin(principal, username)
        if principal.role == PENDING:
            raise ApiError(
                403, "Your account awaits approval: an administrator must grant it a role first", "FORBIDDEN"
            )
        services = get_services(request)
        auth = _auth(services)
        if auth.accounts.user(username) is None:
            raise ApiError(404, f"user {username!r} not found", "NOT_FOUND")
        key, stored = auth.create_api_key(username, body.name, body.expires_in_days)
        _audit(services, principal, "apikey.create", f"user/{username}/{stored.key_id}")
        return {**_key_view(stored), "key": key}

    @router.get("/api/users/{username}/api-keys")
    def list_keys(username: str, principal: Authenticated, request: Request) -> list[dict[str, Any]]:
        """The user's API keys, without the keys."""
        _own_or_admin(principal, username)
        return [_key_view(k) for k in _auth(get_services(request)).accounts.api_keys(username)]

    @router.delete("/api/users/{username}/api-keys/{key_id}")
    def delete_key(username: str, key_id: str, principal: Authenticated, request: Request) -> dict[str, str]:
        """Revoke (delete) an API key."""
        _own_or_admin(principal, username)
        services = get_services(request)
        accounts = _auth(services).accounts
        key = next((k for k in accounts.api_keys(username) if k.key_id == key_id), None)
        if key is None:
            raise ApiError(404, f"API key {key_id!r} not found", "NOT_FOUND")
        accounts.delete_api_key(key)
        _audit(services, principal, "apikey.delete", f"user/{username}/{key_id}")
        return {"message": "API key revoked successfully"}

    return router


def _multicloud_user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email or user.username,
        "full_name": user.full_name,
        "created_at": user.created_at,
    }


def _multicloud() -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.post("/auth/signup", status_code=201)
    def signup(body: Signup, request: Request) -> dict[str, Any]:
        """Create a ``pending`` account whose username is the email (no permissions until an admin grants a role)."""
        services = get_services(request)
        auth = _limited(request, services)
        if not services.settings.allow_registration:
            raise ApiError(403, "Sign-up is disabled; ask an administrator for an account")
        user = auth.register(body.email, body.password, body.email, full_name=body.full_name)
        _audit(services, user.username, "auth.register", f"user/{user.username}")
        return _multicloud_user(user)

    @router.post("/auth/login")
    def login(
        request: Request,
        username: Annotated[str, Form(min_length=1, max_length=254)],
        password: Annotated[str, Form(min_length=1, max_length=1024)],
    ) -> dict[str, str]:
        """OAuth2 password form login."""
        result = _login(request, get_services(request), username, password)
        return {"access_token": result.token, "token_type": "bearer"}

    @router.get("/auth/me")
    def me(principal: Authenticated, request: Request) -> dict[str, Any]:
        """The caller's account."""
        user = _auth(get_services(request)).accounts.user(principal.username)
        if user is None:
            raise ApiError(404, "User not found")
        return _multicloud_user(user)

    return router


def auth_router(family: Family) -> APIRouter:
    """The auth routes of ``family`` (pmi and spot document none: they get an empty router)."""
    builders = {"platform9": _platform9, "horcrux": _horcrux, "multicloud": _multicloud}
    return builders[family]() if family in builders else APIRouter()
