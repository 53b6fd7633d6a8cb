"""Fixtures for the GCP backend tests: the OAuth + Compute stand-in over TLS and a client factory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from daytwo.operator.backends.gcp import GcpClientFactory, GcpConnectionParams
from daytwo.operator.backends.runtime import RetryPolicy

from tests.standins.gcp import GcpStandin, run_gcp

INSTANCES, DISKS, NETWORKS = 7, 2, 3


@pytest.fixture(scope="module")
def gcp_standin() -> Iterator[GcpStandin]:
    """7 instances over 3 zones (each with a boot disk), 2 data disks, 3 networks."""
    with run_gcp(INSTANCES, DISKS, NETWORKS) as standin:
        yield standin


@pytest.fixture
def gcp(gcp_standin: GcpStandin) -> Iterator[GcpStandin]:
    """The module's stand-in with no faults and an empty journal."""
    gcp_standin.faults.clear()
    gcp_standin.journal.clear()
    yield gcp_standin
    gcp_standin.faults.clear()


@pytest.fixture
def factory() -> Iterator[GcpClientFactory]:
    """A factory with quick retries (2 retries, 10 ms backoff)."""
    made = GcpClientFactory(max_concurrency=4, policy=RetryPolicy(retries=2, backoff_seconds=0.01))
    yield made
    made.close()


def params(standin: GcpStandin, **overrides: Any) -> GcpConnectionParams:
    """Params for the reader's key, token URI and Compute endpoint at the stand-in, trusting its CA."""
    values: dict[str, Any] = {
        "service_account_json": standin.service_account_json,
        "project_id": standin.project_id,
        "endpoint_override": standin.url,
        "token_uri_override": standin.token_uri,
        "ca_bundle_pem": standin.ca_pem,
        "timeout_seconds": 5.0,
        "page_size": 3,
    }
    values.update(overrides)
    return GcpConnectionParams(**values)
