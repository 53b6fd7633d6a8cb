"""One error taxonomy for every backend, so kinds turn failures into condition reasons the same way.

    BackendError                      base; ``reason`` is the condition reason, ``retryable`` says
    |                                 whether the same call may succeed later
    +-- TerminalError                 retrying the same call will not help; the user must act
    |   +-- AuthFailed                credentials rejected (401, wrong password/token)
    |   +-- PermissionDenied          authenticated but not allowed (403); ``missing`` names the privilege
    |   +-- NotFound                  the object or service does not exist (404, missing from catalog)
    |   +-- Conflict                  the request clashes with current state (409)
    |   +-- InvalidRequest            the cloud refused the request as malformed (400, 422)
    |   +-- CredentialsNotFound       the Secret or key a credential names is missing
    |   +-- TLSVerificationFailed     the server certificate did not verify
    +-- RetryableError                transient; retry with backoff
        +-- Unavailable               5xx, connection refused/reset, 429
        +-- Timeout                   the call did not answer in time

Handlers map ``RetryableError`` to ``kopf.TemporaryError`` (with backoff) and
``TerminalError`` to a False condition carrying ``reason`` and ``message``.
"""

from __future__ import annotations

__all__ = [
    "AuthFailed",
    "BackendError",
    "Conflict",
    "CredentialsNotFound",
    "InvalidRequest",
    "NotFound",
    "PermissionDenied",
    "RetryableError",
    "TLSVerificationFailed",
    "TerminalError",
    "Timeout",
    "Unavailable",
    "error_for_status",
]


class BackendError(Exception):
    """A failed call to a cloud; ``reason`` becomes the condition reason."""

    reason: str = "BackendError"
    retryable: bool = False

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class TerminalError(BackendError):
    """Retrying the same call will not help; the user has to change something."""


class RetryableError(BackendError):
    """A transient failure; the same call may succeed after a backoff."""

    retryable = True


class AuthFailed(TerminalError):
    """The cloud rejected the credentials."""

    reason = "AuthFailed"


class PermissionDenied(TerminalError):
    """Authenticated, but the identity lacks a privilege; ``missing`` names it when known."""

    reason = "PermissionDenied"

    def __init__(self, message: str, *, status_code: int | None = None, missing: str | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.missing = missing


# Duplicate scan: the error classes share a form (docstring, reason); deliberate because there is one class
# per reason callers catch.
class NotFound(TerminalError):
    """The object, endpoint or catalog service does not exist."""

    reason = "NotFound"


class Conflict(TerminalError):
    """The request clashes with the object's current state."""

    reason = "Conflict"


class InvalidRequest(TerminalError):
    """The cloud refused the request as malformed or out of range."""

    reason = "InvalidRequest"


class CredentialsNotFound(TerminalError):
    """The Secret (or a key in it) that a credential names does not exist."""

    reason = "CredentialsNotFound"


class TLSVerificationFailed(TerminalError):
    """The server's certificate did not verify against the configured CA bundle."""

    reason = "TLSVerificationFailed"


class Unavailable(RetryableError):
    """The endpoint answered 5xx/429 or the connection failed."""

    reason = "Unavailable"


class Timeout(RetryableError):
    """The call did not complete within its timeout."""

    reason = "Timeout"


_BY_STATUS: dict[int, type[BackendError]] = {
    400: InvalidRequest,
    401: AuthFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
    429: Unavailable,
}


def error_for_status(status_code: int, message: str) -> BackendError:
    """Map an HTTP status code to the typed error a kind turns into a condition reason."""
    if status_code >= 500:
        return Unavailable(message, status_code=status_code)
    error_type = _BY_STATUS.get(status_code, InvalidRequest)
    return error_type(message, status_code=status_code)
