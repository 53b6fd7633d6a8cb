"""In-process wake-ups keyed by object: whoever waits on an object (its polling daemon, a blocked deletion
handler) registers an :class:`asyncio.Event` under ``(kind, namespace, name)``; whatever learns that the
object's world changed (a user of a credential added, repointed or deleted; a daemon ending) wakes them.

Events only: nothing is queued, a wake-up that finds nobody registered is a no-op, and waiters re-read
what they need after waking. Everything here runs on the operator's event loop (asyncio.Event is not
thread-safe).
"""

from __future__ import annotations

import asyncio

__all__ = ["WAKE", "WakeKey", "WakeRegistry"]

#: (kind, namespace, name) of the object whose waiters are woken.
WakeKey = tuple[str, str, str]


class WakeRegistry:
    """Which events wait on which object."""

    def __init__(self) -> None:
        self._events: dict[WakeKey, set[asyncio.Event]] = {}

    def register(self, key: WakeKey, event: asyncio.Event) -> None:
        """Wake ``event`` whenever ``key`` is woken, until :meth:`unregister`."""
        self._events.setdefault(key, set()).add(event)

    def unregister(self, key: WakeKey, event: asyncio.Event) -> None:
        """Stop waking ``event`` for ``key`` (its waiter ended)."""
        events = self._events.get(key)
        if events is not None:
            events.discard(event)
            if not events:
                del self._events[key]

    def wake(self, key: WakeKey) -> int:
        """Set every event registered for ``key``; how many there were."""
        events = self._events.get(key, set())
        for event in events:
            event.set()
        return len(events)

    def __len__(self) -> int:
        return len(self._events)


#: The operator's one registry.
WAKE = WakeRegistry()
