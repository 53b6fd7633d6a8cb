"""The GCP error tables: OAuth error codes and Google API errors land on the right typed error."""

from __future__ import annotations

from typing import Any

import pytest
from daytwo.operator.backends.gcp import API_REASONS, API_STATUSES, OAUTH_ERRORS, api_error, map_token_error
from daytwo.operator.errors import (
    AuthFailed,
    BackendError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Timeout,
    TLSVerificationFailed,
    Unavailable,
)
from google.auth.exceptions import RefreshError, TransportError


@pytest.mark.parametrize(
    ("data", "retryable", "expected"),
    [
        ({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, False, AuthFailed),
        ({"error": "invalid_scope", "error_description": "bad scope"}, False, InvalidRequest),
        ({"error": "access_denied"}, False, PermissionDenied),
        ({"error": "internal_failure"}, True, Unavailable),
        ("<html>503</html>", True, Unavailable),
        ("<html>400</html>", False, AuthFailed),
    ],
)
def test_token_errors(data: Any, retryable: bool, expected: type[BackendError]) -> None:
    error = map_token_error(RefreshError("refresh failed", data, retryable=retryable), what="t", token_uri="u")
    assert type(error) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HTTPSConnectionPool: Max retries (Connection refused)", Unavailable),
        ("SSLError(CERTIFICATE_VERIFY_FAILED)", TLSVerificationFailed),
        ("Read timed out. (read timeout=5)", Timeout),
    ],
)
def test_token_transport_errors(text: str, expected: type[BackendError]) -> None:
    assert type(map_token_error(TransportError(text), what="t", token_uri="u")) is expected


def _body(status: int, canonical: str, reason: str, message: str = "m") -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "errors": [{"reason": reason}], "status": canonical}}


@pytest.mark.parametrize(
    ("status", "canonical", "reason", "expected"),
    [
        (401, "UNAUTHENTICATED", "authError", AuthFailed),
        (403, "PERMISSION_DENIED", "forbidden", PermissionDenied),
        (403, "PERMISSION_DENIED", "rateLimitExceeded", Unavailable),
        (403, "PERMISSION_DENIED", "accessNotConfigured", PermissionDenied),
        (404, "NOT_FOUND", "notFound", NotFound),
        (400, "INVALID_ARGUMENT", "invalid", InvalidRequest),
        (429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", Unavailable),
        (503, "UNAVAILABLE", "backendError", Unavailable),
        (504, "DEADLINE_EXCEEDED", "timeout", Timeout),
        (502, "", "", Unavailable),
    ],
)
def test_api_errors(status: int, canonical: str, reason: str, expected: type[BackendError]) -> None:
    assert type(api_error(status, _body(status, canonical, reason), "op")) is expected


def test_permission_denied_names_the_permission() -> None:
    body = _body(403, "PERMISSION_DENIED", "forbidden", "Required 'compute.disks.list' permission for 'projects/p'")
    error = api_error(403, body, "op")
    assert isinstance(error, PermissionDenied) and error.missing == "compute.disks.list"


def test_tables_hold_taxonomy_types() -> None:
    types = [*OAUTH_ERRORS.values(), *API_REASONS.values(), *API_STATUSES.values()]
    assert all(issubclass(t, BackendError) for t in types)
