"""AuthService: who is calling (JWT or API key), logging in and out, registering, the bootstrap admin."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ..errors import ApiError
from .accounts import Accounts, ApiKey, User
from .crypto import (
    API_KEY_PREFIX,
    Claims,
    decode_token,
    hash_api_key,
    hash_password,
    issue_token,
    new_api_key,
    verify_password,
)
from .ratelimit import Decision, RateLimiter
from .roles import ROLES, group_of, permissions_of

__all__ = ["AuthService", "LoginResult", "Principal"]

log = logging.getLogger("daytwo.api.auth")
#: Kubernetes user the facade impersonates for a daytwo user (the prefix keeps it apart from real users).
USER_PREFIX = "daytwo:user:"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    username: str
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    via: Literal["jwt", "api_key"] = "jwt"
    token_id: str = ""  # the JWT's jti (empty for API keys)
    expires_at: datetime | None = None
    user_id: int = 0

    @classmethod
    def of(cls, username: str, role: str, **kwargs: Any) -> Principal:
        """A principal with the permissions of ``role`` (tests and internal callers)."""
        return cls(username, role, permissions_of(role), **kwargs)

    def can(self, permission: str) -> bool:
        """Whether the role grants ``permission``."""
        return permission in self.permissions

    @property
    def impersonate_user(self) -> str:
        """``Impersonate-User`` for Kubernetes: ``daytwo:user:<username>``."""
        return USER_PREFIX + self.username

    @property
    def impersonate_group(self) -> str:
        """``Impersonate-Group`` for Kubernetes: ``daytwo:<role>``."""
        return group_of(self.role)


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the token, its claims and the user."""

    token: str
    claims: Claims
    user: User

    @property
    def expires_in(self) -> int:
        """Seconds until the token expires."""
        return max(0, int((self.claims.expires_at - datetime.now(UTC)).total_seconds()))


class AuthService:
    """Authentication and account operations over :class:`Accounts`; rate limiters for login and users."""

    def __init__(self, accounts: Accounts, secret: str, lifetime_seconds: int, login_rate: int, user_rate: int) -> None:
        self.accounts = accounts
        self._secret = secret
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.login_limiter = RateLimiter(login_rate)
        self.user_limiter = RateLimiter(user_rate)
        # credential -> Principal, valid while the auth Secrets are unchanged (any user, key or
        # revocation write bumps the watcher's version and empties it): a request pays no JWT/HMAC.
        self._decoy = hash_password(uuid.uuid4().hex)
        self._known: dict[str, Principal] = {}
        self._known_version = -1

    def _remembered(self, credential: str) -> Principal | None:
        version = self.accounts.watcher.version
        if version != self._known_version or len(self._known) > 10_000:
            self._known = {}
            self._known_version = version
        principal = self._known.get(credential)
        if principal is not None and (principal.expires_at is None or principal.expires_at.timestamp() > time.time()):
            return principal
        return None

    def _remember(self, credential: str, principal: Principal | None) -> Principal | None:
        if principal is not None:
            self._known[credential] = principal
        return principal

    # -- who is calling -----------------------------------------------------------------------
    def _principal(self, user: User | None, via: Literal["jwt", "api_key"], claims: Claims | None) -> Principal | None:
        if user is None or not user.active or user.role not in ROLES:
            return None
        return Principal(
            user.username,
            user.role,
            permissions_of(user.role),
            via,
            claims.jti if claims else "",
            claims.expires_at if claims else None,
            user.id,
        )

    def from_token(self, token: str) -> Principal | None:
        """The caller a bearer token names, if valid, unexpired, not revoked, and the user still active.

        The role comes from the user record, not the token: a demotion takes effect at once.
        """
        known = self._remembered(token)
        if known is not None:
            return known
        claims = decode_token(self._secret, token)
        if claims is None or self.accounts.revoked(claims.jti):
            return None
        return self._remember(token, self._principal(self.accounts.user(claims.username), "jwt", claims))

    def from_api_key(self, key: str) -> Principal | None:
        """The caller an ``X-API-Key`` names, if the key is stored and its user active."""
        if not key.startswith(API_KEY_PREFIX):
            return None
        stored = self.accounts.api_key(key)  # not remembered: a key's expiry is checked on every call
        if stored is None or stored.expired():
            return None
        return self._principal(self.accounts.user(stored.username), "api_key", None)

    def limit_user(self, principal: Principal) -> Decision:
        """Count one call against the caller's per-user limit."""
        return self.user_limiter.hit(principal.username)

    def limit_login(self, client_ip: str) -> Decision:
        """Count one login attempt from ``client_ip``; 429 in the envelope when over the limit."""
        decision = self.login_limiter.hit(client_ip)
        if not decision.allowed:
            raise ApiError(429, "Too many login attempts; try again later", "RATE_LIMITED", headers=decision.headers())
        return decision

    # -- account operations ----------------------------------------------------------------------
    def login(self, username: str, password: str) -> LoginResult:
        """Check the password and issue a token; one vague 401 whatever was wrong."""
        user = self.accounts.user(username)
        # an unknown user costs one argon2 verification too, so timing does not reveal which names exist
        stored = user.password_hash if user is not None else self._decoy
        if not verify_password(stored, password) or user is None or not user.active:
            raise ApiError(401, "Invalid username or password", "AUTHENTICATION_FAILED")
        token, claims = issue_token(self._secret, user.username, user.role, self.lifetime)
        return LoginResult(token, claims, user)

    def logout(self, principal: Principal) -> None:
        """Revoke the caller's token (persisted: survives restarts); API keys are deleted, not logged out."""
        if principal.via != "jwt" or not principal.token_id or principal.expires_at is None:
            raise ApiError(400, "Only a bearer token can be logged out; delete an API key instead")
        self.accounts.revoke(principal.token_id, principal.expires_at)

    def register(
        self, username: str, password: str, email: str = "", role: str = "viewer", full_name: str = ""
    ) -> User:
        """Create a user (409 if the name is taken)."""
        if role not in ROLES:
            raise ApiError(422, f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise ApiError(422, "password must be at least 8 characters")
        if self.accounts.user(username) is not None:
            raise ApiError(409, f"user {username!r} already exists", "CONFLICT")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        user = User(username, hash_password(password), role, email, True, now, 0, full_name)
        self.accounts.put_user(user, create=True)
        return self.accounts.user(username) or user

    def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Change the caller's own password after checking the current one."""
        user = self.accounts.user(principal.username)
        if user is None or not verify_password(user.password_hash, current):
            raise ApiError(401, "Current password is wrong", "AUTHENTICATION_FAILED")
        if len(new) < 8:
            raise ApiError(422, "new password must be at least 8 characters")
        self.accounts.put_user(User(**{**user.__dict__, "password_hash": hash_password(new)}), create=False)

    def create_api_key(self, username: str, name: str, expires_in_days: int | None) -> tuple[str, ApiKey]:
        """A new key for ``username``: the plaintext (to show once) and its stored record."""
        key = new_api_key()
        expires = ""
        if expires_in_days:
            expires = (datetime.now(UTC) + timedelta(days=expires_in_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return key, self.accounts.put_api_key(hash_api_key(key), key[:7], name, username, expires)

    def bootstrap(self, username: str, password: str) -> None:
        """Make sure the bootstrap superadmin exists with the password of its Secret."""
        user = self.accounts.user(username)
        if user is None:
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.accounts.put_user(User(username, hash_password(password), "superadmin", "", True, now, 0), create=True)
            log.info("bootstrap superadmin %r created", username)
        elif user.role != "superadmin" or not user.active or not verify_password(user.password_hash, password):
            fixed = User(
                username,
                hash_password(password),
                "superadmin",
                user.email,
                True,
                user.created_at,
                user.id,
                user.full_name,
            )
            self.accounts.put_user(fixed, create=False)
            log.info("bootstrap superadmin %r brought in line with its Secret", username)
