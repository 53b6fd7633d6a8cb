"""Proxmox VE failures -> the shared error taxonomy (daytwo.operator.errors), in one table.

PVE answers most handler failures (``die``) with HTTP 500 and a message, so the status alone does not
say whether a retry can help: the message is matched first (``_MESSAGE_RULES``), then the status.
Transport failures come from requests: refused/reset/DNS -> Unavailable, read timeout -> Timeout,
certificate verification -> TLSVerificationFailed.

No message built here contains the token secret: messages are made from the status, PVE's reason
phrase and the endpoint, never from headers; ``scrub`` removes the secret anyway, as a last guard.
"""

from __future__ import annotations

import re
import ssl

import requests
from proxmoxer.core import AuthenticationError, ResourceException

from ... import errors as errs
from ...errors import BackendError

__all__ = ["MESSAGE_RULES", "map_exception", "missing_privilege", "scrub"]

# "Permission check failed (/vms/100, VM.PowerMgmt)" -> path, privilege(s) ("A|B" when any of them would do).
_PERMISSION = re.compile(r"Permission check failed \((?P<path>[^,()]*),\s*(?P<privs>[A-Za-z0-9.|_-]+)\)")

# (pattern on PVE's message, error type), first match wins; applies to 5xx answers and to 400-499 alike.
MESSAGE_RULES: tuple[tuple[re.Pattern[str], type[BackendError]], ...] = (
    (re.compile(r"does not exist|no such (vm|guest|container|node|snapshot|task)", re.I), errs.NotFound),
    (re.compile(r"unable to parse worker upid|hostname lookup '[^']*' failed", re.I), errs.NotFound),
    (re.compile(r"no quorum|cluster not ready|got timeout|No route to host", re.I), errs.Unavailable),
    (
        re.compile(r"is locked|already running|not running|already used|already exists|checksum mismatch", re.I),
        errs.Conflict,
    ),
    (
        re.compile(r"only possible|not possible|not allowed|not supported|you can't|reserved name", re.I),
        errs.InvalidRequest,
    ),
)


def missing_privilege(message: str) -> str | None:
    """The privilege PVE says is missing, e.g. 'VM.PowerMgmt', or None when the message names none."""
    found = _PERMISSION.search(message)
    return found.group("privs") if found else None


def scrub(text: str, secret: str | None) -> str:
    """The text with the secret replaced by ***."""
    return text.replace(secret, "***") if secret else text


def _is_cert_failure(exc: requests.exceptions.SSLError) -> bool:
    text = str(exc)
    reasons = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname mismatch", "doesn't match")
    if any(r in text for r in reasons):
        return True
    inner: BaseException | None = exc
    while inner is not None:
        if isinstance(inner, ssl.SSLCertVerificationError):
            return True
        inner = inner.__cause__ or inner.__context__
    return any(isinstance(arg, ssl.SSLCertVerificationError) for arg in exc.args)


def _from_resource(exc: ResourceException, what: str) -> BackendError:
    status = int(exc.status_code)
    detail = str(exc.content or exc.status_message or "").strip()
    if exc.errors:
        detail = f"{detail} {exc.errors}".strip()
    message = f"{what}: HTTP {status} {detail}"
    if status == 401:
        hint = "check the API token id and secret (and that the token has not expired)"
        return errs.AuthFailed(f"{message}; {hint}", status_code=status)
    if status == 403:
        missing = missing_privilege(detail)
        hint = f"; grant {missing} to the token (and its user: privilege separation)" if missing else ""
        return errs.PermissionDenied(message + hint, status_code=status, missing=missing)
    for pattern, error_type in MESSAGE_RULES:
        if pattern.search(detail):
            return error_type(message, status_code=status)
    if status == 501:  # "Method ... not implemented": asking again will not help
        return errs.InvalidRequest(message, status_code=status)
    return errs.error_for_status(status, message)


def map_exception(exc: BaseException, *, what: str, endpoint: str, secret: str | None = None) -> BackendError:
    """The typed error for a failed call; ``what`` names the operation, ``endpoint`` is host:port."""
    error: BackendError
    if isinstance(exc, BackendError):
        error = exc
    elif isinstance(exc, ResourceException):
        error = _from_resource(exc, what)
    elif isinstance(exc, AuthenticationError):
        error = errs.AuthFailed(f"{what}: authentication failed at {endpoint}")
    elif isinstance(exc, requests.exceptions.SSLError):
        if _is_cert_failure(exc):
            error = errs.TLSVerificationFailed(
                f"{what}: the certificate of https://{endpoint} did not verify against the configured CA "
                f"bundle ({_reason(exc)}); set the CA that signed the node's certificate, or fix its name"
            )
        else:
            error = errs.Unavailable(f"{what}: TLS handshake with {endpoint} failed ({_reason(exc)})")
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        error = errs.Unavailable(f"{what}: could not connect to {endpoint} in time (host down or filtered)")
    elif isinstance(exc, requests.exceptions.Timeout):
        error = errs.Timeout(f"{what}: {endpoint} did not answer in time")
    elif isinstance(exc, requests.exceptions.ConnectionError):
        error = errs.Unavailable(f"{what}: cannot reach {endpoint} ({_reason(exc)})")
    elif isinstance(exc, requests.exceptions.RequestException | OSError):
        error = errs.Unavailable(f"{what}: request to {endpoint} failed ({_reason(exc)})")
    else:
        raise TypeError(f"not a Proxmox call failure: {type(exc).__name__}")
    if secret and secret in error.message:
        error.message = scrub(error.message, secret)
        error.args = (error.message,)
    return error


_VERIFY_DETAIL = re.compile(r"certificate verify failed: ([^(]+?)\s*\(_ssl")


def _reason(exc: BaseException) -> str:
    """The innermost cause's text, short: 'Connection refused', 'Name or service not known', ..."""
    detail = _VERIFY_DETAIL.search(str(exc))
    if detail:
        return f"certificate verify failed: {detail.group(1)}"
    inner: BaseException = exc
    while True:
        nested = next((a for a in getattr(inner, "args", ()) if isinstance(a, BaseException)), None)
        nested = nested or getattr(inner, "reason", None)
        if not isinstance(nested, BaseException) or nested is inner:
            break
        inner = nested
    text = str(inner)
    for known in (
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Connection reset by peer",
        "Connection aborted",
        "RemoteDisconnected",
        "certificate verify failed",
        "Remote end closed connection without response",
    ):
        if known in text or known in str(exc):
            return known
    return text[:200] or type(inner).__name__
