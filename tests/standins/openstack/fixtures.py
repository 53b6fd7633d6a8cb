"""Start the stand-in from tests.

In a conftest::

    from tests.standins.openstack.fixtures import openstack_standin, openstack_standin_server  # noqa: F401

``openstack_standin`` (function scope) yields a started :class:`StandIn`, re-seeded, with a fresh
clock, no faults and an empty journal; the server itself is shared per session. Outside pytest::

    with running_standin("small") as standin:
        standin.base_url, standin.model, standin.clock, standin.faults, standin.journal
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .model import Delays
from .server import StandIn

__all__ = ["StandIn", "openstack_standin", "openstack_standin_server", "running_standin"]


@contextmanager
def running_standin(
    seed: str = "small", *, clock_mode: str = "manual", token_lifetime: float = 3600.0, delays: Delays | None = None
) -> Iterator[StandIn]:
    """A stand-in served on a free 127.0.0.1 port in a background thread for the ``with`` body."""
    standin = StandIn(seed, clock_mode=clock_mode, token_lifetime=token_lifetime, delays=delays)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture(scope="session")
def openstack_standin_server() -> Iterator[StandIn]:
    """One stand-in (seed ``small``, manual clock) for the whole session."""
    with running_standin("small") as standin:
        yield standin


@pytest.fixture
def openstack_standin(openstack_standin_server: StandIn) -> Iterator[StandIn]:
    """The session's stand-in, reset to the seed before each test."""
    openstack_standin_server.reset()
    yield openstack_standin_server
    openstack_standin_server.faults.clear()
