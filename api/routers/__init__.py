"""One package per documented API; each exports ``router`` (an APIRouter) that api.app mounts in its sub-app.

Routers are combined with :func:`merge_routes`, never ``include_router``: see its docstring.
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["merge_routes"]


def merge_routes(target: APIRouter, *sources: APIRouter) -> None:
    """Append the sources' routes to ``target`` as they are: one flat route table per sub-app.

    Each APIRoute already carries its full path, dependencies and responses (APIRouter merges its
    prefix and defaults at declaration). FastAPI's ``include_router`` instead keeps each included
    router as a nested branch that it walks on every request (route-version checks and scope
    bookkeeping per level): about a fifth of a cached GET's time. Flat tables are also what the
    route-table tests and the OpenAPI walk.
    """
    for source in sources:
        target.routes.extend(source.routes)
