"""Fixtures for the Proxmox backend tests: a fakepve over TLS per test and a client factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from daytwo.operator.backends.proxmox import ProxmoxClientFactory, ProxmoxConnectionParams, ProxmoxerBackend

from tests.standins.proxmox import PveStandin, run_fakepve


@pytest.fixture
def pve() -> Iterator[PveStandin]:
    """fakepve with 2 nodes x 4 guests (3 VMs + 1 container each), served over TLS."""
    with run_fakepve(nodes=2, guests_per_node=4) as standin:
        yield standin


@pytest.fixture
def factory() -> Iterator[ProxmoxClientFactory]:
    """A client factory with quick retries (backoff 10 ms), closed after the test."""
    made = ProxmoxClientFactory(max_concurrency=4, retries=2, backoff_seconds=0.01)
    yield made
    made.close()


def make_params(standin: PveStandin, **overrides: Any) -> ProxmoxConnectionParams:
    """Connection params for the stand-in's operator token, trusting its CA."""
    values: dict[str, Any] = {
        "host": standin.host,
        "port": standin.port,
        "token_id": standin.token_id,
        "token_secret": standin.token_secret,
        "ca_bundle_pem": standin.ca_pem,
        "timeout_seconds": 5.0,
    }
    values.update(overrides)
    return ProxmoxConnectionParams(**values)


@pytest.fixture
def client(pve: PveStandin, factory: ProxmoxClientFactory) -> ProxmoxerBackend:
    """The backend for the stand-in's operator token."""
    return factory.get(make_params(pve))


@pytest.fixture
def params_for(pve: PveStandin) -> Callable[..., ProxmoxConnectionParams]:
    """make_params bound to the stand-in."""
    return lambda **overrides: make_params(pve, **overrides)
