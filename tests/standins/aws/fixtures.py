"""moto in server mode with IAM authentication ON, an IAM estate and an EC2 estate, for tests and demos.

    from tests.standins.aws import run_moto

    with run_moto(instances=12, volumes=3, vpcs=2) as aws:
        aws.url, aws.region                              # http://127.0.0.1:<port>, eu-west-1
        aws.access_key_id, aws.secret_access_key         # user "daytwo": ec2:Describe*, ce:*, sts:AssumeRole
        aws.noec2_access_key_id, aws.noec2_secret_access_key   # user without ec2:Describe*
        aws.role_arn                                     # role daytwo-reader, assumable by user daytwo
        aws.server.add_fault(Fault(status=503, times=2)) # faults and journal: see server.MotoServer

Signature checking: moto checks SigV4 signatures and IAM policies once its "initial no-auth action
count" is used up. The count is process-global (``moto.settings``); server mode changes it through
POST /moto-api/reset-auth. We create the IAM users and keys unauthenticated, then set it to 0: from
then on every request must be signed by a known key, with the right secret, and be allowed by policy.
moto's state is process-global too: one ``run_moto`` at a time per process (it resets moto on entry).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
import requests

from .server import Fault, MotoServer

__all__ = ["ACCOUNT_ID", "AwsStandin", "Fault", "MotoServer", "run_moto"]

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
AMI = "ami-12c6146b"  # one of moto's built-in images
_BOOT = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}


def _policy(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


@dataclass
class AwsStandin:
    """A running moto: where it is, which keys work, and the admin client used to seed it."""

    server: MotoServer
    region: str
    access_key_id: str
    secret_access_key: str
    noec2_access_key_id: str
    noec2_secret_access_key: str
    admin_access_key_id: str
    admin_secret_access_key: str
    role_arn: str
    user_arn: str
    account_id: str = ACCOUNT_ID

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>."""
        return self.server.url

    def admin(self, service: str) -> Any:
        """A boto3 client signed by the admin user (every action allowed), for seeding and checking."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=self.admin_access_key_id,
            aws_secret_access_key=self.admin_secret_access_key,
        )

    def seed(self, *, instances: int = 0, volumes: int = 0, vpcs: int = 0, batch: int = 5) -> None:
        """Add VPCs (10.<n>.0.0/16), standalone gp3 volumes and instances (run_instances of ``batch`` each:
        one reservation per batch; every instance also gets a root volume, as on AWS)."""
        ec2 = self.admin("ec2")
        for n in range(vpcs):
            ec2.create_vpc(
                CidrBlock=f"10.{n % 250}.0.0/16",
                TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": f"vpc-{n}"}]}],
            )
        for n in range(volumes):
            ec2.create_volume(
                AvailabilityZone=f"{self.region}a",
                Size=8 + n,
                VolumeType="gp3",
                TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": f"data-{n}"}]}],
            )
        made = 0
        while made < instances:
            count = min(batch, instances - made)
            ec2.run_instances(
                ImageId=AMI,
                MinCount=count,
                MaxCount=count,
                InstanceType="t3.micro" if made % 2 == 0 else "m5.large",
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": [{"Key": "Team", "Value": "daytwo"}, {"Key": "Batch", "Value": str(made // batch)}],
                    }
                ],
            )
            made += count

    def set_cost_results(self, results: list[dict[str, Any]]) -> None:
        """Queue GetCostAndUsage answers (moto's /moto-api/static/ce/cost-and-usage-results)."""
        answer = requests.post(
            f"{self.url}/moto-api/static/ce/cost-and-usage-results", json={"results": results}, timeout=10
        )
        answer.raise_for_status()


def _reset(url: str, auth_count: str) -> None:
    requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
    requests.post(f"{url}/moto-api/reset-auth", data=auth_count.encode(), timeout=10).raise_for_status()


def _iam_estate(url: str, region: str) -> dict[str, str]:
    iam = boto3.client("iam", endpoint_url=url, region_name=region, **_BOOT)
    keys: dict[str, str] = {}
    for user, actions in (
        ("admin", ("*",)),
        ("daytwo", ("ec2:Describe*", "ce:GetCostAndUsage", "sts:GetCallerIdentity", "sts:AssumeRole")),
        ("daytwo-noec2", ("sts:GetCallerIdentity", "ce:GetCostAndUsage")),
    ):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="access", PolicyDocument=_policy(*actions))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[f"{user}.id"], keys[f"{user}.secret"] = key["AccessKeyId"], key["SecretAccessKey"]
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/daytwo"
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="daytwo-reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(
        RoleName="daytwo-reader", PolicyName="read", PolicyDocument=_policy("ec2:Describe*", "ce:GetCostAndUsage")
    )
    keys["role_arn"], keys["user_arn"] = role["Arn"], user_arn
    return keys


@contextlib.contextmanager
def run_moto(
    instances: int = 0, volumes: int = 0, vpcs: int = 0, *, region: str = REGION, batch: int = 5, port: int = 0
) -> Iterator[AwsStandin]:
    """Start moto on 127.0.0.1 with IAM auth enforced and the estate seeded; stops and resets it on exit."""
    server = MotoServer("127.0.0.1", port)
    try:
        _reset(server.url, "inf")
        keys = _iam_estate(server.url, region)
        _reset_auth_only(server.url, "0")
        standin = AwsStandin(
            server=server,
            region=region,
            access_key_id=keys["daytwo.id"],
            secret_access_key=keys["daytwo.secret"],
            noec2_access_key_id=keys["daytwo-noec2.id"],
            noec2_secret_access_key=keys["daytwo-noec2.secret"],
            admin_access_key_id=keys["admin.id"],
            admin_secret_access_key=keys["admin.secret"],
            role_arn=keys["role_arn"],
            user_arn=keys["user_arn"],
        )
        standin.seed(instances=instances, volumes=volumes, vpcs=vpcs, batch=batch)
        server.clear_journal()
        yield standin
    finally:
        with contextlib.suppress(requests.RequestException):
            _reset(server.url, "inf")
        server.stop()


def _reset_auth_only(url: str, auth_count: str) -> None:
    requests.post(f"{url}/moto-api/reset-auth", data=auth_count.encode(), timeout=10).raise_for_status()
