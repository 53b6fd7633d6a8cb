"""The Azure error tables: Entra (AADSTS) codes and ARM error codes land on the right typed error."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from daytwo.operator.backends.azure import AADSTS_CODES, ARM_CODES, arm_error, map_token_error
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authentication failed: AADSTS7000215: Invalid client secret provided.", AuthFailed),
        ("Authentication failed: AADSTS7000222: The provided client secret keys are expired.", AuthFailed),
        ("Authentication failed: AADSTS700016: Application with identifier 'x' was not found", AuthFailed),
        ("Authentication failed: AADSTS90002: Tenant 'x' not found.", AuthFailed),
        ("Authentication failed: AADSTS50196: The server terminated an operation.", Unavailable),
        ("Authentication failed: HTTP Error: 503", Unavailable),
        ("Authentication failed: HTTP Error: 400", InvalidRequest),
    ],
)
def test_token_errors(text: str, expected: type[BackendError]) -> None:
    error = map_token_error(ClientAuthenticationError(text), what="token", authority="login")
    assert type(error) is expected


def test_token_transport_errors() -> None:
    def wrapped(inner: Exception) -> ClientAuthenticationError:
        outer = ClientAuthenticationError(f"Authentication failed: {inner}")
        outer.__cause__ = inner
        return outer

    refused = wrapped(ServiceRequestError("Connection refused"))
    assert isinstance(map_token_error(refused, what="t", authority="a"), Unavailable)
    cert = wrapped(ServiceRequestError("SSLError(CERTIFICATE_VERIFY_FAILED)"))
    assert isinstance(map_token_error(cert, what="t", authority="a"), TLSVerificationFailed)
    slow = wrapped(ServiceRequestError("Read timed out"))
    assert isinstance(map_token_error(slow, what="t", authority="a"), Timeout)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "InvalidAuthenticationToken", AuthFailed),
        (401, "ExpiredAuthenticationToken", AuthFailed),
        (403, "AuthorizationFailed", PermissionDenied),
        (404, "SubscriptionNotFound", NotFound),
        (400, "MissingApiVersionParameter", InvalidRequest),
        (429, "TooManyRequests", Unavailable),
        (503, "ServiceUnavailable", Unavailable),
        (504, "GatewayTimeout", Timeout),
        (502, "SomethingNew", Unavailable),
        (403, "SomethingNew", PermissionDenied),
    ],
)
def test_arm_errors(status: int, code: str, expected: type[BackendError]) -> None:
    error = arm_error(status, {"error": {"code": code, "message": "m"}}, "op")
    assert type(error) is expected
    assert error.status_code == status or expected is PermissionDenied


def test_arm_permission_denied_names_the_action() -> None:
    message = (
        "The client 'c' with object id 'o' does not have authorization to perform action "
        "'Microsoft.Network/virtualNetworks/read' over scope '/subscriptions/s'"
    )
    error = arm_error(403, {"error": {"code": "AuthorizationFailed", "message": message}}, "op")
    assert isinstance(error, PermissionDenied) and error.missing == "Microsoft.Network/virtualNetworks/read"


def test_non_json_error_bodies_fall_back_to_the_status() -> None:
    assert isinstance(arm_error(502, {"raw": "<html>bad gateway</html>"}, "op"), Unavailable)


def test_tables_hold_taxonomy_types() -> None:
    assert all(issubclass(t, BackendError) for t in [*AADSTS_CODES.values(), *ARM_CODES.values()])
