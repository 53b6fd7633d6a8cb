"""The AWS error table: every AWS error code and transport failure lands on the right typed error."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from daytwo.operator.backends.aws import ERROR_CODES, map_exception, missing_action
from daytwo.operator.errors import (
    AuthFailed,
    BackendError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Timeout,
    Unavailable,
)


def _client_error(code: str, status: int, message: str = "boom") -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "DescribeInstances")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("SignatureDoesNotMatch", 403, AuthFailed),
        ("InvalidClientTokenId", 403, AuthFailed),
        ("AuthFailure", 401, AuthFailed),
        ("ExpiredToken", 400, AuthFailed),
        ("AccessDenied", 403, PermissionDenied),
        ("UnauthorizedOperation", 403, PermissionDenied),
        ("RequestLimitExceeded", 400, Unavailable),
        ("Throttling", 400, Unavailable),
        ("ServiceUnavailable", 503, Unavailable),
        ("InternalError", 500, Unavailable),
        ("RequestTimeout", 400, Timeout),
        ("InvalidInstanceID.NotFound", 400, NotFound),
        ("InvalidParameterValue", 400, InvalidRequest),
        ("SomethingNew", 409, BackendError),  # unknown code: by status (409 -> Conflict)
        ("SomethingNew", 502, Unavailable),
    ],
)
def test_client_error_codes(code: str, status: int, expected: type[BackendError]) -> None:
    error = map_exception(_client_error(code, status), what="op", endpoint="ep")
    assert isinstance(error, expected)
    assert error.retryable == issubclass(expected, Unavailable | Timeout)


def test_every_table_entry_is_a_taxonomy_type() -> None:
    assert all(issubclass(t, BackendError) for t in ERROR_CODES.values())


def test_permission_denied_takes_the_action_from_the_message_or_the_call() -> None:
    said = _client_error(
        "AccessDenied", 403, "User: arn:aws:iam::1:user/x is not authorized to perform: ec2:DescribeVpcs"
    )
    error = map_exception(said, what="op", endpoint="ep", action="ec2:Other")
    assert isinstance(error, PermissionDenied) and error.missing == "ec2:DescribeVpcs"
    silent = _client_error("UnauthorizedOperation", 403, "You are not authorized to perform this operation.")
    error = map_exception(silent, what="op", endpoint="ep", action="ec2:DescribeInstances")
    assert isinstance(error, PermissionDenied) and error.missing == "ec2:DescribeInstances"
    assert missing_action("no action here") is None


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (EndpointConnectionError(endpoint_url="http://x"), Unavailable),
        (ConnectTimeoutError(endpoint_url="http://x"), Unavailable),
        (ReadTimeoutError(endpoint_url="http://x"), Timeout),
        (NoCredentialsError(), AuthFailed),
    ],
)
def test_transport_failures(exc: Exception, expected: type[BackendError]) -> None:
    assert isinstance(map_exception(exc, what="op", endpoint="ep"), expected)


def test_not_an_aws_failure_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        map_exception(ValueError("x"), what="op", endpoint="ep")
