"""Fixtures for the Azure backend tests: the Entra + ARM stand-in over TLS and a client factory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from daytwo.operator.backends.azure import AzureClientFactory, AzureConnectionParams
from daytwo.operator.backends.runtime import RetryPolicy

from tests.standins.azure import AzureStandin, run_azure

VMS, DISKS, VNETS, PAGE = 5, 2, 3, 2


@pytest.fixture(scope="module")
def azure_standin() -> Iterator[AzureStandin]:
    """5 VMs (each with an OS disk), 2 data disks, 3 VNets; ARM pages of 2 items."""
    with run_azure(VMS, DISKS, VNETS, page_size=PAGE) as standin:
        yield standin


@pytest.fixture
def az(azure_standin: AzureStandin) -> Iterator[AzureStandin]:
    """The module's stand-in with no faults and an empty journal."""
    azure_standin.faults.clear()
    azure_standin.journal.clear()
    yield azure_standin
    azure_standin.faults.clear()


@pytest.fixture
def factory() -> Iterator[AzureClientFactory]:
    """A factory with quick retries (2 retries, 10 ms backoff)."""
    made = AzureClientFactory(max_concurrency=4, policy=RetryPolicy(retries=2, backoff_seconds=0.01))
    yield made
    made.close()


def params(standin: AzureStandin, **overrides: Any) -> AzureConnectionParams:
    """Params for the reader principal, authority and ARM both at the stand-in, trusting its CA."""
    values: dict[str, Any] = {
        "tenant_id": standin.tenant_id,
        "client_id": standin.client_id,
        "client_secret": standin.client_secret,
        "subscription_id": standin.subscription_id,
        "authority_host": standin.url,
        "management_endpoint": standin.url,
        "ca_bundle_pem": standin.ca_pem,
        "timeout_seconds": 5.0,
    }
    values.update(overrides)
    return AzureConnectionParams(**values)
