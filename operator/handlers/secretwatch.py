"""Which Secrets the running CloudCredential and ProxmoxNode daemons read, so a Secret event wakes exactly them."""

from __future__ import annotations

import asyncio
from typing import Any

from ..reconcile.references import secret_refs

__all__ = ["WATCH", "SecretWatch", "unwatch_secrets", "watch_secrets"]


class SecretWatch:
    """Which Secrets the running daemons depend on (CloudCredentials and ProxmoxNodes), so a Secret event
    wakes exactly those daemons: a rotation, a new label or a rewrite after a refusal is handled at once."""

    def __init__(self) -> None:
        self._by_owner: dict[tuple[str, str], tuple[frozenset[str], asyncio.Event]] = {}

    def register(self, namespace: str, owner: str, secrets: set[str], wake: asyncio.Event) -> None:
        """Remember (or update) the Secrets one object (``Kind/name``) reads, and the event that wakes it."""
        self._by_owner[(namespace, owner)] = (frozenset(secrets), wake)

    def forget(self, namespace: str, owner: str) -> None:
        """The object's daemon stopped."""
        self._by_owner.pop((namespace, owner), None)

    def dependents(self, namespace: str, secret: str) -> list[asyncio.Event]:
        """The wake events of the objects that read this Secret."""
        return [
            wake for (ns, _), (secrets, wake) in list(self._by_owner.items()) if ns == namespace and secret in secrets
        ]


WATCH = SecretWatch()


def watch_secrets(kind: str, namespace: str, name: str, spec: dict[str, Any], memo: Any) -> set[str]:
    """Register the Secrets ``spec`` names with the watch (a change wakes ``memo["wake"]``); their names."""
    names = {ref.name for ref in secret_refs(kind, spec)}
    WATCH.register(namespace, f"{kind}/{name}", names, memo["wake"])
    return names


def unwatch_secrets(kind: str, namespace: str, name: str) -> None:
    """The object's daemon stopped: its Secrets no longer wake anything."""
    WATCH.forget(namespace, f"{kind}/{name}")
