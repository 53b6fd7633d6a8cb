"""The SDK-exception -> typed-error table, row by row."""

from __future__ import annotations

import pytest
import requests
from daytwo.operator.backends.openstack import ERROR_TABLE, translate
from daytwo.operator.errors import (
    AuthFailed,
    BackendError,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Timeout,
    TLSVerificationFailed,
    Unavailable,
)
from keystoneauth1 import exceptions as ksa
from openstack import exceptions as sdk


def http(status: int) -> sdk.HttpException:
    response = requests.Response()
    response.status_code = status
    response.url = "https://nova.example/v2.1/servers"
    return sdk.HttpException(message=f"status {status}", response=response, http_status=status)


CASES: list[tuple[BaseException, type[BackendError], bool]] = [
    (ksa.Unauthorized("bad creds"), AuthFailed, False),
    (ksa.AuthorizationFailure("no"), AuthFailed, False),
    (ksa.Forbidden("no"), PermissionDenied, False),
    (ksa.EndpointNotFound("no volume"), NotFound, False),
    (ksa.EmptyCatalog("empty"), NotFound, False),
    (sdk.EndpointNotFound("no volume"), NotFound, False),
    (ksa.SSLError("cert"), TLSVerificationFailed, False),
    (ksa.ConnectTimeout("slow"), Timeout, True),
    (ksa.ConnectFailure("refused"), Unavailable, True),
    (ksa.UnknownConnectionError("?", None), Unavailable, True),
    (ksa.DiscoveryFailure("discovery"), Unavailable, True),
    (http(400), InvalidRequest, False),
    (http(401), AuthFailed, False),
    (http(403), PermissionDenied, False),
    (http(404), NotFound, False),
    (http(409), Conflict, False),
    (http(422), InvalidRequest, False),
    (http(429), Unavailable, True),
    (http(500), Unavailable, True),
    (http(503), Unavailable, True),
    (ksa.http.ServiceUnavailable("busy"), Unavailable, True),
    (ksa.http.Conflict("dup"), Conflict, False),
    (sdk.ResourceTimeout("wait"), Timeout, True),
    (sdk.SDKException("odd"), InvalidRequest, False),
    (TimeoutError("t"), Timeout, True),
    (RuntimeError("surprise"), Unavailable, True),
]


@pytest.mark.parametrize(("exc", "expected", "retryable"), CASES, ids=lambda v: type(v).__name__)
def test_row(exc: BaseException, expected: type[BackendError], retryable: bool) -> None:
    error = translate(exc, operation="op")
    assert type(error) is expected
    assert error.retryable is retryable
    assert error.message.startswith("op: ")


def test_statuses_survive() -> None:
    assert translate(http(409), operation="x").status_code == 409
    assert translate(ksa.Unauthorized("x", http_status=401), operation="x").status_code == 401


def test_secrets_are_scrubbed() -> None:
    error = translate(ksa.ConnectFailure("failed with password hunter2"), operation="op", secrets=["hunter2"])
    assert "hunter2" not in error.message and "***" in error.message


def test_typed_errors_pass_through() -> None:
    original = Conflict("already")
    assert translate(original, operation="x") is original


def test_table_rows_are_ordered_specific_first() -> None:
    types = [row[0] for row in ERROR_TABLE]
    for i, earlier in enumerate(types):
        for later in types[i + 1 :]:
            assert not issubclass(later, earlier) or later is earlier, f"{later} is shadowed by {earlier}"
