"""Error bodies exactly as each OpenStack service shapes them."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "cinder_error", "glance_error", "keystone_error", "neutron_error", "nova_error"]

# webob fault names Nova and Cinder put at the top of an error body.
_NOVA_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """Raised by handlers; the app turns it into a response with this status and body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def nova_error(status: int, message: str) -> ApiError:
    """``{"itemNotFound": {"code": 404, "message": ...}}`` and friends."""
    return ApiError(status, {_NOVA_FAULTS.get(status, "computeFault"): {"code": status, "message": message}})


def cinder_error(status: int, message: str) -> ApiError:
    """Cinder uses the same fault envelope as Nova."""
    return nova_error(status, message)


def neutron_error(status: int, kind: str, message: str) -> ApiError:
    """``{"NeutronError": {"type": ..., "message": ..., "detail": ""}}``."""
    return ApiError(status, {"NeutronError": {"type": kind, "message": message, "detail": ""}})


def keystone_error(status: int, message: str) -> ApiError:
    """``{"error": {"code": 401, "message": ..., "title": "Unauthorized"}}``."""
    return ApiError(status, {"error": {"code": status, "message": message, "title": _TITLES.get(status, "Error")}})


def glance_error(status: int, message: str) -> ApiError:
    """Glance answers errors as a small text page."""
    title = _TITLES.get(status, "Error")
    return ApiError(status, f"{status} {title}\n\n{message}\n\n   ")


def error_for_path(path: str, status: int, message: str) -> ApiError:
    """An error shaped like the service that owns ``path`` would send it (used by fault injection)."""
    if path.startswith("/network"):
        return neutron_error(status, "ServiceUnavailable" if status >= 500 else "HTTPError", message)
    if path.startswith("/identity"):
        return keystone_error(status, message)
    if path.startswith("/image"):
        return glance_error(status, message)
    return nova_error(status, message)
