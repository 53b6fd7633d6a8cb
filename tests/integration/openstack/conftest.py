"""Fixtures for contract tests: the stand-in, and backends wired to it with a fast retry policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from daytwo.operator.backends.openstack import (
    OpenStackClients,
    OpenStackClientSettings,
    OpenStackConnectionParams,
    SdkOpenStackBackend,
)

from tests.standins.openstack.fixtures import openstack_standin, openstack_standin_server
from tests.standins.openstack.server import StandIn

__all__ = ["openstack_standin", "openstack_standin_server"]

FAST = OpenStackClientSettings(
    max_concurrency_per_endpoint=4, retry_attempts=4, backoff_base_seconds=0.05, backoff_max_seconds=0.2
)


def admin_params(standin: StandIn, **overrides: object) -> OpenStackConnectionParams:
    """Password params for the seeded admin user."""
    fields: dict[str, object] = {
        "auth_url": standin.auth_url,
        "region": standin.model.region,
        "username": standin.info.admin_username,
        "password": standin.info.admin_password,
        "project_name": standin.info.admin_project,
        "timeout_seconds": 10.0,
    }
    fields.update(overrides)
    return OpenStackConnectionParams(**fields)  # type: ignore[arg-type]


@pytest.fixture
def clients() -> Iterator[OpenStackClients]:
    """A private client cache per test (no connections shared across tests)."""
    cache = OpenStackClients(FAST)
    yield cache
    cache.close()


@pytest.fixture
def backend(openstack_standin: StandIn, clients: OpenStackClients) -> SdkOpenStackBackend:
    """The backend as the seeded admin."""
    return SdkOpenStackBackend(admin_params(openstack_standin), clients)
