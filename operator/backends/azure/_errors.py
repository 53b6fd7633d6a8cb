"""Azure failures -> the shared error taxonomy (daytwo.operator.errors), in one table per source.

Entra (token endpoint) errors reach us through azure-identity as ``ClientAuthenticationError`` whose
text carries the AADSTS code ("AADSTS7000215: Invalid client secret provided...") or, for an HTTP
failure without an OAuth body, "HTTP Error: 503"; ``AADSTS_CODES`` maps the codes. ARM answers
``{"error": {"code": ..., "message": ...}}``; ``ARM_CODES`` maps the codes, then the HTTP status.

No message built here contains the client secret: Entra and ARM never echo it, and messages are built
from codes, their messages and the endpoint, never from the request.
"""

from __future__ import annotations

import re
from typing import Any

from azure.core.exceptions import (
    ClientAuthenticationError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from ... import errors as errs
from ...errors import BackendError

__all__ = ["AADSTS_CODES", "ARM_CODES", "arm_error", "map_token_error", "missing_action"]

AADSTS_CODES: dict[int, type[BackendError]] = {
    7000215: errs.AuthFailed,  # invalid client secret
    7000222: errs.AuthFailed,  # client secret expired
    700016: errs.AuthFailed,  # application not found in the directory
    700024: errs.AuthFailed,  # client assertion not within its valid time range
    90002: errs.AuthFailed,  # tenant not found
    900023: errs.InvalidRequest,  # tenant id is not a valid GUID or domain
    7000112: errs.PermissionDenied,  # application is disabled
    50053: errs.AuthFailed,  # account locked
    50196: errs.Unavailable,  # loop detected / throttled
    90033: errs.Unavailable,  # transient service error
}

ARM_CODES: dict[str, type[BackendError]] = {
    "InvalidAuthenticationToken": errs.AuthFailed,
    "InvalidAuthenticationTokenTenant": errs.AuthFailed,
    "ExpiredAuthenticationToken": errs.AuthFailed,
    "AuthenticationFailed": errs.AuthFailed,
    "AuthorizationFailed": errs.PermissionDenied,
    "LinkedAuthorizationFailed": errs.PermissionDenied,
    "DisallowedOperation": errs.PermissionDenied,
    "SubscriptionNotFound": errs.NotFound,
    "ResourceNotFound": errs.NotFound,
    "ResourceGroupNotFound": errs.NotFound,
    "InvalidSubscriptionId": errs.InvalidRequest,
    "MissingApiVersionParameter": errs.InvalidRequest,
    "NoRegisteredProviderFound": errs.InvalidRequest,
    "InvalidApiVersionParameter": errs.InvalidRequest,
    "PropertyChangeNotAllowed": errs.InvalidRequest,
    "InvalidResourceReference": errs.InvalidRequest,
    "InvalidParameter": errs.InvalidRequest,
    "LocationRequired": errs.InvalidRequest,
    "AccountNameInvalid": errs.InvalidRequest,
    "InvalidResourceName": errs.InvalidRequest,
    "SkuNotAvailable": errs.InvalidRequest,
    "OperationNotAllowed": errs.InvalidRequest,  # e.g. a core quota would be exceeded
    "StorageAccountAlreadyTaken": errs.Conflict,  # the (global) account name belongs to someone else
    "InvalidResourceGroupLocation": errs.Conflict,
    "AnotherOperationInProgress": errs.Unavailable,
    "RetryableError": errs.Unavailable,
    "TooManyRequests": errs.Unavailable,
    "SubscriptionRequestsThrottled": errs.Unavailable,
    "ServerTimeout": errs.Timeout,
    "GatewayTimeout": errs.Timeout,
    "InternalServerError": errs.Unavailable,
    "ServiceUnavailable": errs.Unavailable,
}

_AADSTS = re.compile(r"AADSTS(?P<code>[0-9]+)")
_HTTP = re.compile(r"HTTP Error: (?P<status>[0-9]{3})")
# "... does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read' over scope ..."
_ACTION = re.compile(r"perform action '(?P<action>[^']+)'")


def missing_action(message: str) -> str | None:
    """The ARM action the message says is not allowed, e.g. 'Microsoft.Compute/virtualMachines/read'."""
    found = _ACTION.search(message)
    return found.group("action") if found else None


def _short(text: str) -> str:
    """Entra's description without its trace/correlation ids and timestamps."""
    return re.split(r"\s+Trace ID:", text, maxsplit=1)[0].strip()[:400]


def map_token_error(exc: BaseException, *, what: str, authority: str) -> BackendError:
    """The typed error for a failed azure-identity ``get_token``."""
    cause = exc.__cause__
    text = str(getattr(exc, "message", None) or exc)
    if isinstance(cause, ServiceRequestError | ServiceResponseError) or isinstance(exc, ServiceRequestError):
        detail = str(cause or exc)
        if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate verify failed" in detail:
            return errs.TLSVerificationFailed(
                f"{what}: the certificate of {authority} did not verify against the trusted CA"
            )
        if isinstance(cause, ServiceRequestTimeoutError | ServiceResponseTimeoutError) or "timed out" in detail:
            return errs.Timeout(f"{what}: {authority} did not answer in time")
        return errs.Unavailable(f"{what}: cannot reach {authority}")
    found = _AADSTS.search(text)
    if found:
        code = int(found.group("code"))
        message = f"{what}: {_short(text.removeprefix('Authentication failed: '))}"
        error_type = AADSTS_CODES.get(code, errs.AuthFailed)
        if error_type is errs.AuthFailed:
            message += "; check the tenant id, client id and client secret (value, not secret id) in the Secret"
        return error_type(message)
    status = _HTTP.search(text)
    if status:
        return errs.error_for_status(
            int(status.group("status")), f"{what}: {authority} answered HTTP {status.group('status')}"
        )
    if isinstance(exc, ClientAuthenticationError):
        return errs.AuthFailed(f"{what}: {_short(text)}")
    return errs.Unavailable(f"{what}: token request to {authority} failed ({type(exc).__name__})")


def arm_error(status: int, body: Any, what: str) -> BackendError:
    """The typed error for an ARM error answer (status >= 400)."""
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code", "")) if isinstance(error, dict) else ""
    text = str(error.get("message", "")) if isinstance(error, dict) else ""
    message = f"{what}: {code or 'HTTP error'} (HTTP {status}): {text}".rstrip(": ")
    error_type = ARM_CODES.get(code)
    if error_type is errs.PermissionDenied or (error_type is None and status == 403):
        missing = missing_action(text)
        hint = f"; assign a role with {missing} on the subscription" if missing else ""
        return errs.PermissionDenied(message + hint, status_code=status, missing=missing)
    if error_type is None:
        return errs.error_for_status(status, message)
    return error_type(message, status_code=status)
