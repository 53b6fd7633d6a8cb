"""The deployment-logs WebSocket ``/ws/deployments/{deployment_id}/logs``: a CloudResource's progress, live.

Each message is one line ``[YYYY-MM-DD HH:MM:SS] text``: the resource's ``status.steps`` (read from the
facade's cache as they arrive) and the Kubernetes Events about it (listed with the facade's identity every
few seconds), in order of arrival, until the resource settles (active or failed: a last line says so) or is
gone after a destroy; then the server closes with 1000. The id is the CloudResource name.

Authentication is the API's: a JWT (or an API key). Browsers cannot set headers on a WebSocket, so besides
``Authorization: Bearer`` / ``X-API-Key`` the token may come as the query parameter ``?token=<jwt>`` (keep
it out of shared proxy logs; it expires like any token). Without a valid credential, or without
``inventory:read``, the server closes with 1008 (policy violation) before sending anything; an unknown id
closes with 4404. Ingress controllers (ingress-nginx, Traefik) forward WebSocket upgrades on the same path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from daytwo.api.auth.service import Principal
from daytwo.api.deps import Services
from daytwo.api.kube import request_json
from daytwo.api.views.multicloud import resources as views
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

__all__ = ["POLL_SECONDS", "router"]

log = logging.getLogger("daytwo.api.multicloud")
router = APIRouter(tags=["multicloud: deployments"])
KIND = "CloudResource"
#: How often the cache is looked at (no apiserver call) and, every EVENT_EVERY looks, the Events listed.
POLL_SECONDS = 0.5
EVENT_EVERY = 4
#: A stream ends after this long even if the resource never settles (a client may reconnect).
MAX_STREAM_SECONDS = 3600
#: How long an id missing from the watch cache is looked for before 4404: a client that connects right after
#: its POST /resources/ answered 202 may be faster than the watch event that brings the new object.
APPEAR_SECONDS = 5.0


def _principal(websocket: WebSocket, services: Services) -> Principal | None:
    """The caller from the Authorization / X-API-Key headers or the ``token`` query parameter, or None."""
    auth = services.auth
    if auth is None:
        return None
    scheme, _, bearer = websocket.headers.get("authorization", "").partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" else websocket.query_params.get("token", "")
    if token:
        return auth.from_token(token)
    key = websocket.headers.get("x-api-key", "")
    return auth.from_api_key(key) if key else None


def _stamp(when: str | None) -> str:
    return views.log_line({"time": when or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "message": ""})[:21]


def _event_lines(services: Services, uid: str) -> list[tuple[str, str]]:
    """(key, line) of every Event about the object (listed with the facade's identity), oldest first."""
    if services.kube is None:
        return []
    path = f"/api/v1/namespaces/{services.settings.namespace}/events"
    try:
        answer = request_json(services.kube, "GET", path, query={"fieldSelector": f"involvedObject.uid={uid}"})
    except Exception as error:  # Events are a bonus: the steps are the log
        log.debug("deployment logs: events of %s not listed: %s", uid, error)
        return []
    items = sorted(
        answer.get("items") or (),
        key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or e["metadata"].get("creationTimestamp")),
    )
    lines = []
    for event in items:
        when = event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
        text = f"Event {event.get('type', 'Normal')} {event.get('reason', '')}: {event.get('message', '')}"
        key = f"{event['metadata']['uid']}/{event.get('count', 1)}"
        lines.append((key, f"{_stamp(when)} {text}"))
    return lines


async def stream(
    send: Callable[[str], Awaitable[None]], services: Services, deployment_id: str, poll: float = POLL_SECONDS
) -> int:
    """Send every new line until the resource settles or goes; returns the close code (1000, or 4404)."""
    sent: set[str] = set()
    seen = False
    deadline = asyncio.get_running_loop().time() + MAX_STREAM_SECONDS
    looks = 0
    while asyncio.get_running_loop().time() < deadline:
        obj = services.store.get(KIND, deployment_id)
        if obj is None:
            if seen:
                await send(f"{_stamp(None)} Resource {deployment_id} destroyed")
                return 1000
            return 4404
        seen = True
        for line in (obj.get("status") or {}).get("steps") or ():
            key = f"step/{line.get('time')}/{line.get('message')}"
            if key not in sent:
                sent.add(key)
                await send(views.log_line(line))
        if looks % EVENT_EVERY == 0:
            uid = str(obj["metadata"].get("uid", ""))
            for key, text in await asyncio.to_thread(_event_lines, services, uid):
                if key not in sent:
                    sent.add(key)
                    await send(text)
        looks += 1
        if views.settled(obj):
            await send(f"{_stamp(None)} Resource {deployment_id} is {views.api_status(obj)}")
            return 1000
        await asyncio.sleep(poll)
    return 1000


async def _appears(services: Services, deployment_id: str, within: float = APPEAR_SECONDS) -> bool:
    """Whether the resource is in the cache, waiting up to ``within`` seconds for the watch to bring it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while services.store.get(KIND, deployment_id) is None:
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.1)
    return True


@router.websocket("/ws/deployments/{deployment_id}/logs")
async def deployment_logs(websocket: WebSocket, deployment_id: str) -> None:
    """Stream a resource's deployment log lines until it settles (see the module docstring)."""
    services: Services | None = getattr(websocket.app.state, "daytwo", None)
    if services is None:
        await websocket.close(code=1013, reason="The facade is starting; try again shortly")
        return
    principal = _principal(websocket, services)
    if principal is None:
        await websocket.close(code=1008, reason="Not authenticated: send a bearer token or ?token=")
        return
    if not principal.can("inventory:read"):
        await websocket.close(code=1008, reason="Permission denied: requires inventory:read")
        return
    # Accept first: a close before accept reaches the client as HTTP 403, not as the 4404 it should read.
    await websocket.accept()
    if not await _appears(services, deployment_id):
        await websocket.close(code=4404, reason=f"Deployment {deployment_id!r} not found")
        return
    try:
        code = await stream(websocket.send_text, services, deployment_id)
    except WebSocketDisconnect:
        return
    await websocket.close(code=code)
