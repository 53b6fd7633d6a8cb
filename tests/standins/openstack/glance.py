"""Glance v2: discovery and images (paged with ``next`` like Glance)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .common import json_response, model_of, paginate, require_token
from .errors import glance_error

__all__ = ["routes"]


async def versions(request: Request) -> Response:
    """GET /image: Glance lists its versions with 300."""
    href = f"{request.app.state.base_url}/image/v2/"
    docs = [
        {"id": f"v2.{n}", "status": "CURRENT" if n == 16 else "SUPPORTED", "links": [{"rel": "self", "href": href}]}
        for n in (16, 15, 9, 0)
    ]
    return json_response({"versions": docs}, status=300)


async def list_images(request: Request) -> Response:
    """GET /image/v2/images."""
    token = require_token(request)
    model = model_of(request)
    with model.lock:
        items = [
            i
            for i in model.images.values()
            if i["visibility"] in ("public", "community") or i["owner"] == token.project_id or token.is_admin
        ]
    for key in ("name", "status", "visibility", "owner"):
        if request.query_params.get(key):
            items = [i for i in items if i.get(key) == request.query_params[key]]
    page, next_href = paginate(request, items, default_limit=25, max_limit=1000)
    body: dict[str, Any] = {"images": page, "schema": "/v2/schemas/images", "first": "/v2/images"}
    if next_href:
        body["next"] = "/v2/images?" + next_href.split("?", 1)[1]
    return json_response(body)


async def show_image(request: Request) -> Response:
    """GET /image/v2/images/{id}."""
    require_token(request)
    model = model_of(request)
    image = model.images.get(request.path_params["image_id"])
    if image is None:
        raise glance_error(404, f"No image found with ID {request.path_params['image_id']}")
    return json_response(image)


routes = [
    Route("/image", versions),
    Route("/image/", versions),
    Route("/image/v2/images", list_images),
    Route("/image/v2/images/{image_id}", show_image),
]
