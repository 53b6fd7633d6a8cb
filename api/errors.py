"""Errors in each documented API's envelope, always with the request id.

Routers raise :class:`ApiError` (or FastAPI's ``HTTPException``); :func:`install_envelope` makes a
sub-application render those, request validation failures (422) and unexpected exceptions (500,
logged here, never leaked) in the envelope its reference documents:

==========  ====================================================================================
platform9   ``{"detail": msg, "request_id"}``
multicloud  ``{"detail": msg, "request_id"}`` (422: FastAPI's list of validation errors)
horcrux     ``{"status": 404, "error": "NOT_FOUND", "message", "details", "request_id", "timestamp"}``
pmi         ``{"success": false, "error": msg, "error_code", "details", "timestamp", "request_id"}``
spot        ``{"status": "error", "error": msg, "details", "request_id"}``
==========  ====================================================================================
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal

from daytwo.operator.shared.times import format_time
from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["FAMILIES", "ApiError", "Family", "envelope", "install_envelope", "request_id_of", "undo"]

Family = Literal["platform9", "horcrux", "pmi", "spot", "multicloud"]
FAMILIES: tuple[Family, ...] = ("platform9", "horcrux", "pmi", "spot", "multicloud")

log = logging.getLogger("daytwo.api")

#: horcrux's documented error codes (also used for pmi where it documents no better one).
CODES = {
    400: "BAD_REQUEST",
    401: "AUTHENTICATION_FAILED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "SERVICE_UNAVAILABLE",
}
PMI_CODES = {401: "AUTH_ERROR", 422: "VALIDATION_ERROR", 500: "INTERNAL_ERROR", 504: "TIMEOUT_ERROR"}


class ApiError(Exception):
    """An error a route wants the caller to see: status, message, optional code/details/headers."""

    def __init__(
        self,
        status_code: int,
        message: str,
        code: str | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.code = code
        self.details = details
        self.headers = dict(headers or {})


def undo(step: Callable[[], object], what: str) -> bool:
    """Run one rollback step after a failed write (delete what the write left behind).

    Its own failure is logged with ``what`` (the object and the action) and the error, never raised:
    the caller re-raises the error that made it roll back. Returns whether the step succeeded.
    """
    try:
        step()
    except Exception as error:
        detail = error.message if isinstance(error, ApiError) else str(error)
        log.warning("rollback: could not %s (%s: %s); remove it by hand", what, type(error).__name__, detail[:300])
        return False
    return True


def request_id_of(scope: Scope) -> str:
    """The request id the root middleware assigned ("" outside the facade, e.g. a bare test app)."""
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


def _now() -> str:
    return format_time(datetime.now(UTC))


def envelope(
    family: Family, status: int, message: Any, code: str | None, details: Any, request_id: str
) -> dict[str, Any]:
    """The JSON body of an error of ``family`` (pure: unit-tested per family)."""
    if family in ("platform9", "multicloud"):
        return {"detail": message, "request_id": request_id}
    text = message if isinstance(message, str) else "Request validation failed"
    if family == "horcrux":
        return {
            "status": status,
            "error": code or CODES.get(status, f"HTTP_{status}"),
            "message": text,
            "details": details,
            "request_id": request_id,
            "timestamp": _now(),
        }
    if family == "pmi":
        return {
            "success": False,
            "error": text,
            "error_code": code or PMI_CODES.get(status, f"HTTP_{status}"),
            "details": details,
            "timestamp": _now(),
            "request_id": request_id,
        }
    return {"status": "error", "error": text, "details": details, "request_id": request_id}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_envelope(app: FastAPI, family: Family) -> None:
    """Render every error of ``app`` in ``family``'s envelope with the request id (see module doc)."""

    def respond(request: Request, status: int, message: Any, code: str | None, details: Any, headers: Any) -> Any:
        rid = request_id_of(request.scope)
        body = envelope(family, status, message, code, details, rid)
        out = dict(headers or {})
        if rid:
            out["X-Request-ID"] = rid
        return JSONResponse(jsonable_encoder(body), status_code=status, headers=out)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Any:
        return respond(request, error.status_code, error.message, error.code, error.details, error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Any:
        message = error.detail if error.detail is not None else _phrase(error.status_code)
        return respond(request, error.status_code, message, None, None, getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Any:
        errors = jsonable_encoder(error.errors(), custom_encoder={Exception: str})
        for item in errors:
            item.pop("input", None)  # may echo a password back
            item.pop("url", None)
        if family in ("platform9", "multicloud"):
            return respond(request, 422, errors, None, None, None)
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"Invalid request: {where}: {first.get('msg', 'invalid value')}" if first else "Invalid request"
        return respond(request, 422, message, "VALIDATION_ERROR", errors, None)

    app.add_middleware(_CrashGuard, family=family)
    _document_422(app, family)
    _ = HTTPException  # FastAPI's HTTPException subclasses Starlette's: one handler renders both


def envelope_schema(family: Family) -> dict[str, Any]:
    """JSON schema of ``family``'s error body (what a 422, or any error, really looks like)."""
    text = {"type": "string"}
    anything: dict[str, Any] = {}
    if family in ("platform9", "multicloud"):
        detail = {"anyOf": [text, {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}]}
        properties: dict[str, Any] = {"detail": detail, "request_id": text}
    elif family == "horcrux":
        properties = {"status": {"type": "integer"}, "error": text, "message": text, "details": anything}
        properties.update(request_id=text, timestamp=text)
    elif family == "pmi":
        properties = {"success": {"type": "boolean"}, "error": text, "error_code": text, "details": anything}
        properties.update(timestamp=text, request_id=text)
    else:
        properties = {"status": text, "error": text, "details": anything, "request_id": text}
    return {"title": "HTTPValidationError", "type": "object", "properties": properties, "required": ["request_id"]}


def _document_422(app: FastAPI, family: Family) -> None:
    """Make the OpenAPI document's 422 schema the envelope the API really sends (not FastAPI's default)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = envelope_schema(family)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class _CrashGuard:
    """Innermost safety net: an unexpected exception becomes a logged 500 in the envelope, never a trace."""

    def __init__(self, app: ASGIApp, family: Family) -> None:
        self.app = app
        self.family = family

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            rid = request_id_of(scope)
            log.exception("unhandled error in %s %s (request %s)", scope.get("method"), scope.get("path"), rid)
            if started:
                return
            body = envelope(self.family, 500, "Internal server error", None, None, rid)
            payload = json.dumps(body).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
            if rid:
                headers.append((b"x-request-id", rid.encode()))
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
