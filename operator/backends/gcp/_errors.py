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

from ... import errors as errs
from ...errors import BackendError

__all__ = ["API_REASONS", "API_STATUSES", "OAUTH_ERRORS", "api_error", "map_token_error", "missing_permission"]

OAUTH_ERRORS: dict[str, type[BackendError]] = {
    "invalid_grant": errs.AuthFailed,  # bad signature, unknown/deleted key, clock skew
    "invalid_client": errs.AuthFailed,
    "unauthorized_client": errs.AuthFailed,
    "access_denied": errs.PermissionDenied,
    "invalid_scope": errs.InvalidRequest,
    "invalid_request": errs.InvalidRequest,
    "unsupported_grant_type": errs.InvalidRequest,
    "temporarily_unavailable": errs.Unavailable,
    "internal_failure": errs.Unavailable,
    "server_error": errs.Unavailable,
}

API_REASONS: dict[str, type[BackendError]] = {
    "rateLimitExceeded": errs.Unavailable,
    "userRateLimitExceeded": errs.Unavailable,
    "quotaExceeded": errs.Unavailable,
    "backendError": errs.Unavailable,
    "accessNotConfigured": errs.PermissionDenied,  # the Compute API is not enabled in the project
    "SERVICE_DISABLED": errs.PermissionDenied,
}

API_STATUSES: dict[str, type[BackendError]] = {
    "UNAUTHENTICATED": errs.AuthFailed,
    "PERMISSION_DENIED": errs.PermissionDenied,
    "NOT_FOUND": errs.NotFound,
    "INVALID_ARGUMENT": errs.InvalidRequest,
    "FAILED_PRECONDITION": errs.InvalidRequest,
    "OUT_OF_RANGE": errs.InvalidRequest,
    "RESOURCE_EXHAUSTED": errs.Unavailable,
    "UNAVAILABLE": errs.Unavailable,
    "INTERNAL": errs.Unavailable,
    "DEADLINE_EXCEEDED": errs.Timeout,
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
            error_type = errs.Unavailable if getattr(exc, "retryable", False) else errs.AuthFailed
        message = f"{what}: {code or 'token refresh failed'}: {description or 'no details'}"[:500]
        if error_type is errs.AuthFailed:
            message += "; check serviceAccountJson in the Secret (the key may be deleted, disabled or mistyped)"
        return error_type(message)
    if isinstance(exc, TransportError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return errs.TLSVerificationFailed(
                f"{what}: the certificate of {token_uri} did not verify against the trusted CA"
            )
        if "timed out" in text or "errs.Timeout" in text:
            return errs.Timeout(f"{what}: {token_uri} did not answer in time")
        return errs.Unavailable(f"{what}: cannot reach {token_uri}")
    return errs.Unavailable(f"{what}: token refresh at {token_uri} failed ({type(exc).__name__})")


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
        return errs.error_for_status(status, message)
    if error_type is errs.PermissionDenied:
        missing = missing_permission(text)
        role = "roles/compute.viewer" if missing and missing.endswith((".get", ".list")) else "roles/compute.admin"
        role = "roles/storage.admin" if missing and missing.startswith("storage.") else role
        hint = f"; grant {missing} to the service account (e.g. {role})" if missing else ""
        return errs.PermissionDenied(message + hint, status_code=status, missing=missing)
    if error_type is errs.AuthFailed:
        message += "; the access token was refused: check the service account key"
    return error_type(message, status_code=status)
