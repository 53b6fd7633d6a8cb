"""Helpers every service module uses: JSON responses, auth, microversions, paging and filters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, keystone_error, nova_error
from .model import Model, Record, Token

__all__ = [
    "body_of",
    "json_response",
    "microversion",
    "model_of",
    "paginate",
    "require_admin",
    "require_token",
    "version_headers",
]


def model_of(request: Request) -> Model:
    """The model this app serves."""
    model: Model = request.app.state.model
    return model


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (``json.dumps`` directly: large lists must be cheap)."""
    if status == 204:
        return Response(status_code=204, headers=headers)
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, headers=headers, media_type="application/json"
    )


async def body_of(request: Request, fault: type = dict) -> Any:
    """The JSON body, or a 400 in the service's style."""
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise nova_error(400, "Malformed request body") from exc
    if not isinstance(data, fault):
        raise nova_error(400, "Malformed request body")
    return data


def require_token(request: Request) -> Token:
    """The caller's valid token, or 401 like keystonemiddleware answers."""
    model = model_of(request)
    token_id = request.headers.get("x-auth-token", "")
    with model.lock:
        token = model.tokens.get(token_id)
    if token is None or token.expires_at <= model.clock.now():
        err = keystone_error(401, "The request you have made requires authentication.")
        err.headers["WWW-Authenticate"] = f'Keystone uri="{request.app.state.base_url}/identity"'
        raise err
    return token


def require_admin(token: Token, action: str) -> None:
    """403 in Nova style unless the token holds the admin role."""
    if not token.is_admin:
        raise nova_error(403, f"Policy doesn't allow {action} to be performed.")


def microversion(request: Request, service: str, minimum: str, maximum: str) -> tuple[int, int]:
    """The negotiated microversion from OpenStack-API-Version (or Nova's legacy header)."""
    raw = None
    header = request.headers.get("openstack-api-version", "")
    for part in header.split(","):
        bits = part.strip().split()
        if len(bits) == 2 and bits[0] == service:
            raw = bits[1]
    if raw is None and service == "compute":
        raw = request.headers.get("x-openstack-nova-api-version")
    if raw is None:
        raw = minimum
    if raw == "latest":
        raw = maximum
    match = re.fullmatch(r"(\d+)\.(\d+)", raw.strip())
    lo, hi = _parse(minimum), _parse(maximum)
    if not match:
        raise nova_error(400, f"Invalid API version request string {raw}")
    wanted = (int(match.group(1)), int(match.group(2)))
    if not lo <= wanted <= hi:
        raise nova_error(
            406, f"Version {raw} is not supported by the API. Minimum is {minimum} and maximum is {maximum}."
        )
    request.state.version_headers = version_headers(service, wanted)  # errors carry them too
    return wanted


def _parse(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def version_headers(service: str, version: tuple[int, int]) -> dict[str, str]:
    """Headers echoing the microversion used."""
    text = f"{version[0]}.{version[1]}"
    headers = {"OpenStack-API-Version": f"{service} {text}", "Vary": "OpenStack-API-Version"}
    if service == "compute":
        headers["X-OpenStack-Nova-API-Version"] = text
        headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
    return headers


def paginate(
    request: Request,
    items: Sequence[Record],
    *,
    default_limit: int | None,
    max_limit: int,
    key: str = "id",
    not_found: type[ApiError] | None = None,
) -> tuple[list[Record], str | None]:
    """One page by ``limit``/``marker``; returns (page, href of the next page or None).

    With no ``limit`` and ``default_limit`` None (Neutron) everything is returned at once.
    """
    params = request.query_params
    raw_limit = params.get("limit")
    if raw_limit is None and default_limit is None:
        return list(items), None
    try:
        limit = min(int(raw_limit) if raw_limit is not None else (default_limit or max_limit), max_limit)
    except ValueError as exc:
        raise nova_error(400, f"limit param must be an integer, got {raw_limit}") from exc
    if limit < 0:
        raise nova_error(400, "limit param must be positive")
    start = 0
    marker = params.get("marker")
    if marker:
        index = next((i for i, item in enumerate(items) if str(item[key]) == marker), None)
        if index is None:
            raise nova_error(400, f"marker [{marker}] not found")
        start = index + 1
    page = list(items[start : start + limit])
    if start + limit >= len(items) or not page:
        return page, None
    query = [(k, v) for k, v in params.multi_items() if k not in ("limit", "marker")]
    query += [("limit", str(limit)), ("marker", str(page[-1][key]))]
    return page, f"{request.app.state.base_url}{request.url.path}?{urlencode(query)}"


def filtered(items: Iterable[Record], **wanted: Any) -> list[Record]:
    """Items whose fields equal every non-None wanted value."""
    checks = [(k, v) for k, v in wanted.items() if v is not None]
    return [item for item in items if all(item.get(k) == v for k, v in checks)]
