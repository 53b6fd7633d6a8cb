"""AuthService: who is calling (JWT or API key), logging in and out, registering, the bootstrap admin.

Decisions (README "Users and API keys"):

- A password change (and a bootstrap password rotation) bumps the user's ``token_generation``: every
  JWT issued before stops authenticating at once. API keys are separate credentials with their own
  expiry and stay valid (delete them to revoke them).
- Failed logins count per account name, whatever the client IP (:class:`AccountBackoff`), on top
  of the per-IP limit; unknown names are limited the same way, so the limit reveals nothing.
- Self-registration creates role ``pending`` (no permissions). Every registration failure the
  service decides (name taken, weak password) is the same 422 "Registration failed" without the name.
- API keys always expire: ``api_key_lifetime_days`` by default and at most; at most
  ``api_keys_per_user`` per user (409 beyond: delete an old key first).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from daytwo.operator.shared.times import format_time

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
from .ratelimit import AccountBackoff, Decision, RateLimiter
from .roles import (
    HORCRUX_ROLES,
    PENDING,
    PRIVILEGES,
    ROLES,
    Grant,
    grant_covers,
    group_of,
    horcrux_role_of,
    permissions_of,
    strongest_group_role,
)

if TYPE_CHECKING:
    from ..settings import ApiSettings

__all__ = ["REGISTRATION_FAILED", "AuthPolicy", "AuthService", "LoginResult", "Principal", "effective_grants"]

log = logging.getLogger("daytwo.api.auth")
#: Kubernetes user the facade impersonates for a daytwo user (the prefix keeps it apart from real users).
USER_PREFIX = "daytwo:user:"
#: The one answer to a registration the service refuses (taken name or weak input): no name echoed.
REGISTRATION_FAILED = (
    "Registration failed: choose another username and a password of at least 8 characters, "
    "or ask an administrator for an account"
)


def _setting_default(name: str) -> int:
    from ..settings import ApiSettings

    default = ApiSettings.model_fields[name].default
    assert isinstance(default, int)
    return default


@dataclass(frozen=True)
class AuthPolicy:
    """The account limits of ``ApiSettings`` the service enforces (defaults: the settings' defaults)."""

    account_failures: int = field(default_factory=lambda: _setting_default("login_account_failures"))
    account_max_backoff_seconds: int = field(
        default_factory=lambda: _setting_default("login_account_max_backoff_seconds")
    )
    api_keys_per_user: int = field(default_factory=lambda: _setting_default("api_keys_per_user"))
    api_key_lifetime_days: int = field(default_factory=lambda: _setting_default("api_key_lifetime_days"))

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> AuthPolicy:
        """The policy the process's settings ask for."""
        return cls(
            settings.login_account_failures,
            settings.login_account_max_backoff_seconds,
            settings.api_keys_per_user,
            settings.api_key_lifetime_days,
        )


def effective_grants(user: User) -> tuple[Grant, ...]:
    """The account's grants: its horcrux role's privileges on ``/`` (while its daytwo role still matches
    that horcrux role), then its own grants."""
    shown = horcrux_role_of(user.horcrux_role, user.role)
    found = HORCRUX_ROLES.get(shown)
    from_role = tuple(("/", p) for p in found.privileges if p in PRIVILEGES) if found else ()
    return from_role + tuple(user.grants)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    username: str
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    #: how the caller authenticated; ``proxy`` (trusted auth-proxy headers) and ``anonymous`` (an API's
    #: anonymous role) callers are named ``proxy:<user>`` / ``anonymous:<api>`` (api/auth/proxy.py)
    via: Literal["jwt", "api_key", "proxy", "anonymous"] = "jwt"
    token_id: str = ""  # the JWT's jti (empty for API keys)
    expires_at: datetime | None = None
    user_id: int = 0
    #: (path, privilege) grants: the horcrux role's privileges on ``/`` plus the account's own grants
    grants: tuple[Grant, ...] = ()

    @classmethod
    def of(cls, username: str, role: str, **kwargs: Any) -> Principal:
        """A principal with the permissions of ``role`` (tests and internal callers)."""
        return cls(username, role, permissions_of(role), **kwargs)

    def can(self, permission: str, path: str | None = None) -> bool:
        """Whether the role grants ``permission``, or a grant does for route path ``path``.

        Without a path (outside a route's own check) only grants on ``/`` count.
        """
        return permission in self.permissions or any(grant_covers(g, permission, path) for g in self.grants)

    @property
    def impersonate_user(self) -> str:
        """``Impersonate-User`` for Kubernetes: ``daytwo:user:<username>``; a proxy or anonymous caller as
        named (``proxy:<user>``, ``anonymous:<api>``), apart from daytwo's own accounts."""
        return self.username if self.via in ("proxy", "anonymous") else USER_PREFIX + self.username

    @property
    def impersonate_group(self) -> str:
        """``Impersonate-Group`` for Kubernetes: ``daytwo:<role>``, or the stronger group a granted
        privilege needs (api/auth/roles.py PRIVILEGES), so the chart's RBAC still decides its writes."""
        return group_of(strongest_group_role(self.role, self.grants))


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

    def __init__(
        self,
        accounts: Accounts,
        secret: str,
        lifetime_seconds: int,
        login_rate: int,
        user_rate: int,
        *,
        policy: AuthPolicy | None = None,
    ) -> None:
        self.accounts = accounts
        self._secret = secret
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.login_limiter = RateLimiter(login_rate)
        self.user_limiter = RateLimiter(user_rate)
        self.policy = AuthPolicy()
        self.account_backoff = AccountBackoff(self.policy.account_failures, self.policy.account_max_backoff_seconds)
        self.configure(policy or self.policy)
        # credential -> Principal, valid while the auth Secrets are unchanged (any user, key or
        # revocation write bumps the watcher's version and empties it): a request pays no JWT/HMAC.
        self._decoy = hash_password(uuid.uuid4().hex)
        self._known: dict[str, Principal] = {}
        self._known_version = -1

    def configure(self, policy: AuthPolicy) -> None:
        """Apply ``policy`` (idempotent: the failure counts survive unless the backoff settings change)."""
        if policy == self.policy:
            return
        if (policy.account_failures, policy.account_max_backoff_seconds) != (
            self.policy.account_failures,
            self.policy.account_max_backoff_seconds,
        ):
            self.account_backoff = AccountBackoff(policy.account_failures, policy.account_max_backoff_seconds)
        self.policy = policy

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
            effective_grants(user),
        )

    def from_token(self, token: str) -> Principal | None:
        """The caller a bearer token names, if valid, unexpired, not revoked, and the user still active.

        The role comes from the user record, not the token: a demotion takes effect at once; so does a
        password change (the token's generation must be the user's current one).
        """
        known = self._remembered(token)
        if known is not None:
            return known
        claims = decode_token(self._secret, token)
        if claims is None or self.accounts.revoked(claims.jti):
            return None
        user = self.accounts.user(claims.username)
        if user is None or user.token_generation != claims.generation:
            return None
        return self._remember(token, self._principal(user, "jwt", claims))

    def from_api_key(self, key: str) -> Principal | None:
        """The caller an ``X-API-Key`` names, if the key is stored and its user active."""
        if not key.startswith(API_KEY_PREFIX):
            return None
        stored = self.accounts.api_key(key)  # not remembered: a key's expiry is checked on every call
        if stored is None or stored.expired():
            return None
        return self._principal(self.accounts.user(stored.username), "api_key", None)

    def limit_user(self, key: str) -> Decision:
        """Count one call against the per-user limit of ``key`` (a caller's name; anonymous callers: per address)."""
        return self.user_limiter.hit(key)

    def limit_login(self, client_ip: str) -> Decision:
        """Count one login attempt from ``client_ip``; 429 in the envelope when over the limit."""
        decision = self.login_limiter.hit(client_ip)
        if not decision.allowed:
            raise ApiError(429, "Too many login attempts; try again later", "RATE_LIMITED", headers=decision.headers())
        return decision

    # -- account operations ----------------------------------------------------------------------
    def login(self, username: str, password: str) -> LoginResult:
        """Check the password and issue a token; one vague 401 whatever was wrong.

        429 (with ``Retry-After``) while the account is backing off after repeated failures, from
        whichever IP; the password is then not even checked.
        """
        wait = self.account_backoff.retry_after(username)
        if wait:
            raise ApiError(
                429,
                f"Too many failed logins for this account; try again in {wait} s",
                "RATE_LIMITED",
                headers={"Retry-After": str(wait)},
            )
        user = self.accounts.user(username)
        # an unknown user costs one argon2 verification too, so timing does not reveal which names exist
        stored = user.password_hash if user is not None else self._decoy
        if not verify_password(stored, password) or user is None or not user.active:
            self.account_backoff.failed(username)
            raise ApiError(401, "Invalid username or password", "AUTHENTICATION_FAILED")
        self.account_backoff.succeeded(username)
        token, claims = issue_token(
            self._secret, user.username, user.role, self.lifetime, generation=user.token_generation
        )
        return LoginResult(token, claims, user)

    def logout(self, principal: Principal) -> None:
        """Revoke the caller's token (persisted: survives restarts); API keys are deleted, not logged out."""
        if principal.via != "jwt" or not principal.token_id or principal.expires_at is None:
            raise ApiError(400, "Only a bearer token can be logged out; delete an API key instead")
        self.accounts.revoke(principal.token_id, principal.expires_at)

    def register(self, username: str, password: str, email: str = "", role: str = PENDING, full_name: str = "") -> User:
        """Create a user (self-registration: role ``pending``, no permissions until an admin grants a role).

        A taken name and a weak password get the same 422 :data:`REGISTRATION_FAILED`, which does not
        echo the name; the password is hashed first either way, so timing tells them apart no better.
        """
        if role not in ROLES:
            raise ApiError(422, f"role must be one of {', '.join(ROLES)}")
        hashed = hash_password(password)
        if len(password) < 8 or self.accounts.user(username) is not None:
            raise ApiError(422, REGISTRATION_FAILED, "VALIDATION_ERROR")
        now = format_time(datetime.now(UTC))
        user = User(username, hashed, role, email, True, now, 0, full_name)
        try:
            self.accounts.put_user(user, create=True)
        except ApiError as error:
            if error.status_code == 409:  # registered meanwhile (another replica)
                raise ApiError(422, REGISTRATION_FAILED, "VALIDATION_ERROR") from None
            raise
        return self.accounts.user(username) or user

    # -- administration (horcrux /api/users, /api/permissions) ------------------------------------
    def create_user(self, username: str, password: str, email: str, horcrux_role: str) -> User:
        """An administrator creates an active account with a horcrux role (its daytwo role and privileges).

        422 for an unknown role or a short password; 409 when the name (or, by a hash collision, its
        numeric id) is taken. The password is stored only as its argon2id hash.
        """
        found = HORCRUX_ROLES.get(horcrux_role)
        if found is None:
            raise ApiError(422, f"role must be one of {', '.join(HORCRUX_ROLES)}", "VALIDATION_ERROR")
        if len(password) < 8:
            raise ApiError(422, "password must be at least 8 characters", "VALIDATION_ERROR")
        hashed = hash_password(password)
        if self.accounts.user(username) is not None:
            raise ApiError(409, "Username already exists", "CONFLICT")
        now = format_time(datetime.now(UTC))
        user = User(username, hashed, found.role, email, True, now, 0, "", 0, horcrux_role)
        candidate = self.accounts.user_id_for(username)
        if self.accounts.user_by_id(candidate) is not None:
            raise ApiError(409, "Username already exists (its id is taken); choose another name", "CONFLICT")
        self.accounts.put_user(user, create=True)  # 409 from Kubernetes if another replica was faster
        return self.accounts.user(username) or user

    def set_grants(self, user: User, grants: tuple[Grant, ...]) -> User:
        """Replace the account's explicit grants (tokens keep working; the next request sees them)."""
        if grants != user.grants:
            self.accounts.put_user(replace(user, grants=grants), create=False)
        return self.accounts.user(user.username) or replace(user, grants=grants)

    def set_role(self, username: str, role: str) -> User:
        """Give ``username`` another role (an administrator approving a pending account, say)."""
        if role not in ROLES:
            raise ApiError(422, f"role must be one of {', '.join(ROLES)}")
        user = self.accounts.user(username)
        if user is None:
            raise ApiError(404, f"user {username!r} not found", "NOT_FOUND")
        if user.role != role:
            self.accounts.put_user(replace(user, role=role), create=False)
        return self.accounts.user(username) or replace(user, role=role)

    def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Change the caller's own password after checking the current one."""
        user = self.accounts.user(principal.username)
        if user is None or not verify_password(user.password_hash, current):
            raise ApiError(401, "Current password is wrong", "AUTHENTICATION_FAILED")
        if len(new) < 8:
            raise ApiError(422, "new password must be at least 8 characters")
        changed = replace(user, password_hash=hash_password(new), token_generation=user.token_generation + 1)
        self.accounts.put_user(changed, create=False)

    def create_api_key(self, username: str, name: str, expires_in_days: int | None) -> tuple[str, ApiKey]:
        """A new key for ``username``: the plaintext (to show once) and its stored record.

        Keys always expire (the policy's lifetime by default, shorter on request, never longer: 422);
        a user holding ``api_keys_per_user`` unexpired keys gets 409 until they delete one.
        """
        most = self.policy.api_key_lifetime_days
        if expires_in_days is not None and expires_in_days > most:
            raise ApiError(422, f"expires_in_days may be at most {most} (API keys always expire)", "VALIDATION_ERROR")
        held = [k for k in self.accounts.api_keys(username) if not k.expired()]
        if len(held) >= self.policy.api_keys_per_user:
            raise ApiError(
                409,
                f"{username!r} already holds {len(held)} API keys, the most allowed; delete an old key "
                "(DELETE /api/users/{username}/api-keys/{key_id}) before creating another",
                "CONFLICT",
            )
        key = new_api_key()
        days = expires_in_days or most
        expires = format_time(datetime.now(UTC) + timedelta(days=days))
        return key, self.accounts.put_api_key(hash_api_key(key), key[:7], name, username, expires)

    def bootstrap(self, username: str, password: str) -> None:
        """Make sure the bootstrap superadmin exists with the password of its Secret."""
        user = self.accounts.user(username)
        if user is None:
            now = format_time(datetime.now(UTC))
            self.accounts.put_user(User(username, hash_password(password), "superadmin", "", True, now, 0), create=True)
            log.info("bootstrap superadmin %r created", username)
        elif user.role != "superadmin" or not user.active or not verify_password(user.password_hash, password):
            rotated = not verify_password(user.password_hash, password)
            fixed = replace(
                user,
                password_hash=hash_password(password),
                role="superadmin",
                active=True,
                token_generation=user.token_generation + (1 if rotated else 0),
            )
            self.accounts.put_user(fixed, create=False)
            log.info("bootstrap superadmin %r brought in line with its Secret", username)
