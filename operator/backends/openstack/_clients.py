"""The one place that turns connection params into openstacksdk connections, and runs calls on them.

- Connections are cached by ``OpenStackConnectionParams.fingerprint()``: a rotated Secret has a
  new fingerprint, so it gets a fresh connection (and a fresh token). keystoneauth renews tokens
  that expire and re-authenticates once when a service answers 401. A validation drops the cached
  token first (:meth:`OpenStackClients.invalidate_token`), so it always proves the Secret's values.
- Each ``auth_url`` gets a bounded semaphore, so one slow cloud cannot take every worker thread.
- ``call()`` maps every SDK exception through :func:`errors.translate`, retries retryable
  failures with exponential backoff (never 4xx), and never lets an SDK exception escape.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import openstack.config
import openstack.connection
from openstack.connection import Connection

from ...errors import BackendError, Unavailable
from ...stopping import pause
from .errors import translate
from .params import OpenStackClientSettings, OpenStackConnectionParams

__all__ = ["Connection", "OpenStackClients", "shared_clients"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_CACHED_CONNECTIONS = 64
# Statuses meaning "the server did not act on the request": safe to repeat even a create.
_REPEATABLE_STATUSES = frozenset({429, 503})


class OpenStackClients:
    """A thread-safe cache of connections plus the per-endpoint limits and retry policy."""

    def __init__(self, settings: OpenStackClientSettings | None = None) -> None:
        self.settings = settings or OpenStackClientSettings()
        self._lock = threading.Lock()
        self._connections: OrderedDict[str, Connection] = OrderedDict()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._ca_dir: str | None = None

    def connection(self, params: OpenStackConnectionParams) -> Connection:
        """The cached connection for these params, built on first use (no network I/O here)."""
        key = params.fingerprint()
        with self._lock:
            conn = self._connections.get(key)
            if conn is not None:
                self._connections.move_to_end(key)
                return conn
            conn = self._build(params)
            self._connections[key] = conn
            while len(self._connections) > _MAX_CACHED_CONNECTIONS:
                _, old = self._connections.popitem(last=False)
                _close_quietly(old)
            return conn

    def invalidate_token(self, params: OpenStackConnectionParams) -> None:
        """Drop the cached Keystone token of these params' connection (no I/O), so the next call issues a
        fresh one with the Secret's values: a validation then sees a revoked password or a disabled user at
        once instead of when the cached token expires."""
        with self._lock:
            conn = self._connections.get(params.fingerprint())
        if conn is not None:
            auth: Any = conn.session.auth
            auth.invalidate()

    def forget(self, params: OpenStackConnectionParams) -> None:
        """Drop (and close) the cached connection for these params, e.g. when a credential is deleted."""
        with self._lock:
            conn = self._connections.pop(params.fingerprint(), None)
        if conn is not None:
            _close_quietly(conn)

    def cached_count(self) -> int:
        """How many connections are cached (for tests and metrics)."""
        with self._lock:
            return len(self._connections)

    def semaphore(self, auth_url: str) -> threading.BoundedSemaphore:
        """The concurrency limit shared by every call to one Keystone endpoint's cloud."""
        with self._lock:
            sem = self._semaphores.get(auth_url)
            if sem is None:
                sem = threading.BoundedSemaphore(self.settings.max_concurrency_per_endpoint)
                self._semaphores[auth_url] = sem
            return sem

    def call(
        self,
        params: OpenStackConnectionParams,
        operation: str,
        fn: Callable[[Connection], T],
        *,
        idempotent: bool = True,
    ) -> T:
        """Run ``fn(connection)`` under the endpoint's semaphore with retries and error mapping.

        ``fn`` must do all its I/O before returning (materialise generators). Non-idempotent
        calls (creates) are repeated only on 429/503, where the server did not act.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                conn = self.connection(params)
                with self.semaphore(params.auth_url):
                    return fn(conn)
            except Exception as exc:  # every failure is translated; nothing SDK-typed escapes
                error = translate(exc, operation=operation, secrets=params.secret_values)
                if not self._should_retry(error, attempt, idempotent):
                    raise error from None
                delay = self.settings.backoff(attempt)
                log.warning(
                    "openstack call failed, retrying",
                    extra={
                        "operation": operation,
                        "attempt": attempt,
                        "reason": error.reason,
                        "status_code": error.status_code,
                        "delay_s": delay,
                    },
                )
                pause(delay)

    def _should_retry(self, error: BackendError, attempt: int, idempotent: bool) -> bool:
        if not error.retryable or attempt >= self.settings.retry_attempts:
            return False
        if idempotent:
            return True
        return isinstance(error, Unavailable) and error.status_code in _REPEATABLE_STATUSES

    def close(self) -> None:
        """Close every cached connection."""
        with self._lock:
            conns = list(self._connections.values())
            self._connections.clear()
        for conn in conns:
            _close_quietly(conn)

    def _build(self, params: OpenStackConnectionParams) -> Connection:
        auth: dict[str, Any] = {"auth_url": params.auth_url}
        if params.uses_application_credential:
            auth_type = "v3applicationcredential"
            auth["application_credential_id"] = params.application_credential_id
            auth["application_credential_secret"] = params.application_credential_secret
        else:
            auth_type = "v3password"
            auth.update(
                username=params.username,
                password=params.password,
                user_domain_name=params.user_domain,
                project_domain_name=params.project_domain,
            )
            if params.project_id:
                auth["project_id"] = params.project_id
            elif params.project_name:
                auth["project_name"] = params.project_name
        extra: dict[str, Any] = {}
        if params.ca_bundle_pem:
            extra["cacert"] = self._ca_file(params.ca_bundle_pem)
        config = openstack.config.OpenStackConfig(
            load_yaml_config=False, load_envvars=False, app_name="daytwo"
        ).get_one(
            auth_type=auth_type,
            auth=auth,
            region_name=params.region or "",
            interface=params.interface,
            identity_api_version="3",
            api_timeout=params.timeout_seconds,
            verify=params.verify_tls,
            connect_retries=0,
            status_code_retries=0,
            image_status_code_retries=0,
            **extra,
        )
        return openstack.connection.Connection(config=config, app_name="daytwo")

    def _ca_file(self, pem: str) -> str:
        if self._ca_dir is None:
            self._ca_dir = tempfile.mkdtemp(prefix="daytwo-openstack-ca-")
        path = os.path.join(self._ca_dir, hashlib.sha256(pem.encode()).hexdigest() + ".pem")
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(pem)
        return path


def _close_quietly(conn: Connection) -> None:
    try:
        conn.close()
    except Exception:  # closing is best effort
        log.debug("closing an openstack connection failed", exc_info=True)


_shared: OpenStackClients | None = None
_shared_lock = threading.Lock()


def shared_clients(settings: OpenStackClientSettings | None = None) -> OpenStackClients:
    """The process-wide factory (created on first use; ``settings`` apply only then)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = OpenStackClients(settings)
        return _shared
