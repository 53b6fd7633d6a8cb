"""Who uses each CloudCredential and ProxmoxNode, from a Kopf index instead of list scans, and the
deletion that waits for them.

The index ``credential_users`` maps ``(kind, namespace, name)`` of a credential to ``"Kind/name"`` of every
SnapshotPolicy, RestoreJob, DriftRule and AggregateMigration naming it (``credentialsRef`` or
``target.credentialsRef``, see ``reconcile.references.object_refs``). Kopf fills it from the watches it
runs anyway and starts no handler before it holds the initial listing, so a deletion is never let through
on a half-built index. A user being deleted still counts until it is gone (its own cleanup may need the
credential).

When a user appears, is repointed or goes, the credential's waiters are woken (``wakeups.WAKE``): its
polling daemon rewrites ``status.users`` and a blocked deletion re-checks at once. A blocked deletion shows
``Ready=False``/``Reconciling=True`` with reason ``InUse`` naming the users (``reconcile.lifecycle``), posts
one Warning Event per change of the blocking users, and completes as soon as the last user goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import kopf
from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.kinds import by_kind

from ..kube import kube_client
from ..reconcile.cloudcredential import users_status
from ..reconcile.lifecycle import IN_USE, in_use_status
from ..reconcile.references import object_refs
from ..settings import OperatorSettings
from .credentials import invalidate
from .sharding import SHARD
from .wakeups import WAKE, WakeKey

__all__ = ["CREDENTIAL_KINDS", "INDEX_ID", "USER_KINDS", "referenced", "register", "users_in"]

#: The Kopf index id, also the name of the keyword argument Kopf passes it to every handler as.
INDEX_ID = "credential_users"
#: Kinds that name credentials.
USER_KINDS = ("SnapshotPolicy", "RestoreJob", "DriftRule", "AggregateMigration", "CloudResource")
#: Kinds whose deletion waits for their users.
CREDENTIAL_KINDS = ("CloudCredential", "ProxmoxNode")
#: Per-user memo key: the credentials it named at its last event (to wake the one it was repointed from).
_REFS_MEMO = "credential_refs"

#: What handlers get as ``kwargs[INDEX_ID]`` (a ``kopf.Index``); any such mapping in tests.
UsersIndex = Mapping[WakeKey, Iterable[str]]


def referenced(kind: str, namespace: str, spec: Mapping[str, Any]) -> frozenset[WakeKey]:
    """The credentials (kind, namespace, name) a ``kind`` object with this ``spec`` names."""
    return frozenset(
        (ref.kind, namespace, ref.name) for ref in object_refs(kind, dict(spec)) if ref.kind in CREDENTIAL_KINDS
    )


def users_in(index: UsersIndex, kind: str, namespace: str, name: str) -> list[str]:
    """The users ("Kind/name", sorted) of one credential according to the index."""
    key = (kind, namespace, name)
    return sorted(set(index[key])) if key in index else []


def register(settings: OperatorSettings) -> None:
    """Register the users index and the wake-ups on every user kind, and the waiting deletion handler
    on CloudCredential and ProxmoxNode."""
    for kind in USER_KINDS:
        plural = by_kind(kind).info.plural

        def index_users(
            spec: kopf.Spec, name: str, namespace: str | None, _kind: str = kind, **_: Any
        ) -> dict[WakeKey, str]:
            return {key: f"{_kind}/{name}" for key in referenced(_kind, str(namespace), spec)}

        def refs_changed(
            type: str | None, spec: kopf.Spec, namespace: str | None, memo: Any, _kind: str = kind, **_: Any
        ) -> bool:
            return bool(_refs_now(type, _kind, namespace, spec) != memo.get(_REFS_MEMO, frozenset()))

        async def users_changed(
            type: str | None, spec: kopf.Spec, namespace: str | None, memo: Any, _kind: str = kind, **_: Any
        ) -> None:
            now = _refs_now(type, _kind, namespace, spec)
            before: frozenset[WakeKey] = memo.get(_REFS_MEMO, frozenset())
            memo[_REFS_MEMO] = now
            for key in now ^ before:
                WAKE.wake(key)

        kopf.index(GROUP, VERSION, plural, id=INDEX_ID)(index_users)
        # Filtered, so the status writes of a user (most of its events) neither wake nor log anything.
        kopf.on.event(GROUP, VERSION, plural, id="wake-credentials", when=refs_changed)(users_changed)

    for kind in CREDENTIAL_KINDS:
        plural = by_kind(kind).info.plural

        async def in_use(
            body: kopf.Body, name: str, namespace: str | None, logger: kopf.Logger, _kind: str = kind, **kwargs: Any
        ) -> None:
            await wait_for_no_users(
                body, (_kind, str(namespace), name), kwargs[INDEX_ID], logger, settings.resync_seconds
            )
            invalidate(str(namespace), _kind, name)  # its cached backend clients go with it

        kopf.on.delete(GROUP, VERSION, plural, id="in-use")(in_use)


def _refs_now(type: str | None, kind: str, namespace: str | None, spec: Mapping[str, Any]) -> frozenset[WakeKey]:
    """The credentials a user names after this watch event (none once it is deleted)."""
    return frozenset() if type == "DELETED" else referenced(kind, str(namespace), spec)


async def wait_for_no_users(
    body: kopf.Body, key: WakeKey, index: UsersIndex, logger: kopf.Logger | logging.Logger, recheck: float
) -> None:
    """Hold the deletion of a credential until the index lists no users: status says why meanwhile, a
    Warning Event marks each change of the blocking users, and any change of a user wakes it at once
    (``recheck`` seconds is only the backstop). Waits in the handler instead of retrying, so Kopf posts no
    failure per retry and the deletion completes the moment the last user goes."""
    woken = asyncio.Event()
    WAKE.register(key, woken)
    posted: str | None = None
    try:
        while users := users_in(index, *key):
            woken.clear()
            # Every shard holds the deletion (they share the finalizer); only the owner writes why and posts it.
            message = await asyncio.to_thread(_show_blocked, key, users) if SHARD.owns(key[1], key[2]) else None
            if message is not None and message != posted:
                logger.info("%s", message)
                kopf.event(body, type="Warning", reason=IN_USE, message=message)
                posted = message
            with suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), recheck)
    finally:
        WAKE.unregister(key, woken)
    if posted is not None:
        logger.info("%s %s is no longer in use: deleting", key[0], key[2])


def _show_blocked(key: WakeKey, users: list[str]) -> str | None:
    """Write the InUse status (and status.users of a CloudCredential) where it differs; the Event message
    when the blocking users changed."""
    kind, namespace, name = key
    client = kube_client()
    obj = client.get_object(kind, namespace, name)
    if obj is None:
        return None
    status = dict(obj.get("status") or {})
    changes, message = in_use_status(status, obj["metadata"].get("generation"), kind, users, datetime.now(UTC))
    if kind == "CloudCredential" and status.get("users") != users_status(users):
        changes["users"] = users_status(users)
    if changes:
        client.patch_status(kind, namespace, name, changes)
    return message
