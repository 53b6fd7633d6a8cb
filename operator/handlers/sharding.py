"""This process's shard at run time: the Lease heartbeat, and the gate every polling daemon runs behind.

With ``DAYTWO_SHARDS`` above 1 (see :mod:`daytwo.operator.sharding` for the design), every shard still
watches every object: Kopf's indexes (users of a credential, DriftEvents of a rule) stay complete, and
every shard keeps the same handlers, so all of them agree that an object needs daytwo's finalizer. That is
why ownership is not a Kopf ``when=`` filter on the daemons: Kopf removes its finalizer from an object
none of its handlers matches, so filtered shards would remove what the owner adds, a patch war; and Kopf
re-evaluates filters only on watch events, so a takeover would need a write to every moved object.

Instead :func:`sharded` wraps each polling daemon: on a shard that does not own the object it waits
(no pass, no I/O) until the live shards change; on the owner it runs the daemon, and stops it (stop reason
``FILTERS_MISMATCH``, the pass in flight finishes) when ownership moves away. The heartbeat wakes every
waiting daemon when the live set changes, so a dead shard's objects are reconciled by the survivors without
a single write to them. Handlers that only keep indexes, wake daemons or guard deletions run on every shard.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from typing import Any, cast

import kopf

from ..kube import kube_client
from ..settings import OperatorSettings
from ..sharding import Membership
from ..shardleases import LeaseStore

__all__ = ["SHARD", "Shard", "owned_or_gone", "register", "sharded"]

logger = logging.getLogger("daytwo.sharding")

#: This process, as its shard's Lease names the holder.
IDENTITY = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
#: Why a daemon was stopped because its object moved to another shard.
_MOVED = kopf.DaemonStoppingReason.FILTERS_MISMATCH
#: Why a daemon is stopped when its object is deleted.
_DELETED = kopf.DaemonStoppingReason.RESOURCE_DELETED
#: How often a shard that does not own a deleted object checks whether the owner let it go.
_DELETION_RECHECK = 0.5
#: The other holder of our shard's Lease last warned about (once per holder, not per heartbeat).
_WARNED: dict[int, str] = {}


class Shard:
    """Which objects this process reconciles: every object unless :func:`register` gave it a membership."""

    def __init__(self) -> None:
        self.membership: Membership | None = None
        self._waiters: set[asyncio.Event] = set()

    @property
    def enabled(self) -> bool:
        """Whether this process is one shard of several."""
        return self.membership is not None

    def owns(self, namespace: str, name: str) -> bool:
        """Whether this process reconciles ``namespace/name`` now."""
        return self.membership is None or self.membership.owns(namespace, name, time.monotonic())

    def watch(self, event: asyncio.Event) -> None:
        """Set ``event`` whenever the live shards change, until :meth:`unwatch`."""
        self._waiters.add(event)

    def unwatch(self, event: asyncio.Event) -> None:
        """Stop setting ``event``."""
        self._waiters.discard(event)

    def changed(self) -> None:
        """The live shards changed: wake everyone who decides by ownership."""
        for event in self._waiters:
            event.set()


#: The process's one shard.
SHARD = Shard()


class _OwnedStop:
    """The daemon's ``stopped`` flag, also raised (reason ``FILTERS_MISMATCH``) when the object moves away."""

    def __init__(self, outer: kopf.DaemonStopped) -> None:
        self._outer = outer
        self._moved = asyncio.Event()

    def move(self) -> None:
        self._moved.set()

    def __bool__(self) -> bool:
        return self.is_set()

    def is_set(self) -> bool:
        return bool(self._outer) or self._moved.is_set()

    @property
    def reason(self) -> kopf.DaemonStoppingReason | None:
        if self._outer:
            return self._outer.reason
        return _MOVED if self._moved.is_set() else None

    async def wait(self) -> None:
        outer = asyncio.ensure_future(self._outer.wait())
        moved = asyncio.ensure_future(self._moved.wait())
        try:
            await asyncio.wait({outer, moved}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            outer.cancel()
            moved.cancel()


#: A polling daemon as Kopf calls it (keyword arguments only).
Daemon = Callable[..., Coroutine[Any, Any, None]]


def _gone(kind: str, namespace: str, name: str) -> bool:
    """Whether the object no longer exists (or cannot be read: then nothing is held for it)."""
    try:
        return kube_client().get_object(kind, namespace, name) is None
    except Exception:
        return True


def sharded(kind: str, daemon: Daemon, gone: Callable[[str, str, str], bool] = _gone) -> Daemon:
    """``daemon`` run only while this shard owns its object (always, unsharded). When the object is deleted,
    a shard that does not own it holds daytwo's finalizer (which all shards share) until ``gone(kind,
    namespace, name)`` says the owner let it go, or Kopf's cancellation timeout ends the wait, as the owner's
    daemon holds it while its last pass finishes."""

    async def gated(*, stopped: kopf.DaemonStopped, **kwargs: Any) -> None:
        if not SHARD.enabled:
            await daemon(stopped=stopped, **kwargs)
            return
        namespace, name = str(kwargs["namespace"]), str(kwargs["name"])
        changed = asyncio.Event()
        SHARD.watch(changed)
        try:
            while not stopped:
                changed.clear()
                if not SHARD.owns(namespace, name):
                    await _first(changed.wait(), stopped.wait())
                    continue
                logger.info("shard takes %s %s/%s", kind, namespace, name)
                await _own(daemon, kind, namespace, name, stopped, changed, kwargs)
        finally:
            SHARD.unwatch(changed)
        if stopped.reason is not None and stopped.reason & _DELETED and not SHARD.owns(namespace, name):
            await owned_or_gone(namespace, name, lambda: gone(kind, namespace, name), _DELETION_RECHECK)

    return gated


async def _own(
    daemon: Daemon,
    kind: str,
    namespace: str,
    name: str,
    stopped: kopf.DaemonStopped,
    changed: asyncio.Event,
    kwargs: dict[str, Any],
) -> None:
    """Run ``daemon`` until it ends, the operator stops it, or this shard no longer owns the object."""
    scoped = _OwnedStop(stopped)
    running = asyncio.ensure_future(daemon(stopped=cast(kopf.DaemonStopped, scoped), **kwargs))
    try:
        while not running.done() and not stopped:
            changed.clear()
            await _first(running, changed.wait(), stopped.wait())
            if not running.done() and not stopped and not SHARD.owns(namespace, name):
                logger.info("shard hands %s %s/%s over", kind, namespace, name)
                scoped.move()  # the pass in flight finishes; no new one starts
                break
        await running  # cancelled with this task when Kopf gives up waiting for it
    finally:
        if not running.done():
            running.cancel()
            with suppress(asyncio.CancelledError):
                await running


async def owned_or_gone(namespace: str, name: str, gone: Callable[[], bool], recheck: float) -> bool:
    """For a handler every shard runs (a deletion handler: the shards share daytwo's finalizer, so each must
    hold it) but only the owner may act on: wait until this shard owns ``namespace/name`` (True) or
    ``gone()`` (run in a worker thread) says the owner finished with it (False); rechecked whenever the live
    shards change and every ``recheck`` seconds. Unsharded: True at once."""
    changed = asyncio.Event()
    SHARD.watch(changed)
    try:
        while not SHARD.owns(namespace, name):
            changed.clear()
            if await asyncio.to_thread(gone):
                return False
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), recheck)
        return True
    finally:
        SHARD.unwatch(changed)


async def _first(*waits: Awaitable[Any]) -> None:
    """Return when the first of ``waits`` completes; cancel the others (never a task passed in)."""
    futures = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future, wait in zip(futures, waits, strict=True):
            if future is not wait:
                future.cancel()


async def _heartbeat(store: LeaseStore, membership: Membership, me: int, timeout: float) -> None:
    """Renew this shard's Lease (when this process may hold it) and list every shard's."""
    started = time.monotonic()
    current = await asyncio.wait_for(asyncio.to_thread(store.read, me), timeout)
    renewed = membership.may_claim(current, store.identity, started) and await asyncio.wait_for(
        asyncio.to_thread(store.renew, me, current), timeout
    )
    if not renewed and current is not None and current.holder not in (store.identity, _WARNED.get(me)):
        logger.warning("shard %d is held by %s; waiting until its Lease goes unrenewed", me, current.holder)
        _WARNED[me] = current.holder
    leases = await asyncio.wait_for(asyncio.to_thread(store.list), timeout)
    if renewed:
        membership.heartbeat(started, time.monotonic(), leases)
    else:
        membership.observe(time.monotonic(), leases)


async def _heartbeats(store: LeaseStore, membership: Membership, me: int, stop: asyncio.Event) -> None:
    """Heartbeat every third of the lease until ``stop``; wake the daemons whenever the live set changes."""
    period = membership.lease_seconds / 3
    live: tuple[int, ...] | None = None
    while not stop.is_set():
        try:
            await _heartbeat(store, membership, me, period)
        except Exception as error:  # the apiserver unreachable or slow: fenced after the lease, retried
            logger.warning("shard %d heartbeat failed: %s", me, error)
        now = time.monotonic()
        if membership.live(now) != live:
            live = membership.live(now)
            logger.info("shard %d of %d: live shards %s", me, membership.shards, list(live))
            SHARD.changed()
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period)


def register(settings: OperatorSettings) -> None:
    """With ``DAYTWO_SHARDS`` above 1: heartbeat this shard's Lease from start-up, release it on exit."""
    if settings.shards <= 1:
        return
    me = settings.effective_shard_id()
    membership = Membership(me, settings.shards, settings.shard_lease_seconds, settings.shard_grace_seconds)
    # Set before Kopf starts: no daemon can ever run unsharded; until the first heartbeats it owns nothing.
    SHARD.membership = membership
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    stores: list[LeaseStore] = []

    @kopf.on.startup()
    async def start_heartbeat(**_: Any) -> None:
        store = LeaseStore(
            settings.effective_shard_namespace(), settings.shard_lease_prefix, IDENTITY, membership.lease_seconds
        )
        stores.append(store)
        logger.info("shard %d of %d (Lease %s-%d in %s)", me, settings.shards, store.prefix, me, store.namespace)
        tasks.append(asyncio.create_task(_heartbeats(store, membership, me, stop)))

    @kopf.on.cleanup()
    async def release_lease(**_: Any) -> None:
        stop.set()
        for task in tasks:
            with suppress(Exception):
                await task
        for store in stores:
            try:
                await asyncio.to_thread(store.release, me)
            except Exception as error:
                logger.warning("shard %d could not release its Lease: %s", me, error)
