"""The in-process wake registry: events registered under (kind, namespace, name) are woken by key."""

from __future__ import annotations

import asyncio

from daytwo.operator.handlers.wakeups import WakeRegistry


def test_wake_sets_every_event_of_the_key_and_only_those() -> None:
    registry = WakeRegistry()
    daemon, deletion, other = asyncio.Event(), asyncio.Event(), asyncio.Event()
    registry.register(("CloudCredential", "ns", "prod"), daemon)
    registry.register(("CloudCredential", "ns", "prod"), deletion)
    registry.register(("ProxmoxNode", "ns", "prod"), other)
    assert registry.wake(("CloudCredential", "ns", "prod")) == 2
    assert daemon.is_set() and deletion.is_set() and not other.is_set()
    assert registry.wake(("CloudCredential", "other-ns", "prod")) == 0


def test_unregistered_events_are_forgotten() -> None:
    registry = WakeRegistry()
    event = asyncio.Event()
    registry.register(("ProxmoxNode", "ns", "pve"), event)
    registry.unregister(("ProxmoxNode", "ns", "pve"), event)
    registry.unregister(("ProxmoxNode", "ns", "pve"), event)  # twice is harmless
    assert registry.wake(("ProxmoxNode", "ns", "pve")) == 0 and not event.is_set()
    assert len(registry) == 0
