"""The facade's root application: five documented APIs as sub-apps under their prefixes (api/README.md).

The root keeps ``/health`` (liveness + cache state), ``/ready`` (503 naming what start-up still waits for)
and ``/metrics`` (Prometheus). Every response carries ``X-Request-ID`` (the caller's, if it sent a
sane one, else a new one) and, for authenticated and login calls, ``X-RateLimit-*``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from daytwo.operator.shared.times import format_time
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .audit import RequestContext, request_context
from .auth.routes import auth_router
from .deps import Services
from .errors import FAMILIES, Family, envelope, install_envelope, request_id_of
from .metrics import Metrics
from .observability import ConfigWatch, record_request
from .routers import horcrux, merge_routes, multicloud, platform9, pmi, spot
from .settings import ApiSettings
from .startup import Startup
from .store import WatchSource
from .tls import TlsReloader

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

__all__ = [
    "SUBAPP_TITLES",
    "WRITE_METHODS",
    "Builder",
    "FacadeApp",
    "FrontDoor",
    "build_services",
    "create_app",
    "mount_subapps",
    "new_request_id",
]

log = logging.getLogger("daytwo.api")

SUBAPP_TITLES: dict[Family, str] = {
    "platform9": "Platform9 Management API",
    "horcrux": "Horcrux API",
    "pmi": "PMI Dashboard (Proxmox) API",
    "spot": "OpenStack Spot Manager API",
    "multicloud": "Multicloud Manager API",
}
_ROUTERS = {"platform9": platform9, "horcrux": horcrux, "pmi": pmi, "spot": spot, "multicloud": multicloud}
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Methods that change something: every call of one to the five APIs is audited (api/audit.py).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DENIALS = frozenset({401, 403})
#: The body limit before the settings are loaded (``ApiSettings.max_body_bytes``'s default).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


_REQUEST_ID_PREFIX = f"req_{secrets.token_hex(4)}"
_REQUEST_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """A request id unique across the facade's replicas: a random per-process prefix and a counter.

    ``req_`` + 16 hex digits, as before; a counter instead of uuid4 spares an os.urandom call per request.
    """
    return f"{_REQUEST_ID_PREFIX}{next(_REQUEST_COUNTER) & 0xFFFFFFFF:08x}"


class FrontDoor:
    """Pure ASGI entry: request id, body limit, audit, rate-limit headers, metrics, and the five prefixes.

    Requests under ``/<prefix>/`` go straight to their sub-app (the scope set as Starlette's Mount
    would), skipping the root app's own middleware and router: about a fifth of a cached GET.
    Everything else (``/health``, ``/ready``, ``/metrics``, ``/docs``, lifespan) goes to ``root``.

    Every request passes here, so this is where the facade enforces what no route may forget:

    - bodies over ``max_body_bytes`` answer 413 in the API's envelope before they are read (the
      ``Content-Length`` checked; a body without one is read here up to the limit, then replayed);
    - every write (POST/PUT/PATCH/DELETE) and every denial (401/403) of the five APIs is audited:
      the request runs in an audit :func:`~daytwo.api.audit.request_context` (client IP as the
      ASGI server resolved it, user agent), and when no route recorded an entry itself a generic
      one (method, route template, status, caller) is added after the response.
    """

    def __init__(
        self,
        root: ASGIApp,
        subapps: dict[str, ASGIApp],
        metrics: Metrics,
        services: Callable[[], Services | None] = lambda: None,
    ) -> None:
        self.root = root
        self.prefixes = [(f"/{family}/", family, sub) for family, sub in subapps.items()]
        self.metrics = metrics
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.root(scope, receive, send)
            return
        started = time.perf_counter()
        started_ns = time.time_ns()
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = incoming if incoming and _SANE_ID.match(incoming) else new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                limits = state.get("rate_limit_headers")
                if limits:
                    present = {k.lower() for k, _ in headers}
                    for name, value in limits.items():
                        if name.lower().encode() not in present:
                            headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        target = self.root
        family: str | None = None
        root_path = scope.get("root_path", "")
        route_path = scope["path"][len(root_path) :] if scope["path"].startswith(root_path) else scope["path"]
        for prefix_slash, name, sub in self.prefixes:
            if route_path.startswith(prefix_slash):
                scope["app_root_path"] = scope.get("app_root_path", root_path)
                scope["root_path"] = root_path + prefix_slash[:-1]
                scope.setdefault("path_params", {})
                target, family = sub, name
                break
        services = self.services()
        try:
            if family is None:
                await self._bounded(target, family, services, scope, receive, send_with_headers)
                return
            client = scope.get("client")
            agent = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"user-agent"), None)
            with request_context(client[0] if client else None, agent) as context:
                try:
                    await self._bounded(target, family, services, scope, receive, send_with_headers)
                finally:
                    self._audit_unrecorded(scope, context, status, services)
        finally:
            self.metrics.observe(scope, status, time.perf_counter() - started)
            record_request(scope, status, started_ns)  # OTLP span and metrics, when configured

    async def _bounded(
        self,
        target: ASGIApp,
        family: str | None,
        services: Services | None,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """Call ``target`` unless the body is over the limit (413 in ``family``'s envelope instead)."""
        limit = services.settings.max_body_bytes if services is not None else DEFAULT_MAX_BODY_BYTES
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:
            if length.isdigit() and int(length) > limit:
                await _too_large(family, limit, scope, send)
                return
            await target(scope, receive, send)
            return
        if not any(k == b"transfer-encoding" for k, _ in scope["headers"]):
            await target(scope, receive, send)  # no body
            return
        buffered: list[Message] = []
        size = 0
        while True:  # a body of unknown length: read it here, at most ``limit`` bytes
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(family, limit, scope, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await target(scope, replay, send)

    def _audit_unrecorded(self, scope: Scope, context: RequestContext, status: int, services: Services | None) -> None:
        """A generic audit entry for a write or a denial that no route recorded itself."""
        method = str(scope.get("method", ""))
        if context.recorded or (method not in WRITE_METHODS and status not in DENIALS):
            return
        audit = services.audit if services is not None else None
        if audit is None:
            return
        route = getattr(scope.get("route"), "path", None)
        template = f"{scope.get('root_path', '')}{route}" if route else "unmatched"
        denied = status in DENIALS
        outcome = "success" if status < 400 else "denied" if denied else "failure"
        details = {"method": method[:16], "route": template, "status": status, "path": str(scope["path"])[:256]}
        principal = (scope.get("state") or {}).get("principal")
        try:
            audit.record(principal, "request.denied" if denied else "request.write", template, outcome, details)
        except Exception:  # the answer is sent; never turn an audit hiccup into a failed request
            log.exception("audit: could not record %s %s", method, template)


async def _too_large(family: str | None, limit: int, scope: Scope, send: Send) -> None:
    """Answer 413 in ``family``'s error envelope (the root's ``{"detail"}`` outside the five APIs)."""
    message = f"Request body too large: at most {limit} bytes are accepted"
    rid = request_id_of(scope)
    if family is None:
        body: dict[str, Any] = {"detail": message, "request_id": rid}
    else:
        body = envelope(family, 413, message, "PAYLOAD_TOO_LARGE", {"max_body_bytes": limit}, rid)  # type: ignore[arg-type]
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class FacadeApp(FastAPI):
    """The root application; its ASGI entry is the :class:`FrontDoor` once :func:`create_app` set it.

    The front door is the app's ``__call__`` rather than a middleware so that requests for the five
    APIs never pass the root app's own middleware stack (exception and telemetry layers the sub-app
    has again): each layer wraps every ``send``.
    """

    front_door: FrontDoor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Enter through the front door (the root FastAPI app itself until it is set)."""
        if self.front_door is None:
            await super().__call__(scope, receive, send)
        else:
            await self.front_door(scope, receive, send)

    async def serve_root(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The root FastAPI app (its middleware, ``/health``, ``/ready``, ``/metrics``, docs, lifespan)."""
        await super().__call__(scope, receive, send)


def mount_subapps(root: FastAPI) -> dict[Family, FastAPI]:
    """Build the five sub-apps (envelope, auth routes, the API's router) and mount them on ``root``."""
    subapps: dict[Family, FastAPI] = {}
    for family in FAMILIES:
        sub = FastAPI(
            title=SUBAPP_TITLES[family],
            version="0.1.0",
            description=f"Served by daytwo from Kubernetes resources; see ../shared/reference/ ({family}).",
        )
        install_envelope(sub, family)
        _document_security(sub)
        merge_routes(sub.router, auth_router(family), _ROUTERS[family].router)
        root.mount(f"/{family}", sub)
        subapps[family] = sub
    return subapps


SECURITY_SCHEMES = {
    "HTTPBearer": {"type": "http", "scheme": "bearer", "description": "JWT from the API's login endpoint"},
    "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "API key (hx_...)"},
}


def _document_security(sub: FastAPI) -> None:
    """Declare the bearer and API-key schemes in the sub-app's OpenAPI (deps.py reads the headers itself)."""
    build = sub.openapi

    def openapi() -> dict[str, Any]:
        if sub.openapi_schema is None:
            document = build()
            document.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            document["security"] = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
            sub.openapi_schema = document
        return sub.openapi_schema

    sub.openapi = openapi  # type: ignore[method-assign]


#: Builds the process's services and the watch source they read from (tests pass their own).
Builder = Callable[[ApiSettings], tuple[Services, WatchSource | None]]


def build_services(settings: ApiSettings, kube: ApiClient | None = None) -> tuple[Services, WatchSource | None]:
    """The cache, the accounts, the auth service and the audit log over ``kube`` (default: in-cluster or
    $KUBECONFIG), and their watch source; nothing is started and nothing is called yet."""
    from .audit import AuditLog
    from .auth.accounts import Accounts
    from .auth.service import AuthPolicy, AuthService
    from .kube import KubeSource, api_client, request_json
    from .kubewrite import kube_error
    from .store import ObjectStore

    kube = kube or api_client()
    source = KubeSource(kube, settings.watch_timeout_seconds)
    store = ObjectStore(settings.namespace, source)

    def own(method: str, path: str, body: Any, content_type: str) -> Any:
        return request_json(kube, method, path, body=body, content_type=content_type)

    def own_mapped(method: str, path: str, body: Any, content_type: str) -> Any:
        try:
            return own(method, path, body, content_type)
        except Exception as error:
            if getattr(error, "status", None) == 404 and method in ("PATCH", "GET"):
                raise  # callers create on 404
            raise kube_error(error) from error

    secret = settings.jwt_secret.get_secret_value()
    accounts = Accounts(settings.namespace, secret, source, own_mapped)
    auth = AuthService(
        accounts,
        secret,
        settings.token_lifetime_seconds,
        settings.login_rate_per_minute,
        settings.user_rate_per_minute,
        policy=AuthPolicy.from_settings(settings),
    )
    audit = AuditLog(store, own, settings.namespace, quota_per_minute=settings.audit_quota_per_minute)
    return Services(settings, store, auth, kube, audit), source


def create_app(
    settings: ApiSettings | None = None, services: Services | None = None, build: Builder = build_services
) -> FacadeApp:
    """The facade app. With ``services`` (route tests) nothing is started; else the lifespan builds them
    with ``build`` from the settings (read at start-up when not given), starts the background work
    without waiting for it (:class:`~daytwo.api.startup.Startup`) and stops all of it on shutdown."""
    subapps: dict[Family, FastAPI] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        own, source = build(settings or ApiSettings())
        startup = Startup(own, source, (settings or own.settings).startup_timeout_seconds)
        startup.start()
        app.state.startup = startup
        app.state.daytwo = own
        for sub in subapps.values():
            sub.state.daytwo = own
        telemetry = ConfigWatch(own).start()  # OpenTelemetry export as its ConfigMap says (api/observability.py)
        tls = TlsReloader(own).start()  # the serving certificate's Secret, while HTTPS is served (api/tls.py)
        try:
            yield
        finally:
            await asyncio.to_thread(tls.stop)
            await asyncio.to_thread(telemetry.stop)
            await asyncio.to_thread(startup.stop)

    app = FacadeApp(
        title="daytwo facade",
        version="0.1.0",
        description="REST APIs of existing day-2 dashboards, served from daytwo custom resources.",
        lifespan=lifespan,
    )
    metrics = Metrics()
    metrics.mount(app)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, Any]:
        """Liveness plus the cache's state (never calls the apiserver)."""
        own: Services | None = getattr(app.state, "daytwo", None)
        synced = bool(own and own.store.synced())
        status = own.store.status() if own else {}
        errors = {kind: s["error"] for kind, s in status.items() if "error" in s}
        return {
            "status": "ok" if synced and not errors else "degraded",
            "service": "daytwo-api",
            "kubernetes": "unreachable" if errors else "reachable",
            "cache": "synced" if synced else "syncing",
            "kinds": status,
            "timestamp": format_time(datetime.now(UTC)),
        }

    @app.get("/ready", tags=["health"])
    async def ready() -> JSONResponse:
        """200 once start-up is done (the cache holds every kind, the auth Secrets are listed, the bootstrap
        admin and webhook delivery are set up: a readiness probe), 503 before, ``waiting`` naming what for."""
        own: Services | None = getattr(app.state, "daytwo", None)
        startup: Startup | None = getattr(app.state, "startup", None)
        if own is None:
            waiting = ["start-up: the facade's services are not built yet"]
        else:
            waiting = startup.waiting() if startup is not None else own.store.waiting()
        return JSONResponse({"ready": not waiting, "waiting": waiting}, status_code=503 if waiting else 200)

    @app.exception_handler(StarletteHTTPException)
    async def root_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """Errors outside the five APIs (an unknown path, a path escaping its prefix): ``{"detail"}`` as
        FastAPI answers, plus the request id every daytwo error carries."""
        body = {"detail": error.detail, "request_id": request_id_of(request.scope)}
        return JSONResponse(body, status_code=error.status_code, headers=getattr(error, "headers", None))

    subapps.update(mount_subapps(app))
    if services is not None:
        app.state.daytwo = services
        for sub in subapps.values():
            sub.state.daytwo = services
    app.front_door = FrontDoor(
        app.serve_root,
        {str(family): sub for family, sub in subapps.items()},
        metrics,
        lambda: getattr(app.state, "daytwo", None),
    )
    return app
