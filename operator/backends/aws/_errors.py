"""AWS failures -> the shared error taxonomy (daytwo.operator.errors), in one table.

botocore raises ``ClientError`` for every AWS answer that is an error; its ``Error.Code`` says more than
the HTTP status (throttling is HTTP 400 on EC2, a wrong secret HTTP 403), so the code is looked up
first (``ERROR_CODES``), then codes ending in ``.NotFound``, then the status. Transport failures
(connection refused, timeouts, TLS) come from botocore's own exception classes.

Messages are built from the error code, AWS's message and the endpoint; never from the request (its
headers hold the signature and any session token).
"""

from __future__ import annotations

import re

from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
    SSLError,
)

from ... import errors as errs
from ...errors import BackendError

__all__ = ["ERROR_CODES", "map_exception", "missing_action"]

# AWS error code -> typed error. Retryable ones (errs.Unavailable, errs.Timeout) are retried with backoff.
ERROR_CODES: dict[str, type[BackendError]] = {
    # the key or its signature is wrong, unknown or expired
    "InvalidClientTokenId": errs.AuthFailed,
    "SignatureDoesNotMatch": errs.AuthFailed,
    "AuthFailure": errs.AuthFailed,
    "UnrecognizedClientException": errs.AuthFailed,
    "IncompleteSignature": errs.AuthFailed,
    "InvalidAccessKeyId": errs.AuthFailed,
    "MissingAuthenticationToken": errs.AuthFailed,
    "ExpiredToken": errs.AuthFailed,
    "ExpiredTokenException": errs.AuthFailed,
    "RequestExpired": errs.AuthFailed,
    "InvalidToken": errs.AuthFailed,
    # authenticated, not allowed
    "AccessDenied": errs.PermissionDenied,
    "AccessDeniedException": errs.PermissionDenied,
    "UnauthorizedOperation": errs.PermissionDenied,
    "UnauthorizedAccess": errs.PermissionDenied,
    "OptInRequired": errs.PermissionDenied,
    "Blocked": errs.PermissionDenied,
    # throttling and server-side trouble: retry with backoff
    "Throttling": errs.Unavailable,
    "ThrottlingException": errs.Unavailable,
    "ThrottledException": errs.Unavailable,
    "RequestLimitExceeded": errs.Unavailable,
    "RequestThrottled": errs.Unavailable,
    "RequestThrottledException": errs.Unavailable,
    "TooManyRequestsException": errs.Unavailable,
    "SlowDown": errs.Unavailable,
    "LimitExceededException": errs.Unavailable,  # Cost Explorer's throttling
    "InternalError": errs.Unavailable,
    "InternalFailure": errs.Unavailable,
    "InternalServerError": errs.Unavailable,
    "ServiceUnavailable": errs.Unavailable,
    "ServiceUnavailableException": errs.Unavailable,
    "errs.Unavailable": errs.Unavailable,
    "RequestTimeout": errs.Timeout,
    "RequestTimeoutException": errs.Timeout,
    # the request itself is wrong
    "ValidationError": errs.InvalidRequest,
    "ValidationException": errs.InvalidRequest,
    "InvalidParameterValue": errs.InvalidRequest,
    "InvalidParameterCombination": errs.InvalidRequest,
    "MissingParameter": errs.InvalidRequest,
    "DataUnavailableException": errs.InvalidRequest,
    "BillExpirationException": errs.InvalidRequest,
    "InvalidNextToken": errs.InvalidRequest,
    "InvalidPaginationToken": errs.InvalidRequest,
    "NoSuchEntity": errs.NotFound,
    "ResourceNotFoundException": errs.NotFound,
    "IncorrectState": errs.Conflict,
    "ConflictException": errs.Conflict,
}

_HINTS: dict[type[BackendError], str] = {
    errs.AuthFailed: "check the access key id and secret access key in the Secret (and that the key is active)",
    errs.PermissionDenied: "grant the action to the IAM user or role",
}

# "User: arn:aws:iam::1:user/x is not authorized to perform: ec2:DescribeInstances [on resource: ...]"
_NOT_AUTHORIZED = re.compile(r"not authorized to perform:?\s+(?P<action>[a-zA-Z0-9-]+:[A-Za-z0-9*]+)")


def missing_action(message: str) -> str | None:
    """The IAM action AWS says is not allowed, e.g. 'ec2:DescribeInstances', or None."""
    found = _NOT_AUTHORIZED.search(message)
    return found.group("action") if found else None


def _from_client_error(exc: ClientError, what: str, action: str | None) -> BackendError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    text = str(error.get("Message", "")).strip()
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0) or None
    message = f"{what}: {code} (HTTP {status}): {text}" if text else f"{what}: {code} (HTTP {status})"
    error_type = ERROR_CODES.get(code)
    if error_type is None and code.endswith(".NotFound"):
        error_type = errs.NotFound
    if error_type is None:
        return errs.error_for_status(status or 400, message)
    if error_type is errs.PermissionDenied:
        missing = missing_action(text) or action
        return errs.PermissionDenied(
            f"{message}; grant {missing} to the IAM user or role", status_code=status, missing=missing
        )
    hint = _HINTS.get(error_type)
    return error_type(f"{message}; {hint}" if hint else message, status_code=status)


def map_exception(exc: BaseException, *, what: str, endpoint: str, action: str | None = None) -> BackendError:
    """The typed error for a failed boto3 call; ``action`` is the IAM action called (e.g. ec2:DescribeVpcs)."""
    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, ClientError):
        return _from_client_error(exc, what, action)
    if isinstance(exc, SSLError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return errs.TLSVerificationFailed(
                f"{what}: the certificate of {endpoint} did not verify against the trusted CA bundle"
            )
        return errs.Unavailable(f"{what}: TLS handshake with {endpoint} failed")
    if isinstance(exc, ConnectTimeoutError):
        return errs.Unavailable(f"{what}: could not connect to {endpoint} in time (host down or filtered)")
    if isinstance(exc, ReadTimeoutError):
        return errs.Timeout(f"{what}: {endpoint} did not answer in time")
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return errs.Unavailable(f"{what}: cannot reach {endpoint} ({type(exc).__name__})")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return errs.AuthFailed(f"{what}: no complete AWS credentials (access key id and secret access key)")
    if isinstance(exc, ParamValidationError):
        return errs.InvalidRequest(f"{what}: {exc}")
    if isinstance(exc, BotoCoreError):
        return errs.Unavailable(f"{what}: request to {endpoint} failed ({type(exc).__name__})")
    raise TypeError(f"not an AWS call failure: {type(exc).__name__}")
