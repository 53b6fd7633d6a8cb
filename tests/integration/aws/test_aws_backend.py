"""The AWS backend through boto3 against moto with signature and IAM policy checks on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from daytwo.operator.backends.aws import AwsBackend, AwsClientFactory, AwsConnectionParams
from daytwo.operator.backends.records import InventoryKind
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import AuthFailed, InvalidRequest, PermissionDenied, Timeout, Unavailable

from tests.standins.aws import AwsStandin, Fault
from tests.standins.proxmox import closed_port

from .conftest import INSTANCES, VOLUMES, VPCS, params


def _calls(aws: AwsStandin, action: str) -> int:
    return sum(1 for e in aws.server.journal() if e.action == action)


def test_validate_static_keys(aws: AwsStandin, factory: AwsClientFactory) -> None:
    client = factory.get(params(aws))
    assert isinstance(client, AwsBackend)
    identity = client.validate()
    assert identity.provider == "aws"
    assert identity.principal == aws.user_arn
    assert identity.account == aws.account_id
    assert identity.expires_at is None
    assert identity.details["access_key_id"] == aws.access_key_id


def test_validate_assumed_role_reports_expiry(aws: AwsStandin, factory: AwsClientFactory) -> None:
    identity = factory.get(params(aws, assume_role_arn=aws.role_arn)).validate()
    assert identity.principal == f"arn:aws:sts::{aws.account_id}:assumed-role/daytwo-reader/daytwo"
    assert identity.details["source_principal"] == aws.user_arn
    assert identity.expires_at is not None and identity.expires_at > datetime.now(UTC)
    assert _calls(aws, "AssumeRole") == 1


def test_wrong_secret_is_auth_failed_and_not_retried(aws: AwsStandin, factory: AwsClientFactory) -> None:
    with pytest.raises(AuthFailed, match="SignatureDoesNotMatch") as caught:
        factory.get(params(aws, secret_access_key=aws.secret_access_key[::-1])).validate()
    assert caught.value.status_code == 403
    assert _calls(aws, "GetCallerIdentity") == 1


def test_unknown_key_is_auth_failed(aws: AwsStandin, factory: AwsClientFactory) -> None:
    with pytest.raises(AuthFailed, match="InvalidClientTokenId"):
        factory.get(params(aws, access_key_id="AKIAUNKNOWNUNKNOWN00")).validate()


def test_missing_ec2_permission_names_the_action(aws: AwsStandin, factory: AwsClientFactory) -> None:
    client = factory.get(
        params(aws, access_key_id=aws.noec2_access_key_id, secret_access_key=aws.noec2_secret_access_key)
    )
    assert client.validate().principal.endswith(":user/daytwo-noec2")  # GetCallerIdentity needs no permission
    with pytest.raises(PermissionDenied) as caught:
        client.inventory(["vms"])
    assert caught.value.missing == "ec2:DescribeInstances"
    assert _calls(aws, "DescribeInstances") == 1, "a 403 is never retried"


def test_role_not_assumable_is_permission_denied(aws: AwsStandin, factory: AwsClientFactory) -> None:
    noec2 = params(
        aws,
        access_key_id=aws.noec2_access_key_id,
        secret_access_key=aws.noec2_secret_access_key,
        assume_role_arn=aws.role_arn,
    )
    with pytest.raises(PermissionDenied) as caught:
        factory.get(noec2).validate()
    assert caught.value.missing == "sts:AssumeRole"


def test_inventory_every_kind_every_page(aws: AwsStandin, factory: AwsClientFactory) -> None:
    inventory = factory.get(params(aws, page_size=5)).inventory()
    counts = inventory.counts()
    assert counts["vms"] == INSTANCES
    assert counts["storage"] == INSTANCES + VOLUMES  # every instance has a root volume, as on AWS
    assert counts["networks"] == VPCS + 1  # plus the region's default VPC
    assert _calls(aws, "DescribeInstances") == 2, "7 reservations at 5 per page: two pages"
    vm = inventory.of_kind(InventoryKind.VMS)[0]
    assert vm.provider == "aws" and vm.region == aws.region and vm.status == "running"
    assert vm.resource_id.startswith("i-") and vm.metadata["tag:Team"] == "daytwo"
    assert vm.metadata["instance_type"] in ("t3.micro", "m5.large")
    assert vm.last_synced == inventory.synced_at
    volume = next(r for r in inventory.of_kind(InventoryKind.STORAGE) if r.name.startswith("data-"))
    assert volume.status == "available" and volume.metadata["volume_type"] == "gp3"
    named = {r.name for r in inventory.of_kind(InventoryKind.NETWORKS)}
    assert {"vpc-0", "vpc-1"} <= named
    assert all(isinstance(v, str) for r in inventory.records for v in r.metadata.values())


def test_inventory_through_assumed_role(aws: AwsStandin, factory: AwsClientFactory) -> None:
    client = factory.get(params(aws, assume_role_arn=aws.role_arn))
    assert client.inventory(["networks", "vms"]).counts() == {"vms": INSTANCES, "networks": VPCS + 1}
    client.inventory(["networks"])
    assert _calls(aws, "AssumeRole") == 1, "assumed credentials are reused until shortly before expiry"


def test_short_5xx_burst_is_retried(aws: AwsStandin, factory: AwsClientFactory) -> None:
    aws.server.add_fault(Fault(status=503, service="ec2", action="DescribeVpcs", times=2))
    assert factory.get(params(aws)).inventory(["networks"]).counts() == {"networks": VPCS + 1}
    assert [e.status for e in aws.server.journal() if e.action == "DescribeVpcs"] == [503, 503, 200]


def test_throttling_is_retried(aws: AwsStandin, factory: AwsClientFactory) -> None:
    aws.server.add_fault(
        Fault(status=400, code="RequestLimitExceeded", message="Request limit exceeded.", service="ec2", times=1)
    )
    assert factory.get(params(aws)).inventory(["networks"]).counts() == {"networks": VPCS + 1}


def test_long_outage_is_unavailable_after_the_retry_budget(aws: AwsStandin, factory: AwsClientFactory) -> None:
    aws.server.add_fault(Fault(status=503, times=None))
    with pytest.raises(Unavailable, match="ServiceUnavailable"):
        factory.get(params(aws)).validate()
    assert _calls(aws, "GetCallerIdentity") == 3, "one attempt + 2 retries"


def test_unreachable_endpoint_is_unavailable(factory: AwsClientFactory) -> None:
    gone = AwsConnectionParams("AKIAEXAMPLE", "secret", "eu-west-1", endpoint_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(Unavailable, match="cannot reach"):
        factory.get(gone).validate()


def test_slow_answer_is_timeout(aws: AwsStandin) -> None:
    factory = AwsClientFactory(policy=RetryPolicy(retries=0))
    aws.server.set_latency(1.5)
    try:
        with pytest.raises(Timeout):
            factory.get(params(aws, timeout_seconds=0.3)).validate()
    finally:
        aws.server.clear_faults()
        factory.close()


def test_costs_from_cost_explorer(aws: AwsStandin, factory: AwsClientFactory) -> None:
    aws.set_cost_results(
        [
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"},
                        "Total": {},
                        "Groups": [
                            {"Keys": ["Amazon EC2"], "Metrics": {"UnblendedCost": {"Amount": "350.5", "Unit": "USD"}}},
                            {"Keys": ["Amazon S3"], "Metrics": {"UnblendedCost": {"Amount": "150", "Unit": "USD"}}},
                        ],
                        "Estimated": False,
                    }
                ]
            }
        ]
    )
    report = factory.get(params(aws)).costs(date(2026, 10, 1), date(2026, 11, 1))
    assert report.total == 500.5 and report.currency == "USD"
    assert report.by_group() == {"Amazon EC2": 350.5, "Amazon S3": 150.0}
    with pytest.raises(InvalidRequest):
        factory.get(params(aws)).costs(date(2026, 11, 1), date(2026, 10, 1))


def test_factory_caches_and_replaces_on_rotation(aws: AwsStandin, factory: AwsClientFactory) -> None:
    first = factory.get(params(aws))
    assert factory.get(params(aws)) is first
    rotated = factory.get(params(aws, secret_access_key=aws.secret_access_key + "x"))
    assert rotated is not first and len(factory) == 1
    assert aws.secret_access_key not in repr(params(aws)) and aws.secret_access_key not in repr(first)
