"""horcrux /api/users, /api/roles, /api/permissions/{user}: the facade's own accounts and horcrux's role table.

- Users are the account Secrets of api/auth/accounts.py. A user's ``id`` is a hash of its username
  (stable across restarts and replicas, no counter to race on); every ``{id}`` below also accepts the
  username. Creating a user needs ``users:write`` (admin); the password is stored as its argon2id hash
  and never returned, logged or audited.
- Roles are :data:`~daytwo.api.auth.roles.HORCRUX_ROLES` (data, served as is): each names the daytwo
  role an account of it gets and its privileges (:data:`~daytwo.api.auth.roles.PRIVILEGES`).
- Permissions are (path, privilege) grants stored on the account and checked by the routes' own
  ``require(...)`` against the request's path; a granted privilege may also raise the Kubernetes group
  the facade impersonates (README "Users, roles and permissions").

Only callers with ``users:write`` change anything, and never a superadmin's account unless they hold
``users:admin``; every change is audited (``users.create|delete|grant|revoke``, security ring).
"""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.api.auth.accounts import User
from daytwo.api.auth.roles import HORCRUX_ROLES, PRIVILEGES, horcrux_role_of
from daytwo.api.auth.service import AuthService, effective_grants
from daytwo.api.deps import Principal, audit, get_services, require
from daytwo.api.errors import ApiError
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

__all__ = ["router"]

router = APIRouter(tags=["users"])

#: A grant's path: ``/``, ``*`` or an absolute path of plain segments, optionally ending in ``/*``.
PATH_PATTERN = r"^(\*|/|(/[A-Za-z0-9._~:@{}-]+)+(/\*)?)$"


class UserCreate(BaseModel):
    """``POST /api/users``."""

    username: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9._@+-]+$")
    password: str = Field(min_length=8, max_length=1024)
    email: str = Field("", max_length=254)
    role: str = Field("VmUser", description="a horcrux role: " + ", ".join(HORCRUX_ROLES))


class PermissionGrant(BaseModel):
    """``POST /api/permissions/{user_id}``."""

    path: str = Field(min_length=1, max_length=256, pattern=PATH_PATTERN, examples=["/api/vms/100", "/api/vms/*"])
    privilege: str = Field(min_length=1, max_length=64, description="one of " + ", ".join(PRIVILEGES))


def _auth(request: Request) -> AuthService:
    auth = get_services(request).auth
    if auth is None:
        raise ApiError(503, "Authentication is not available", "SERVICE_UNAVAILABLE")
    return auth


def _find(auth: AuthService, user_id: str) -> User:
    """The user named by numeric id or username (404 otherwise)."""
    found = auth.accounts.user_by_id(int(user_id)) if user_id.isdigit() else None
    found = found or auth.accounts.user(user_id)
    if found is None:
        raise ApiError(404, f"User '{user_id}' not found", "NOT_FOUND")
    return found


def _may_change(caller: Principal, user: User) -> None:
    """403 when ``caller`` may not change ``user`` (a superadmin's account needs ``users:admin``)."""
    if user.role == "superadmin" and not caller.can("users:admin"):
        raise ApiError(403, "Permission denied: requires users:admin to change a superadmin's account", "FORBIDDEN")


def _user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": horcrux_role_of(user.horcrux_role, user.role),
        "daytwo_role": user.role,
        "active": user.active,
        "created_at": user.created_at,
        "last_login": None,
    }


def _permissions_view(user: User) -> dict[str, Any]:
    shown = horcrux_role_of(user.horcrux_role, user.role)
    by_path: dict[str, list[str]] = {}
    if shown == "Administrator":
        by_path["/"] = ["*"]
    for path, privilege in effective_grants(user):
        held = by_path.setdefault(path, [])
        if privilege not in held:
            held.append(privilege)
    return {
        "user_id": user.id,
        "username": user.username,
        "role": shown,
        "permissions": [{"path": path, "privileges": privileges} for path, privileges in by_path.items()],
    }


@router.get("/api/users", summary="List users (the facade's accounts)")
def list_users(request: Request, caller: Principal = require("users:read")) -> list[dict[str, Any]]:
    """Every account, by username, without password hashes."""
    return [_user_view(u) for u in _auth(request).accounts.users()]


@router.post("/api/users", status_code=201, summary="Create a user")
def create_user(body: UserCreate, request: Request, caller: Principal = require("users:write")) -> dict[str, Any]:
    """An active account with a horcrux role (422 unknown role, 409 name taken)."""
    user = _auth(request).create_user(body.username, body.password, body.email, body.role)
    audit(request, caller, "users.create", f"user/{user.username}", role=body.role, user_id=user.id)
    return {"id": user.id, "username": user.username, "message": "User created successfully"}


@router.delete("/api/users/{user_id}", summary="Delete a user")
def delete_user(user_id: str, request: Request, caller: Principal = require("users:write")) -> dict[str, str]:
    """Delete the account and its API keys: its tokens and keys stop working at once (409 for oneself)."""
    auth = _auth(request)
    user = _find(auth, user_id)
    if user.username == caller.username:
        raise ApiError(409, "You cannot delete your own account", "CONFLICT")
    _may_change(caller, user)
    auth.accounts.delete_user(user)
    audit(request, caller, "users.delete", f"user/{user.username}", user_id=user.id)
    return {"message": "User deleted successfully"}


@router.get("/api/roles", summary="List roles and their privileges")
def list_roles(caller: Principal = require("users:read")) -> list[dict[str, Any]]:
    """horcrux's roles (api/auth/roles.py HORCRUX_ROLES), with the daytwo role each maps onto."""
    return [
        {"name": name, "description": r.description, "privileges": list(r.privileges), "daytwo_role": r.role}
        for name, r in HORCRUX_ROLES.items()
    ]


@router.get("/api/permissions/{user_id}", summary="Get a user's permissions")
def get_permissions(user_id: str, request: Request, caller: Principal = require("users:read")) -> dict[str, Any]:
    """The user's privileges by path: its role's on ``/`` and its own grants."""
    return _permissions_view(_find(_auth(request), user_id))


def _privilege(name: str) -> str:
    if name not in PRIVILEGES:
        raise ApiError(422, f"privilege must be one of {', '.join(PRIVILEGES)}", "VALIDATION_ERROR")
    return name


def _scope(path: str) -> str:
    return "/" if path in ("*", "/", "/*") else path


@router.post("/api/permissions/{user_id}", summary="Add a permission to a user")
def add_permission(
    user_id: str, body: PermissionGrant, request: Request, caller: Principal = require("users:write")
) -> dict[str, str]:
    """Grant ``privilege`` on ``path`` (and below it); effective on the user's next request."""
    auth = _auth(request)
    user = _find(auth, user_id)
    _may_change(caller, user)
    grant = (_scope(body.path), _privilege(body.privilege))
    if grant not in user.grants:
        auth.set_grants(user, (*user.grants, grant))
    audit(request, caller, "users.grant", f"user/{user.username}", path=grant[0], privilege=grant[1])
    return {"message": "Permission added successfully"}


@router.delete("/api/permissions/{user_id}", summary="Remove a permission from a user")
def remove_permission(
    user_id: str,
    request: Request,
    path: Annotated[str, Query(min_length=1, max_length=256, pattern=PATH_PATTERN)],
    privilege: Annotated[str, Query(min_length=1, max_length=64)],
    caller: Principal = require("users:write"),
) -> dict[str, str]:
    """Take back a grant made with POST (404 when the user does not hold it; role privileges stay)."""
    auth = _auth(request)
    user = _find(auth, user_id)
    _may_change(caller, user)
    grant = (_scope(path), _privilege(privilege))
    if grant not in user.grants:
        raise ApiError(404, f"User '{user.username}' holds no grant of {grant[1]} on {grant[0]}", "NOT_FOUND")
    auth.set_grants(user, tuple(g for g in user.grants if g != grant))
    audit(request, caller, "users.revoke", f"user/{user.username}", path=grant[0], privilege=grant[1])
    return {"message": "Permission removed successfully"}
