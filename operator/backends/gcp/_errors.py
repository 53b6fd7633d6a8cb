"""GCP failures -> the shared error taxonomy (daytwo.operator.errors), in one table per source.

The OAuth token endpoint answers ``{"error": "invalid_grant", "error_description": "..."}``; google-auth
raises ``RefreshError(message, response_data, retryable=...)`` (after its own retries of 429/5xx) or
``TransportError`` when the endpoint cannot be reached. ``OAUTH_ERRORS`` maps the OAuth error codes.
Google APIs answer ``{"error": {"code", "message", "errors": [{"reason"}], "status"}}``: the ``reason``
is looked up first (``API_REASONS``: a 403 may be throttling), then the canonical ``status``
(``API_STATUSES``), then the HTTP status.

Messages never contain the private key: they are built from error codes, Google's messages and the
endpoint, never from the request (whose body is the signed assertion).
"""

from __future__ import annotations

import re
from typing import Any

from google.auth.exceptions import RefreshError, TransportError

from ...errors import (
    AuthFailed,
    BackendError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Timeout,
    TLSVerificationFailed,
    Unavailable,
    error_for_status,
)

__all__ = ["API_REASONS", "API_STATUSES", "OAUTH_ERRORS", "api_error", "map_token_error", "missing_permission"]

OAUTH_ERRORS: dict[str, type[BackendError]] = {
    "invalid_grant": AuthFailed,  # bad signature, unknown/deleted key, clock skew
    "invalid_client": AuthFailed,
    "unauthorized_client": AuthFailed,
    "access_denied": PermissionDenied,
    "invalid_scope": InvalidRequest,
    "invalid_request": InvalidRequest,
    "unsupported_grant_type": InvalidRequest,
    "temporarily_unavailable": Unavailable,
    "internal_failure": Unavailable,
    "server_error": Unavailable,
}

API_REASONS: dict[str, type[BackendError]] = {
    "rateLimitExceeded": Unavailable,
    "userRateLimitExceeded": Unavailable,
    "quotaExceeded": Unavailable,
    "backendError": Unavailable,
    "accessNotConfigured": PermissionDenied,  # the Compute API is not enabled in the project
    "SERVICE_DISABLED": PermissionDenied,
}

API_STATUSES: dict[str, type[BackendError]] = {
    "UNAUTHENTICATED": AuthFailed,
    "PERMISSION_DENIED": PermissionDenied,
    "NOT_FOUND": NotFound,
    "INVALID_ARGUMENT": InvalidRequest,
    "FAILED_PRECONDITION": InvalidRequest,
    "OUT_OF_RANGE": InvalidRequest,
    "RESOURCE_EXHAUSTED": Unavailable,
    "UNAVAILABLE": Unavailable,
    "INTERNAL": Unavailable,
    "DEADLINE_EXCEEDED": Timeout,
}

# "Required 'compute.instances.list' permission for 'projects/p'"
_REQUIRED = re.compile(r"Required '(?P<permission>[a-zA-Z0-9_.]+)' permission")


def missing_permission(message: str) -> str | None:
    """The IAM permission Google says is missing, e.g. 'compute.instances.list', or None."""
    found = _REQUIRED.search(message)
    return found.group("permission") if found else None


def map_token_error(exc: BaseException, *, what: str, token_uri: str) -> BackendError:
    """The typed error for a failed service-account token refresh."""
    if isinstance(exc, RefreshError):
        data = exc.args[1] if len(exc.args) > 1 else None
        code = str(data.get("error", "")) if isinstance(data, dict) else ""
        description = str(data.get("error_description", "")) if isinstance(data, dict) else ""
        error_type = OAUTH_ERRORS.get(code)
        if error_type is None:
            error_type = Unavailable if getattr(exc, "retryable", False) else AuthFailed
        message = f"{what}: {code or 'token refresh failed'}: {description or 'no details'}"[:500]
        if error_type is AuthFailed:
            message += "; check serviceAccountJson in the Secret (the key may be deleted, disabled or mistyped)"
        return error_type(message)
    if isinstance(exc, TransportError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return TLSVerificationFailed(
                f"{what}: the certificate of {token_uri} did not verify against the trusted CA"
            )
        if "timed out" in text or "Timeout" in text:
            return Timeout(f"{what}: {token_uri} did not answer in time")
        return Unavailable(f"{what}: cannot reach {token_uri}")
    return Unavailable(f"{what}: token refresh at {token_uri} failed ({type(exc).__name__})")


def api_error(status: int, body: Any, what: str) -> BackendError:
    """The typed error for a Google API error answer (status >= 400)."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    text = str(error.get("message", ""))
    canonical = str(error.get("status", ""))
    reasons = [str(e.get("reason", "")) for e in error.get("errors") or () if isinstance(e, dict)]
    message = f"{what}: {canonical or 'HTTP error'} (HTTP {status}): {text}".rstrip(": ")
    error_type = next((API_REASONS[r] for r in reasons if r in API_REASONS), None) or API_STATUSES.get(canonical)
    if error_type is None:
        return error_for_status(status, message)
    if error_type is PermissionDenied:
        missing = missing_permission(text)
        hint = f"; grant {missing} to the service account (e.g. roles/compute.viewer)" if missing else ""
        return PermissionDenied(message + hint, status_code=status, missing=missing)
    if error_type is AuthFailed:
        message += "; the access token was refused: check the service account key"
    return error_type(message, status_code=status)
