"""The dependencies routers use (see api/README.md): store, writer, the caller, permissions, settings.

``app.state.daytwo`` of every sub-application holds the :class:`Services` the root app built at
start-up; route unit tests build their own (tests/harness/fakes.py ``route_client``) and log in
for real. The caller is resolved once per request (:func:`resolve_principal`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from .audit import AuditLog
from .auth.proxy import ProxyAuth, anonymous_principal, peer_of
from .auth.roles import PENDING, check_permission
from .auth.service import AuthService, Principal
from .errors import ApiError
from .kubewrite import KubeWriter, Writer
from .settings import ApiSettings
from .store import ObjectStore

if TYPE_CHECKING:
    from kubernetes import client

__all__ = [
    "AuditDep",
    "Authenticated",
    "Principal",
    "Reader",
    "Services",
    "SettingsDep",
    "StoreDep",
    "Write",
    "WriterDep",
    "audit",
    "current_principal",
    "get_services",
    "reads",
    "require",
    "resolve_principal",
    "route_path",
    "writes",
]


@dataclass
class Services:
    """Everything a request may need, built once per process."""

    settings: ApiSettings
    store: ObjectStore
    auth: AuthService | None = None
    kube: client.ApiClient | None = None
    audit: AuditLog | None = None
    #: builds the writer for a caller (tests substitute a fake)
    writer_factory: Callable[[Principal], Writer] | None = None
    _proxy: ProxyAuth | None = field(default=None, repr=False)

    @property
    def proxy(self) -> ProxyAuth:
        """The trusted auth proxies of the settings (built once)."""
        if self._proxy is None:
            self._proxy = ProxyAuth.from_settings(self.settings)
        return self._proxy

    def writer_for(self, principal: Principal) -> Writer:
        """A writer acting as ``principal``."""
        if self.writer_factory is not None:
            return self.writer_factory(principal)
        if self.kube is None:
            raise ApiError(503, "Kubernetes is not configured", "SERVICE_UNAVAILABLE")
        return KubeWriter(self.kube, self.settings.namespace, principal.impersonate_user, principal.impersonate_group)


def get_services(request: Request) -> Services:
    """The process's services (set on each sub-app by the root app's lifespan)."""
    services: Services | None = getattr(request.app.state, "daytwo", None)
    if services is None:
        raise ApiError(503, "The facade is starting; try again shortly", "SERVICE_UNAVAILABLE")
    return services


_NO_CACHE = object()


def _credentials(request: Request) -> tuple[str, str]:
    """(bearer token, API key) from the headers ("" when absent)."""
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    return bearer, request.headers.get("x-api-key", "")


def resolve_principal(request: Request) -> Principal | None:
    """The caller, or None when anonymous; resolved once per request (cached in the request's state).

    A bearer token or API key names the caller; without either, a trusted auth proxy's headers may
    (api/auth/proxy.py: only from a configured peer address; 403 when its groups map to no role).
    A bad credential is a 401; counts the per-user rate limit (429 when over, headers either way).
    Headers are read directly rather than through FastAPI's security classes: fewer dependency
    nodes per request (the OpenAPI documents the schemes; see api/app.py).
    """
    state = request.scope.setdefault("state", {})
    cached = state.get("principal", _NO_CACHE)
    if cached is not _NO_CACHE:
        return cached  # type: ignore[no-any-return]
    bearer, api_key = _credentials(request)
    if not bearer and not api_key:
        proxied = _proxied(request, state)
        if proxied is None:
            state["principal"] = None
            return None
        return _limited(request, state, proxied, proxied.username)
    auth = get_services(request).auth
    if auth is None:
        raise ApiError(503, "Authentication is not available", "SERVICE_UNAVAILABLE")
    principal = auth.from_token(bearer) if bearer else auth.from_api_key(api_key)
    if principal is None:
        raise ApiError(
            401, "Invalid or expired credentials", "AUTHENTICATION_FAILED", headers={"WWW-Authenticate": "Bearer"}
        )
    return _limited(request, state, principal, principal.username)


def _proxied(request: Request, state: dict[str, Any]) -> Principal | None:
    """The caller a trusted auth proxy names (None: proxy trust off, peer untrusted, or no user header)."""
    proxy = get_services(request).proxy
    if not proxy.enabled:
        return None
    principal = proxy.principal(request.headers, peer_of(request.scope))
    if principal is not None and principal.role == PENDING:
        state["principal"] = principal  # the audit entry of the denial names the proxy's user
        raise ApiError(
            403,
            "Permission denied: none of the caller's groups maps to a daytwo role (DAYTWO_API_AUTH_PROXY_GROUP_ROLES)",
            "FORBIDDEN",
        )
    return principal


def _limited(request: Request, state: dict[str, Any], principal: Principal, key: str) -> Principal:
    """Count one call of ``principal`` against the per-user limit under ``key``; 429 when over."""
    auth = get_services(request).auth
    if auth is None:
        raise ApiError(503, "Authentication is not available", "SERVICE_UNAVAILABLE")
    decision = auth.limit_user(key)
    state["rate_limit_headers"] = decision.headers()
    if not decision.allowed:
        raise ApiError(429, "Rate limit exceeded; try again later", "RATE_LIMITED", headers=decision.headers())
    state["principal"] = principal
    return principal


async def current_principal(request: Request) -> Principal | None:
    """Dependency: the caller or None (anonymous allowed)."""
    return resolve_principal(request)


def _logged_in(request: Request) -> Principal:
    """The caller, or the API's anonymous caller (``anonymous_role_<api>``) for a request without credentials;
    401 when neither."""
    principal = resolve_principal(request)
    if principal is None:
        family = str(request.scope.get("root_path", "")).rsplit("/", 1)[-1]
        anonymous = anonymous_principal(get_services(request).settings, family)
        if anonymous is None:
            raise ApiError(401, "Not authenticated", "AUTHENTICATION_FAILED", headers={"WWW-Authenticate": "Bearer"})
        # anonymous callers share a role, not a rate budget: one per client address
        client = request.client.host if request.client else "unknown"
        principal = _limited(
            request, request.scope.setdefault("state", {}), anonymous, f"{anonymous.username}@{client}"
        )
    return principal


async def _authenticated(request: Request) -> Principal:
    return _logged_in(request)


#: Any logged-in caller, whatever the role.
Authenticated = Annotated[Principal, Depends(_authenticated)]


def route_path(request: Request) -> str:
    """The request's path within its API (``/horcrux/api/vms/100`` -> ``/api/vms/100``)."""
    path: str = request.scope.get("path", "")
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _permitted(request: Request, permission: str) -> Principal:
    """The caller if it holds ``permission`` (by role, or by a grant covering this route path, e.g.
    ``/api/vms/100`` within the horcrux API): 401 anonymous, 403 without it."""
    principal = _logged_in(request)
    if not principal.can(permission, route_path(request)):
        raise ApiError(403, f"Permission denied: requires {permission}", "FORBIDDEN")
    return principal


def _permitted_as(kind: str, permission: str, answer: Callable[[Request, Principal], Any]) -> Any:
    """``Depends`` checking ``permission`` (401 anonymous, 403 without it), then giving ``answer(request, caller)``."""
    check_permission(permission)

    async def dependency(request: Request) -> Any:
        return answer(request, _permitted(request, permission))

    dependency.__name__ = f"{kind}_{permission.replace(':', '_')}"
    return Depends(dependency)


def require(permission: str) -> Any:
    """``user: Principal = require("drift:read")``: 401 anonymous, 403 without the permission."""
    return _permitted_as("require", permission, lambda request, user: user)


@dataclass(frozen=True)
class Reader:
    """A permitted caller and the cache: all a read route needs."""

    user: Principal
    store: ObjectStore


def reads(permission: str) -> Any:
    """``read: Reader = reads("drift:read")``: ``require`` and ``StoreDep`` as one dependency.

    For the routes dashboards poll: FastAPI solves every dependency anew on each request (~10 µs
    each here), so the hot reads take the caller and the cache in one.
    """
    return _permitted_as("reads", permission, lambda request, user: Reader(user, get_services(request).store))


@dataclass(frozen=True)
class Write(Reader):
    """A permitted caller, the cache, a writer acting as the caller and the request: all a write route needs."""

    writer: Writer
    request: Request

    def audit(self, action: str, target: str, outcome: str = "success", **details: Any) -> None:
        """Record this write in the audit log (:func:`audit`)."""
        audit(self.request, self.user, action, target, outcome, **details)


def _write(request: Request, user: Principal) -> Write:
    services = get_services(request)
    return Write(user, services.store, services.writer_for(user), request)


def writes(permission: str) -> Any:
    """``act: Write = writes("restore:write")``: ``require``, ``StoreDep``, ``WriterDep`` and the request as one
    dependency (401 anonymous, 403 without the permission), so write routes list only their own parameters."""
    return _permitted_as("writes", permission, _write)


def audit(request: Request, principal: Any, action: str, target: str, outcome: str = "success", **details: Any) -> None:
    """Record a write in the facade's audit log, when the app has one (route unit tests may run without)."""
    log = getattr(getattr(request.app.state, "daytwo", None), "audit", None)
    if log is not None:
        log.record(principal, action, target, outcome, details or None)


async def _store(request: Request) -> ObjectStore:
    return get_services(request).store


async def _writer(request: Request) -> Writer:
    return get_services(request).writer_for(_logged_in(request))


async def _settings(request: Request) -> ApiSettings:
    return get_services(request).settings


async def _audit(request: Request) -> AuditLog:
    audit = get_services(request).audit
    if audit is None:
        raise ApiError(503, "The audit log is not available", "SERVICE_UNAVAILABLE")
    return audit


StoreDep = Annotated[ObjectStore, Depends(_store)]
WriterDep = Annotated[Writer, Depends(_writer)]
SettingsDep = Annotated[ApiSettings, Depends(_settings)]
AuditDep = Annotated[AuditLog, Depends(_audit)]
