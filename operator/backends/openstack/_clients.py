"""The one place that turns connection params into openstacksdk connections, and runs calls on them.

- Connections live in the shared :class:`~daytwo.operator.backends.runtime.ClientCache`: keyed by the
  credential (namespace/kind/name) and versioned by the Secret's resourceVersion + the parameters'
  fingerprint when the caller knows the credential, else keyed by the fingerprint. A rotated Secret
  gets a fresh connection (and a fresh token). keystoneauth renews tokens that expire and
  re-authenticates once when a service answers 401. A validation drops the cached token first
  (:meth:`OpenStackClients.invalidate_token`), so it always proves the Secret's values.
- Each ``auth_url`` gets a bounded semaphore, so one slow cloud cannot take every worker thread.
- ``call()`` maps every SDK exception through :func:`translate` and retries retryable failures with the
  shared :func:`~daytwo.operator.backends.runtime.call_with_retries` (never 4xx; creates only on 429/503).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import openstack.config
import openstack.connection
from openstack.connection import Connection

from ...errors import BackendError, Unavailable
from ..runtime import CacheKey, ClientCache, CredentialKey, call_with_retries, write_ca_file
from ._errors import translate
from ._params import OpenStackClientSettings, OpenStackConnectionParams

__all__ = ["Connection", "OpenStackClients", "install_shared_clients", "shared_clients"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_CACHED_CONNECTIONS = 64
# Statuses meaning "the server did not act on the request": safe to repeat even a create.
_REPEATABLE_STATUSES = frozenset({429, 503})
_PROVIDER = "openstack"


class OpenStackClients:
    """Connections in a (shared or private) client cache, the per-endpoint limits and the retry policy."""

    def __init__(self, settings: OpenStackClientSettings | None = None, cache: ClientCache | None = None) -> None:
        self.settings = settings or OpenStackClientSettings()
        self.policy = self.settings.retry_policy()
        self.cache = cache if cache is not None else ClientCache(max_entries=_MAX_CACHED_CONNECTIONS)
        self._ca_lock = threading.Lock()
        self._ca_files: dict[str, str] = {}

    @staticmethod
    def _key(params: OpenStackConnectionParams, credential: CredentialKey | None) -> CacheKey:
        return credential.cache_key(_PROVIDER) if credential is not None else (_PROVIDER, params.fingerprint())

    def connection(
        self, params: OpenStackConnectionParams, credential: CredentialKey | None = None, secret_version: str = ""
    ) -> Connection:
        """The cached connection for these params (of this credential), built on first use (no network I/O)."""
        version = f"{secret_version}/{params.fingerprint()}"
        return self.cache.get(self._key(params, credential), version, lambda: self._build(params))

    def invalidate_token(
        self, params: OpenStackConnectionParams, credential: CredentialKey | None = None, secret_version: str = ""
    ) -> None:
        """Drop the cached Keystone token of these params' connection (no I/O), so the next call issues a
        fresh one with the Secret's values: a validation then sees a revoked password or a disabled user at
        once instead of when the cached token expires."""
        conn = self.cache.peek(self._key(params, credential), f"{secret_version}/{params.fingerprint()}")
        if conn is not None:
            auth: Any = conn.session.auth
            auth.invalidate()

    def forget(self, params: OpenStackConnectionParams, credential: CredentialKey | None = None) -> None:
        """Drop (and close) the cached connection for these params (of this credential)."""
        self.cache.invalidate(*self._key(params, credential))

    def cached_count(self) -> int:
        """How many clients are cached (for tests and metrics)."""
        return len(self.cache)

    def semaphore(self, auth_url: str) -> threading.BoundedSemaphore:
        """The concurrency limit shared by every call to one Keystone endpoint's cloud."""
        return self.cache.limiter(auth_url, self.settings.max_concurrency_per_endpoint)

    def call(
        self,
        params: OpenStackConnectionParams,
        operation: str,
        fn: Callable[[Connection], T],
        *,
        idempotent: bool = True,
        credential: CredentialKey | None = None,
        secret_version: str = "",
    ) -> T:
        """Run ``fn(connection)`` under the endpoint's semaphore with retries and error mapping.

        ``fn`` must do all its I/O before returning (materialise generators). Non-idempotent
        calls (creates) are repeated only on 429/503, where the server did not act.
        """

        def attempt() -> T:
            error: BackendError
            try:
                conn = self.connection(params, credential, secret_version)
                with self.semaphore(params.auth_url):
                    return fn(conn)
            except Exception as exc:  # every failure is translated; nothing SDK-typed escapes
                error = translate(exc, operation=operation, secrets=params.secret_values)
            raise error

        def retry_if(error: BackendError) -> bool:
            return idempotent or (isinstance(error, Unavailable) and error.status_code in _REPEATABLE_STATUSES)

        return call_with_retries(f"openstack {operation}", params.auth_url, attempt, self.policy, retry_if=retry_if)

    def close(self) -> None:
        """Close every cached connection."""
        self.cache.close()

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
        """One CA file per distinct bundle, removed with this object (or at exit)."""
        key = hashlib.sha256(pem.encode()).hexdigest()
        with self._ca_lock:
            if key not in self._ca_files:
                self._ca_files[key] = write_ca_file(self, pem)
            return self._ca_files[key]


_shared: OpenStackClients | None = None
_shared_lock = threading.Lock()


def shared_clients() -> OpenStackClients:
    """The process-wide OpenStack clients: the ones :func:`install_shared_clients` set (the operator's, with
    its settings), else default-configured ones made on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = OpenStackClients()
        return _shared


def install_shared_clients(clients: OpenStackClients) -> None:
    """Make ``clients`` the process-wide OpenStack clients (the operator does this with its settings)."""
    global _shared
    with _shared_lock:
        _shared = clients
