"""pmi connection-test waits (issue 16, Low): they hold no worker thread, and each user has a few at most.

The app is driven in-process (httpx over ASGI) with the event loop's thread pool cut to one thread: a wait
that held a thread would keep every sync route waiting behind it. Nothing here measures time; the
waits end when the test feeds the operator's answer into the store.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import anyio.to_thread
import httpx
from daytwo.api.app import create_app
from daytwo.api.routers.pmi import _shared
from daytwo.api.routers.pmi import nodes as routes
from daytwo.api.store import ObjectStore

from tests.harness.fakes import PASSWORD, RecordingWriter, unit_services

from .data import proxmox_node

BASE = "http://facade/pmi/api/proxmox"
NODES = [f"pve-{i}" for i in range(6)]
LIMIT = 3
GUARD = 60.0  # only a hang guard: a passing run never comes near it


class TokenWriter(RecordingWriter):
    """Records each node's reconcile token; signals when ``expected`` annotations have been made."""

    def __init__(self, loop: asyncio.AbstractEventLoop, expected: int) -> None:
        super().__init__()
        self.loop, self.expected = loop, expected
        self.tokens: dict[str, str] = {}
        self.all_annotated = asyncio.Event()

    def annotate(self, kind: str, name: str, annotations: Mapping[str, str | None]) -> dict[str, Any]:
        """Record the token (called in a worker thread)."""
        self.tokens[name] = str(annotations[routes.RECONCILE])
        if len(self.tokens) >= self.expected:
            self.loop.call_soon_threadsafe(self.all_annotated.set)
        return super().annotate(kind, name, annotations)


def answer(store: ObjectStore, name: str, token: str) -> None:
    """What the operator's status write does once the watch delivers it: the token handled."""
    obj = copy.deepcopy(store.get("ProxmoxNode", name))
    assert obj is not None
    obj["status"]["lastHandledReconcileAt"] = token
    store._watcher("ProxmoxNode").apply({"type": "MODIFIED", "object": obj})


def test_the_node_test_route_is_a_coroutine() -> None:
    assert inspect.iscoroutinefunction(routes.test_node) and inspect.iscoroutinefunction(routes.test_connection)


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop until ``condition()`` holds."""
    while not condition():
        await asyncio.sleep(0.01)


def clients(limit: int, expected: int) -> tuple[Any, TokenWriter, dict[str, str], dict[str, str]]:
    """(services, writer, admin headers, operator headers) over nodes NODES; ``limit`` waits per user."""
    writer = TokenWriter(asyncio.get_running_loop(), expected=expected)
    services = unit_services([proxmox_node(name) for name in NODES], writer=writer, pmi_waits_per_user=limit)
    assert services.auth is not None
    admin = {"Authorization": f"Bearer {services.auth.login('admin', PASSWORD).token}"}
    other = {"Authorization": f"Bearer {services.auth.login('operator', PASSWORD).token}"}
    return services, writer, admin, other


def test_waits_hold_no_thread() -> None:
    async def scenario() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1  # this loop's pool: one thread
        services, writer, admin, _ = clients(limit=10, expected=4)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services=services)), base_url=BASE
        ) as http:
            waiting = [
                asyncio.create_task(http.post(f"/nodes/{name}/test?wait=9", headers=admin)) for name in NODES[:4]
            ]
            await asyncio.wait_for(writer.all_annotated.wait(), GUARD)
            # a sync route (run in the pool's only thread) answers while the four waits are pending
            listed = await asyncio.wait_for(http.get("/nodes", headers=admin), GUARD)
            assert listed.status_code == 200 and len(listed.json()["data"]) == len(NODES)
            assert not any(task.done() for task in waiting)
            for name in NODES[:4]:
                answer(services.store, name, writer.tokens[name])
            done = await asyncio.wait_for(asyncio.gather(*waiting), GUARD)
        assert [r.status_code for r in done] == [200] * 4
        assert all(r.json()["data"]["connected"] is True for r in done)

    asyncio.run(scenario())


def test_waits_are_capped_per_user() -> None:
    async def scenario() -> None:
        services, writer, admin, other = clients(limit=LIMIT, expected=LIMIT + 1)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services=services)), base_url=BASE
        ) as http:
            waiting = [
                asyncio.create_task(http.post(f"/nodes/{name}/test?wait=9", headers=admin)) for name in NODES[:LIMIT]
            ]
            others = asyncio.create_task(http.post(f"/nodes/{NODES[LIMIT]}/test?wait=9", headers=other))
            await asyncio.wait_for(writer.all_annotated.wait(), GUARD)
            await asyncio.wait_for(until(lambda: _shared._WAITING == {"admin": LIMIT, "operator": 1}), GUARD)
            # one over admin's cap: the test is requested and answered at once (poll the node)
            over = await asyncio.wait_for(http.post(f"/nodes/{NODES[LIMIT + 1]}/test?wait=9", headers=admin), GUARD)
            assert over.status_code == 202 and over.json()["data"]["job_id"] == NODES[LIMIT + 1]
            assert writer.tokens[NODES[LIMIT + 1]]  # requested all the same
            probe = await http.post(
                "/test-connection?wait=9",
                headers=admin,
                json={"name": "p", "host": "10.0.0.9", "api_token_id": "root@pam!x", "api_token_secret": "s"},
            )
            assert probe.status_code == 429 and probe.json()["error_code"] == "RATE_LIMITED"
            assert probe.json()["success"] is False and "create_secret" not in [c[0] for c in writer.calls]
            assert not any(task.done() for task in (*waiting, others))  # the other user still waits
            for name in NODES[: LIMIT + 1]:
                answer(services.store, name, writer.tokens[name])
            done = await asyncio.wait_for(asyncio.gather(*waiting, others), GUARD)
        assert [r.status_code for r in done] == [200] * (LIMIT + 1)
        assert _shared._WAITING == {}  # every slot given back

    asyncio.run(scenario())
