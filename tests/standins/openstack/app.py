"""The ASGI app: every service's routes, the fault/journal middleware, and ``/_standin`` controls."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import cinder, glance, keystone, neutron, nova
from .common import json_response
from .errors import ApiError
from .faults import ASGIApp, Fault, faults_middleware

if TYPE_CHECKING:
    from .server import StandIn

__all__ = ["build_app"]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = {**getattr(request.state, "version_headers", {}), **exc.headers}
    if isinstance(exc.body, str):
        return Response(exc.body, status_code=exc.status, headers=headers, media_type="text/plain")
    return json_response(exc.body, status=exc.status, headers=headers)


def _control_routes(standin: StandIn) -> list[Route]:
    async def health(_request: Request) -> Response:
        return json_response({"status": "ok", "seed": standin.seed_name})

    async def journal(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "0"))
        params = request.query_params
        entries = standin.journal.entries(
            method=params.get("method"), path=params.get("path"), contains=params.get("contains")
        )
        body: dict[str, Any] = {"total": standin.journal.total, "matching": len(entries)}
        if limit:
            body["entries"] = [dataclasses.asdict(e) for e in entries[-limit:]]
        return json_response(body)

    async def clear_journal(_request: Request) -> Response:
        standin.journal.clear()
        return json_response(None, status=204)

    async def advance(request: Request) -> Response:
        seconds = float(json.loads(await request.body() or b"{}").get("seconds", 0))
        return json_response({"now": standin.clock.advance(seconds)})

    async def add_fault(request: Request) -> Response:
        data = json.loads(await request.body() or b"{}")
        allowed = {f.name for f in dataclasses.fields(Fault) if f.init and f.name not in ("hits", "skipped")}
        fault = standin.faults.add(Fault(**{k: v for k, v in data.items() if k in allowed}))
        return json_response({"path": fault.path}, status=201)

    async def list_faults(_request: Request) -> Response:
        """The active faults with how often each struck, so a test knows a hung call has arrived."""
        return json_response({"faults": standin.faults.describe()})

    async def clear_faults(_request: Request) -> Response:
        standin.faults.clear()
        return json_response(None, status=204)

    async def edit_object(request: Request) -> Response:
        """Change or remove a stored object behind the API's back, as an out-of-band admin would
        (drift tests): PATCH merges the JSON body into the record, DELETE removes it."""
        collection = request.path_params["collection"]
        records = getattr(standin.model, collection, None)
        if collection.startswith("_") or not isinstance(records, dict):
            return json_response({"error": f"no collection {collection!r}"}, status=404)
        key: Any = request.path_params["object_id"]
        if key not in records and key.isdigit():
            key = int(key)  # aggregates are keyed by integer id
        if key not in records:
            return json_response({"error": f"no {collection} {key!r}"}, status=404)
        if request.method == "DELETE":
            del records[key]
            return json_response(None, status=204)
        records[key].update(json.loads(await request.body() or b"{}"))
        return json_response({"updated": str(key)})

    async def reset(_request: Request) -> Response:
        standin.reset()
        return json_response(None, status=204)

    return [
        Route("/_standin/health", health),
        Route("/_standin/journal", journal, methods=["GET"]),
        Route("/_standin/journal", clear_journal, methods=["DELETE"]),
        Route("/_standin/clock/advance", advance, methods=["POST"]),
        Route("/_standin/faults", add_fault, methods=["POST"]),
        Route("/_standin/faults", list_faults, methods=["GET"]),
        Route("/_standin/faults", clear_faults, methods=["DELETE"]),
        Route("/_standin/reset", reset, methods=["POST"]),
        Route("/_standin/objects/{collection}/{object_id}", edit_object, methods=["PATCH", "DELETE"]),
    ]


def build_app(standin: StandIn) -> ASGIApp:
    """The full stand-in application for ``standin`` (its model, clock, faults and journal)."""
    app = Starlette(
        routes=[
            *keystone.routes,
            *nova.routes,
            *cinder.routes,
            *neutron.routes,
            *glance.routes,
            *_control_routes(standin),
        ],
        exception_handlers={ApiError: _api_error},
    )
    app.state.model = standin.model
    app.state.base_url = standin.base_url
    standin.app_state = app.state
    return faults_middleware(
        app,
        standin.faults,
        standin.journal,
        standin.clock,  # type: ignore[arg-type]
        before=lambda: standin.model.settle(),
    )
