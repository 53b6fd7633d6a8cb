"""What the pmi routes share: the success envelope, response models, lookups, guest inventories, power requests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, TypeVar

from daytwo.api.cached import memo
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import Writer
from daytwo.api.store import ObjectStore
from daytwo.api.views.pmi import guests as guest_views
from daytwo.api.views.pmi.power import TooManyPending, action_id, append_action, power_action
from daytwo.operator.shared.times import format_time
from pydantic import BaseModel

__all__ = [
    "KIND",
    "Envelope",
    "Message",
    "inventories",
    "node_guests",
    "node_or_404",
    "now",
    "ok",
    "request_power",
    "wait_for",
    "wait_slot",
]

KIND = "ProxmoxNode"
T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    """pmi's success envelope."""

    success: bool = True
    data: T
    message: str | None = None
    timestamp: str


class Message(BaseModel):
    """pmi's success envelope without data."""

    success: bool = True
    message: str
    timestamp: str


def now() -> str:
    """The current UTC time in pmi's form."""
    return format_time(datetime.now(UTC))


def ok(data: Any = None, message: str | None = None) -> dict[str, Any]:
    """pmi's ``{success, data, message, timestamp}``."""
    body: dict[str, Any] = {"success": True, "timestamp": now()}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["message"] = message
    return body


def node_or_404(store: ObjectStore, node_id: str) -> dict[str, Any]:
    """The ProxmoxNode ``node_id`` or a pmi 404."""
    obj = store.get(KIND, node_id)
    if obj is None:
        raise ApiError(404, f"Node '{node_id}' not found", "RESOURCE_NOT_FOUND")
    return obj


def inventories(store: ObjectStore) -> tuple[guest_views.NodeGuests, ...]:
    """Every ProxmoxNode's guests (by name), from its inventory ConfigMaps or its status.

    Memoised on the ConfigMap and ProxmoxNode versions; below that, each ProxmoxNode's guests are parsed
    again only when its own ConfigMaps' resourceVersions change (or, without a head ConfigMap, its own), so an
    audit write or another node's pass parses nothing. The tuple's items are identical objects while
    unchanged: memoise views derived from it on the tuple itself (compared by identity, cheaply).
    """
    cache = memo(store)

    def compute() -> tuple[guest_views.NodeGuests, ...]:
        owned = guest_views.by_owner(store.list("ConfigMap"))
        found = []
        for obj in store.list(KIND):
            name = obj["metadata"]["name"]
            maps = owned.get(name, [])
            headed = any("manifest.json" in (m.get("data") or {}) for m in maps)
            source = maps if headed else [*maps, obj]  # without a head the status is read: its version counts
            versions: Any = tuple((o["metadata"]["name"], o["metadata"].get("resourceVersion")) for o in source)
            if not all(rv for _name, rv in versions):
                versions = object()  # no resourceVersion (hand-made objects): never reuse
            found.append(cache.get(("proxmox-guests", name), versions, partial(guest_views.node_guests, obj, maps)))
        return tuple(found)

    return cache.get("proxmox-inventories", (store.version("ConfigMap"), store.version(KIND)), compute)


def node_guests(store: ObjectStore, obj: dict[str, Any]) -> guest_views.NodeGuests:
    """The guests of ProxmoxNode ``obj`` (from :func:`inventories`)."""
    name = obj["metadata"]["name"]
    found = next((node for node in inventories(store) if node.cr == name), None)
    return found if found is not None else guest_views.node_guests(obj, ())


def request_power(
    store: ObjectStore, writer: Writer, cr: str, vmid: int, operation: str, force: bool, user: str, prefix: str
) -> str:
    """Append a power action to ProxmoxNode ``cr`` (optimistic concurrency on resourceVersion); its id.

    A conflicting concurrent write is retried against the refreshed cache a few times.
    """
    new_id = action_id(prefix)
    for attempt in range(6):
        obj = store.get(KIND, cr)
        if obj is None:
            raise ApiError(404, f"ProxmoxNode '{cr}' not found", "RESOURCE_NOT_FOUND")
        try:
            actions = append_action(obj, power_action(new_id, vmid, operation, force, user))
        except TooManyPending as error:
            raise ApiError(409, str(error), "CONFLICT") from error
        patch = {"metadata": {"resourceVersion": obj["metadata"].get("resourceVersion")}, "spec": {"actions": actions}}
        try:
            writer.patch(KIND, cr, patch)
            return new_id
        except ApiError as error:
            if error.status_code != 409 or attempt == 5:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise ApiError(409, "The node changed concurrently; try again", "CONFLICT")  # pragma: no cover


async def wait_for(
    store: ObjectStore, name: str, done: Callable[[dict[str, Any]], bool], timeout: float, step: float = 0.2
) -> dict[str, Any] | None:
    """Poll the cached ProxmoxNode ``name`` until ``done(obj)``; the object, or None on timeout.

    On the event loop (``asyncio.sleep``): a wait holds no worker thread, only a coroutine reading the
    watch-backed cache every ``step`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        obj = store.get(KIND, name)
        if obj is not None and done(obj):
            return obj
        left = deadline - loop.time()
        if left <= 0:
            return None
        await asyncio.sleep(min(step, left))


#: Waits in progress per user (touched only on the event loop: no lock).
_WAITING: dict[str, int] = {}


@contextlib.contextmanager
def wait_slot(user: str, limit: int) -> Iterator[bool]:
    """Take one of ``user``'s ``limit`` wait slots for the block: yields False (nothing taken) when all are busy."""
    if _WAITING.get(user, 0) >= limit:
        yield False
        return
    _WAITING[user] = _WAITING.get(user, 0) + 1
    try:
        yield True
    finally:
        _WAITING[user] -= 1
        if not _WAITING[user]:
            del _WAITING[user]
