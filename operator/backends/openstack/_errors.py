"""The one table turning keystoneauth1/openstacksdk exceptions into daytwo.operator.errors types.

Rows are checked in order (most specific first); the first ``isinstance`` match wins.
Messages are scrubbed of secret values before they leave this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from ... import errors as errs
from ...errors import BackendError

__all__ = ["ERROR_TABLE", "AddressInUse", "scrub", "translate"]


class AddressInUse(errs.Conflict):
    """Neutron refused a fixed IP because another port holds it (409 IpAddressAlreadyAllocated)."""

    reason = "IpAddressAlreadyAllocated"


_Factory = Callable[[BaseException, str], BackendError]


def _by_status(exc: BaseException, message: str) -> BackendError:
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    if not isinstance(status, int):
        return errs.Unavailable(message)
    return errs.error_for_status(status, message)


def _fixed(kind: type[BackendError], hint: str = "") -> _Factory:
    def make(exc: BaseException, message: str) -> BackendError:
        status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
        return kind(f"{message}{hint}", status_code=status if isinstance(status, int) else None)

    return make


ERROR_TABLE: Final[tuple[tuple[type[BaseException], _Factory], ...]] = (
    # Authentication, raised by keystoneauth while fetching a token.
    (ksa_exc.Unauthorized, _fixed(errs.AuthFailed, " (check the username/password or application credential)")),
    (ksa_exc.AuthorizationFailure, _fixed(errs.AuthFailed)),
    (ksa_exc.MissingAuthPlugin, _fixed(errs.AuthFailed)),
    (ksa_exc.MissingAuthMethods, _fixed(errs.AuthFailed)),
    (ksa_exc.Forbidden, _fixed(errs.PermissionDenied)),
    # Catalog and discovery: the service or version is not offered.
    (ksa_exc.EndpointNotFound, _fixed(errs.NotFound, " (the service is missing from the Keystone catalog)")),
    (sdk_exc.EndpointNotFound, _fixed(errs.NotFound, " (the service is missing from the Keystone catalog)")),
    (sdk_exc.ServiceDiscoveryException, _fixed(errs.NotFound)),
    (sdk_exc.ServiceDisabledException, _fixed(errs.NotFound)),
    (ksa_exc.VersionNotAvailable, _fixed(errs.NotFound)),
    (ksa_exc.DiscoveryFailure, _fixed(errs.Unavailable)),
    # Transport.
    (ksa_exc.SSLError, _fixed(errs.TLSVerificationFailed, " (check the CA bundle)")),
    (ksa_exc.ConnectTimeout, _fixed(errs.Timeout)),
    (ksa_exc.ConnectFailure, _fixed(errs.Unavailable)),
    (ksa_exc.UnknownConnectionError, _fixed(errs.Unavailable)),
    (ksa_exc.ConnectionError, _fixed(errs.Unavailable)),
    # HTTP answers (SDK first: it carries the service's own message).
    (sdk_exc.HttpException, _by_status),
    (ksa_exc.HttpError, _by_status),
    (sdk_exc.ResourceTimeout, _fixed(errs.Timeout)),
    (sdk_exc.ResourceFailure, _fixed(errs.InvalidRequest)),
    (
        sdk_exc.DuplicateResource,
        _fixed(errs.InvalidRequest, " (the name matches more than one object; use the id)"),
    ),
    (sdk_exc.InvalidRequest, _fixed(errs.InvalidRequest)),
    (sdk_exc.InvalidResourceQuery, _fixed(errs.InvalidRequest)),
    (sdk_exc.ConfigException, _fixed(errs.InvalidRequest)),
    (ksa_exc.ClientException, _fixed(errs.InvalidRequest)),
    (sdk_exc.SDKException, _fixed(errs.InvalidRequest)),
    (TimeoutError, _fixed(errs.Timeout)),
    (ConnectionError, _fixed(errs.Unavailable)),
)


def scrub(message: str, secrets: Iterable[str]) -> str:
    """Replace every secret value in ``message`` with ``***``."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def _describe(exc: BaseException) -> str:
    if isinstance(exc, sdk_exc.HttpException):
        details = exc.details or ""
        base = str(exc.message or "").strip() or type(exc).__name__
        return f"{base}: {details}" if details and details not in base else base
    text = str(exc).strip()
    return text or type(exc).__name__


def translate(exc: BaseException, *, operation: str, secrets: Iterable[str] = ()) -> BackendError:
    """Map an SDK/transport exception to the typed error a handler understands.

    Already-typed errors pass through unchanged. Unknown exceptions become ``errs.Unavailable``
    (retryable) rather than crashing the caller.
    """
    if isinstance(exc, BackendError):
        return exc
    message = scrub(f"{operation}: {_describe(exc)}", secrets)
    for exc_type, factory in ERROR_TABLE:
        if isinstance(exc, exc_type):
            return factory(exc, message)
    return errs.Unavailable(f"{message} (unexpected {type(exc).__name__})")
