"""Fixtures for the AWS backend tests: one moto (IAM auth on) per module, a client factory per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from daytwo.operator.backends.aws import AwsClientFactory, AwsConnectionParams
from daytwo.operator.backends.runtime import RetryPolicy

from tests.standins.aws import AwsStandin, run_moto

# 13 instances in batches of 2 = 7 reservations; moto pages DescribeInstances by reservation.
INSTANCES, VOLUMES, VPCS = 13, 3, 2


@pytest.fixture(scope="module")
def moto() -> Iterator[AwsStandin]:
    """moto with IAM users daytwo / daytwo-noec2 / admin, role daytwo-reader and a small EC2 estate."""
    with run_moto(INSTANCES, VOLUMES, VPCS, batch=2) as standin:
        yield standin


@pytest.fixture
def aws(moto: AwsStandin) -> Iterator[AwsStandin]:
    """The module's moto with no faults and an empty journal."""
    moto.server.clear_faults()
    moto.server.clear_journal()
    yield moto
    moto.server.clear_faults()


@pytest.fixture
def factory() -> Iterator[AwsClientFactory]:
    """A factory with quick retries (2 retries, 10 ms backoff)."""
    made = AwsClientFactory(max_concurrency=4, policy=RetryPolicy(retries=2, backoff_seconds=0.01))
    yield made
    made.close()


def params(standin: AwsStandin, **overrides: Any) -> AwsConnectionParams:
    """Params for user daytwo against the stand-in."""
    values: dict[str, Any] = {
        "access_key_id": standin.access_key_id,
        "secret_access_key": standin.secret_access_key,
        "region": standin.region,
        "endpoint_url": standin.url,
        "timeout_seconds": 5.0,
        "page_size": 5,
    }
    values.update(overrides)
    return AwsConnectionParams(**values)
