"""The operator's one client cache: settings applied per client, clients dropped when a credential goes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from daytwo.operator.backends.aws import AwsConnectionParams
from daytwo.operator.backends.proxmox import ProxmoxConnectionParams
from daytwo.operator.backends.records import record_time
from daytwo.operator.backends.runtime import CredentialKey
from daytwo.operator.handlers.credentials import BackendClients
from daytwo.operator.settings import OperatorSettings

PROD = CredentialKey("tenant-b", "CloudCredential", "prod-eu")
NODE = CredentialKey("tenant-b", "ProxmoxNode", "pve-east")


def aws(secret: str = "wJalrXUtnFEMI-first") -> AwsConnectionParams:
    return AwsConnectionParams(
        access_key_id="AKIAEXAMPLE7Q2", secret_access_key=secret, region="eu-west-1", endpoint_url=None
    )


def pve() -> ProxmoxConnectionParams:
    return ProxmoxConnectionParams(
        host="pve-east.example", token_id="daytwo@pve!operator", token_secret="5f1e-token-value"
    )


def test_concurrency_comes_from_the_operator_settings() -> None:
    clients = BackendClients(OperatorSettings(backend_concurrency=2, openstack_concurrency=3))
    try:
        client = clients.aws.get(aws(), credential=PROD, secret_version="4711")
        slots = client._limiter
        assert [slots.acquire(blocking=False) for _ in range(3)] == [True, True, False]
        assert clients.openstack.semaphore("https://keystone.example/v3")._value == 3
    finally:
        clients.cache.close()


def test_rotated_secret_gets_a_new_client_and_deletion_drops_it() -> None:
    clients = BackendClients(OperatorSettings())
    try:
        first = clients.aws.get(aws(), credential=PROD, secret_version="4711")
        assert clients.aws.get(aws(), credential=PROD, secret_version="4711") is first
        rotated = clients.aws.get(aws("wJalrXUtnFEMI-second"), credential=PROD, secret_version="4712")
        assert rotated is not first
        node = clients.proxmox.get(pve(), credential=NODE, secret_version="88")

        assert clients.invalidate(PROD.namespace, PROD.kind, PROD.name) == 1
        assert clients.aws.get(aws("wJalrXUtnFEMI-second"), credential=PROD, secret_version="4712") is not rotated
        assert clients.proxmox.get(pve(), credential=NODE, secret_version="88") is node
        assert clients.invalidate(NODE.namespace, NODE.kind, NODE.name) == 1
    finally:
        clients.cache.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T10:20:30Z", datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)),
        ("2026-03-01T10:20:30.1234567+00:00", datetime(2026, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)),
        ("2026-03-01T10:20:30", datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_record_time_reads_every_clouds_timestamps(value: str | None, expected: datetime | None) -> None:
    assert record_time(value, "test") == expected


def test_record_time_logs_what_it_cannot_read(caplog: pytest.LogCaptureFixture) -> None:
    assert record_time("last tuesday", "gcp instance 4411") is None
    assert "gcp instance 4411" in caplog.text and "last tuesday" in caplog.text
