"""AwsProvisioner against moto (IAM auth on, admin keys): create, adopt, observe, update in place, delete."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from daytwo.operator.backends.aws import AwsConnectionParams, provisioner
from daytwo.operator.backends.provisioning import (
    OWNER_TAG_KEY,
    ProvisionRequest,
    ProvisionState,
    ResourceProvisioner,
    ResourceType,
)
from daytwo.operator.errors import InvalidRequest

from tests.standins.aws import AwsStandin

pytestmark = pytest.mark.integration
AMI = "ami-12c6146b"


@pytest.fixture
def aws_provisioner(aws: AwsStandin) -> Iterator[ResourceProvisioner]:
    """A provisioner signed by moto's admin user (every action allowed)."""
    params = AwsConnectionParams(
        access_key_id=aws.admin_access_key_id,
        secret_access_key=aws.admin_secret_access_key,
        region=aws.region,
        endpoint_url=aws.url,
    )
    made = provisioner(params)
    yield made
    made.close()  # type: ignore[attr-defined]


def request(type_: ResourceType, **settings: object) -> ProvisionRequest:
    """A request with a fresh uid as token and owner tag."""
    uid = str(uuid.uuid4())
    return ProvisionRequest(
        type=type_,
        name=f"d2-test-{uid[:8]}",
        token=uid,
        owner_tag=uid,
        settings=settings,  # type: ignore[arg-type]
        tags={"team": "web"},
    )


def test_vm_create_is_idempotent_and_adoptable(aws: AwsStandin, aws_provisioner: ResourceProvisioner) -> None:
    wanted = request(ResourceType.VM, size="t3.micro", image=AMI, securityGroups=(), publicIp=False)
    assert aws_provisioner.find(wanted) is None
    made = aws_provisioner.create(wanted)
    assert made.external_id.startswith("i-") and made.outputs["instance_id"] == made.external_id
    adopted = aws_provisioner.find(wanted)
    assert adopted is not None and adopted.external_id == made.external_id
    ec2 = aws.admin("ec2")
    tagged = ec2.describe_instances(Filters=[{"Name": f"tag:{OWNER_TAG_KEY}", "Values": [wanted.owner_tag]}])
    assert sum(len(r["Instances"]) for r in tagged["Reservations"]) == 1
    seen = aws_provisioner.observe(ResourceType.VM, made.external_id)
    assert seen is not None and seen.state is ProvisionState.ACTIVE and seen.outputs["private_ip"]
    assert seen.managed["size"] == "t3.micro" and seen.managed["tags.team"] == "web"


def test_vm_tags_update_in_place_and_running_resize_is_refused(aws_provisioner: ResourceProvisioner) -> None:
    wanted = request(ResourceType.VM, size="t3.micro", image=AMI, securityGroups=(), publicIp=False)
    made = aws_provisioner.create(wanted)
    retagged = ProvisionRequest(**{**wanted.__dict__, "tags": {"team": "api"}})
    updated = aws_provisioner.update(retagged, made)
    assert updated.managed["tags.team"] == "api"
    bigger = ProvisionRequest(**{**wanted.__dict__, "settings": {**wanted.settings, "size": "m5.large"}})
    with pytest.raises(InvalidRequest, match=r"vm\.size"):
        aws_provisioner.update(bigger, updated)


def test_vm_delete_terminates(aws_provisioner: ResourceProvisioner) -> None:
    made = aws_provisioner.create(request(ResourceType.VM, size="t3.micro", image=AMI, publicIp=False))
    gone = aws_provisioner.delete(ResourceType.VM, made.external_id)
    assert gone or aws_provisioner.delete(ResourceType.VM, made.external_id)
    assert aws_provisioner.observe(ResourceType.VM, made.external_id) is None


def test_volume_grows_in_place_and_deletes(aws_provisioner: ResourceProvisioner) -> None:
    wanted = request(ResourceType.STORAGE, storageKind="volume", sizeGb=8)
    made = aws_provisioner.create(wanted)
    assert made.external_id.startswith("vol-") and made.outputs["size_gb"] == "8"
    grown = aws_provisioner.update(
        ProvisionRequest(**{**wanted.__dict__, "settings": {"storageKind": "volume", "sizeGb": 16}}), made
    )
    assert grown.managed["sizeGb"] == "16"
    assert aws_provisioner.delete(ResourceType.STORAGE, made.external_id)


def test_bucket_create_find_delete(aws_provisioner: ResourceProvisioner) -> None:
    wanted = request(ResourceType.STORAGE, storageKind="bucket")
    made = aws_provisioner.create(wanted)
    assert made.external_id == wanted.name and made.outputs["arn"] == f"arn:aws:s3:::{wanted.name}"
    again = aws_provisioner.create(wanted)  # a retry of the same request is the same bucket
    assert again.external_id == made.external_id
    found = aws_provisioner.find(wanted)
    assert found is not None and found.external_id == wanted.name
    assert aws_provisioner.delete(ResourceType.STORAGE, wanted.name)
    assert aws_provisioner.observe(ResourceType.STORAGE, wanted.name) is None


def test_network_with_subnets(aws_provisioner: ResourceProvisioner) -> None:
    wanted = request(ResourceType.NETWORK, cidr="10.42.0.0/16", subnets=("a=10.42.1.0/24", "b=10.42.2.0/24"))
    made = aws_provisioner.create(wanted)
    assert made.external_id.startswith("vpc-")
    assert made.outputs["subnet_a"].startswith("subnet-") and made.outputs["subnet_b"].startswith("subnet-")
    assert made.managed["subnets"] == "a=10.42.1.0/24,b=10.42.2.0/24"
    assert aws_provisioner.find(wanted) is not None
    fewer = ProvisionRequest(
        **{**wanted.__dict__, "settings": {"cidr": "10.42.0.0/16", "subnets": ("a=10.42.1.0/24",)}}
    )
    with pytest.raises(InvalidRequest, match=r"network\.subnets"):
        aws_provisioner.update(fewer, made)
    assert aws_provisioner.delete(ResourceType.NETWORK, made.external_id)
