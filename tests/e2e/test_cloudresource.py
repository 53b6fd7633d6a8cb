"""CloudResource end to end: /resources/ creates through the facade, the real operator provisions on the stand-in,
outputs come back, the deployment-logs WebSocket streams until active, delete removes it; SIGKILL mid-create
leaves exactly one resource.

Providers are a fixture list (:data:`PROVIDERS`): each entry knows how to make its stand-in, its credential, the
configuration of a vm/storage/network and how to count what carries a CloudResource's owner tag in the stand-in.
AWS is moto in server mode (IAM auth on; the admin user may run instances). Azure and GCP add their entries.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import credential_secret
from tests.standins.aws import AwsStandin, run_moto
from tests.standins.azure import AzureStandin, run_azure
from tests.standins.gcp import GcpStandin, run_gcp

from .conftest import NAMESPACE, wait_for_condition

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

OWNER = "daytwo-owner"
AMI = "ami-12c6146b"


@dataclass
class Cloud:
    """One provider's stand-in as these tests use it."""

    provider: str
    credential: str
    configurations: dict[str, dict[str, Any]]
    count: Callable[[str, str], int]  # (type, owner uid) -> resources carrying the owner tag
    slow_down: Callable[[float], None]  # delay every call to the stand-in (0: none)


def _aws_count(aws: AwsStandin) -> Callable[[str, str], int]:
    def count(kind: str, uid: str) -> int:
        ec2 = aws.admin("ec2")
        owner = [{"Name": f"tag:{OWNER}", "Values": [uid]}]
        if kind == "vm":
            live = [*owner, {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
            return sum(len(r["Instances"]) for r in ec2.describe_instances(Filters=live)["Reservations"])
        if kind == "network":
            return len(ec2.describe_vpcs(Filters=owner)["Vpcs"])
        volumes = len(ec2.describe_volumes(Filters=owner)["Volumes"])
        s3 = aws.admin("s3")
        buckets = 0
        for bucket in s3.list_buckets()["Buckets"]:
            try:
                tags = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
            except s3.exceptions.ClientError:
                continue
            buckets += any(t["Key"] == OWNER and t["Value"] == uid for t in tags)
        return volumes + buckets

    return count


def _aws(kubectl: Kubectl) -> Iterator[Cloud]:
    with run_moto() as aws:
        name = "aws-e2e-provision"
        secret = credential_secret(
            name, NAMESPACE, {"accessKeyId": aws.admin_access_key_id, "secretAccessKey": aws.admin_secret_access_key}
        )
        kubectl.apply(json.dumps(secret))
        credential = {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "CloudCredential",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "provider": "aws",
                "secretRef": {"name": name},
                "aws": {"region": aws.region, "endpointUrl": aws.url, "allowInsecureHttp": True},
            },
        }
        kubectl.apply(json.dumps(credential))
        wait_for_condition(kubectl, "d2cc", name, "Ready", "True", timeout=90)
        yield Cloud(
            "aws",
            name,
            {
                "vm": {"instance_type": "t3.micro", "ami": AMI, "tags": {"team": "web"}},
                "storage": {"kind": "volume", "size_gb": 8},
                "bucket": {"kind": "bucket"},
                "network": {"cidr": "10.60.0.0/16", "subnets": [{"name": "a", "cidr": "10.60.1.0/24"}]},
            },
            _aws_count(aws),
            aws.server.set_latency,
        )
        kubectl.run("delete", "cloudcredential", name, "-n", NAMESPACE, "--wait=false")


SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRheXR3by1lMmUta2V5LW5vdC1hLXJlYWwtb25lISE daytwo@e2e"
GCP_IMAGE = "projects/debian-cloud/global/images/family/debian-12"


def _tls_credential(kubectl: Kubectl, name: str, provider: str, data: dict[str, str], block: dict[str, Any],
                    ca_pem: str) -> None:  # fmt: skip
    """A Ready CloudCredential of a TLS stand-in (its CA in a Secret of its own)."""
    kubectl.apply(json.dumps(credential_secret(name, NAMESPACE, data)))
    kubectl.apply(json.dumps(credential_secret(f"{name}-ca", NAMESPACE, {"ca.crt": ca_pem})))
    block = {**block, "caSecretRef": {"name": f"{name}-ca", "key": "ca.crt"}}
    credential = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"provider": provider, "secretRef": {"name": name}, provider: block},
    }
    kubectl.apply(json.dumps(credential))
    wait_for_condition(kubectl, "d2cc", name, "Ready", "True", timeout=90)


def _slow(faults: Any, path: str) -> Callable[[float], None]:
    """Delay the answers to the calls whose path matches (the VM create and reads; the create itself is served at
    once, so a create in flight when the operator dies has made its VM), or stop delaying (0)."""

    def slow_down(seconds: float) -> None:
        if seconds:
            faults.slow(seconds, path=path, answer_late=True)
        else:
            faults.clear()

    return slow_down


def _azure_count(az: AzureStandin) -> Callable[[str, str], int]:
    types = {
        "vm": ["Microsoft.Compute/virtualMachines"],
        "storage": ["Microsoft.Compute/disks", "Microsoft.Storage/storageAccounts"],
        "network": ["Microsoft.Network/virtualNetworks"],
    }

    def count(kind: str, uid: str) -> int:
        return sum(1 for t in types[kind] for item in az.live(t) if (item.get("tags") or {}).get(OWNER) == uid)

    return count


def _azure(kubectl: Kubectl) -> Iterator[Cloud]:
    with run_azure(vms=1, disks=0, vnets=1) as az:
        az.add_network("daytwo", "e2e-vnet", "10.70.0.0/16", {"web": "10.70.1.0/24"})
        name = "azure-e2e-provision"
        block = {
            "tenantId": az.tenant_id,
            "subscriptionId": az.subscription_id,
            "authorityHost": az.url,
            "managementEndpoint": az.url,
        }
        secret = {"clientId": az.client_id, "clientSecret": az.client_secret}
        _tls_credential(kubectl, name, "azure", secret, block, az.ca_pem)
        where = {"region": "westeurope"}
        vm = {"size": "Standard_B2s", "image": "Canonical:ubuntu-24_04-lts:server:latest", "subnet": "e2e-vnet/web"}
        yield Cloud(
            "azure",
            name,
            {
                "vm": {**vm, "key_name": SSH_KEY, "public_ip": True, "tags": {"team": "web"}, **where},
                "storage": {"kind": "volume", "size_gb": 8, **where},
                "bucket": {"kind": "bucket", **where},
                "network": {"cidr": "10.61.0.0/16", "subnets": [{"name": "a", "cidr": "10.61.1.0/24"}], **where},
            },
            _azure_count(az),
            _slow(az.faults, r"/virtualMachines/"),
        )
        kubectl.run("delete", "cloudcredential", name, "-n", NAMESPACE, "--wait=false")


def _gcp_count(gcp: GcpStandin) -> Callable[[str, str], int]:
    def count(kind: str, uid: str) -> int:
        if kind == "vm":
            return len(gcp.labelled("instances", OWNER, uid))
        if kind == "storage":
            return len(gcp.labelled("disks", OWNER, uid)) + len(gcp.labelled("buckets", OWNER, uid))
        with gcp.estate.lock:
            return sum(1 for n in gcp.estate.networks if f"{OWNER}={uid}" in str(n.get("description", "")))

    return count


def _gcp(kubectl: Kubectl) -> Iterator[Cloud]:
    with run_gcp(instances=1, disks=0, networks=1) as gcp:
        name = "gcp-e2e-provision"
        block = {"projectId": gcp.project_id, "endpointOverride": gcp.url, "tokenUriOverride": gcp.token_uri}
        _tls_credential(kubectl, name, "gcp", {"serviceAccountJson": gcp.service_account_json}, block, gcp.ca_pem)
        where = {"region": "us-central1"}
        vm = {"size": "e2-medium", "image": GCP_IMAGE, "key_name": SSH_KEY, "security_groups": ["web"]}
        yield Cloud(
            "gcp",
            name,
            {
                "vm": {**vm, "public_ip": True, "tags": {"team": "web"}, **where},
                "storage": {"kind": "volume", "size_gb": 8, **where},
                "bucket": {"kind": "bucket", **where},
                "network": {"cidr": "10.62.0.0/16", "subnets": [{"name": "a", "cidr": "10.62.1.0/24"}], **where},
            },
            _gcp_count(gcp),
            _slow(gcp.faults, r"/zones/[^/]+/instances"),
        )
        kubectl.run("delete", "cloudcredential", name, "-n", NAMESPACE, "--wait=false")


#: provider -> the generator fixture of its Cloud.
PROVIDERS: dict[str, Callable[[Kubectl], Iterator[Cloud]]] = {"aws": _aws, "azure": _azure, "gcp": _gcp}


@pytest.fixture(scope="module", params=sorted(PROVIDERS))
def cloud(
    request: pytest.FixtureRequest, kubectl: Kubectl, operator: DaytwoProcess, examples: dict[str, Any]
) -> Iterator[Cloud]:
    """One provider's stand-in with a Ready CloudCredential in the facade's namespace."""
    yield from PROVIDERS[request.param](kubectl)


def _type(config: str) -> str:
    return "storage" if config in ("storage", "bucket") else config


def create(facade: Facade, cloud: Cloud, config: str, name: str) -> dict[str, Any]:
    """POST /resources/ as an operator-role user; returns the 202 body."""
    configuration = {**cloud.configurations[config], "credential_id": cloud.credential}
    body = {"name": name, "provider": cloud.provider, "type": _type(config), "configuration": configuration}
    with facade.client("operator") as http:
        answer = http.post("/multicloud/resources/", json=body)
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def stream_logs(facade: Facade, name: str) -> tuple[list[str], int | None]:
    """Every line of the deployment-logs WebSocket until the server closes it, and the close code."""
    url = facade.url.replace("http://", "ws://") + f"/multicloud/ws/deployments/{name}/logs"
    lines: list[str] = []
    with connect(f"{url}?token={facade.login('viewer')}", open_timeout=30, close_timeout=10) as ws:
        for message in ws:
            lines.append(str(message))
    return lines, ws.close_code


def uid_of(kubectl: Kubectl, name: str) -> str:
    """The CloudResource's uid (its token and owner tag)."""
    return str(kubectl.get("d2cr", name, NAMESPACE)["metadata"]["uid"])


@pytest.mark.parametrize("config", ["vm", "storage", "bucket", "network"])
def test_create_observe_stream_delete(kubectl: Kubectl, facade: Facade, cloud: Cloud, config: str) -> None:
    name = f"cr-{config}-{uuid.uuid4().hex[:8]}"
    accepted = create(facade, cloud, config, name)
    assert accepted["status"] == "provisioning" and accepted["task_id"] == name
    lines, code = stream_logs(facade, name)
    assert code == 1000, lines
    assert any("creating" in line for line in lines), lines
    assert lines[-1].endswith(f"Resource {name} is active"), lines
    assert all(line.startswith("[20") and line[20] == "]" for line in lines), lines
    with facade.client("viewer") as http:
        got = http.get(f"/multicloud/resources/{name}").json()
    assert got["status"] == "active" and got["provider"] == cloud.provider
    assert got["terraform_output"].get("arn") or got["terraform_output"].get("id"), got
    uid = uid_of(kubectl, name)
    status = kubectl.get("d2cr", name, NAMESPACE)["status"]
    assert status["externalId"] and status["observedGeneration"] == 1 and status["phase"] == "Active"
    assert cloud.count(_type(config), uid) == 1
    with facade.client("operator") as http:
        deleted = http.delete(f"/multicloud/resources/{name}")
    assert deleted.status_code == 202 and deleted.json()["task_id"] == name
    wait_until(lambda: not kubectl.run("get", "d2cr", "-n", NAMESPACE, "-o", "name").stdout.count(f"/{name}\n"), 90,
               f"CloudResource {name} gone")  # fmt: skip
    assert cloud.count(_type(config), uid) == 0


def test_orphan_leaves_the_resource_and_tags_update_in_place(kubectl: Kubectl, facade: Facade, cloud: Cloud) -> None:
    name = f"cr-orphan-{uuid.uuid4().hex[:8]}"
    create(facade, cloud, "vm", name)
    wait_for_condition(kubectl, "d2cr", name, "Ready", "True", timeout=120)
    kubectl.run("patch", "d2cr", name, "-n", NAMESPACE, "--type=merge", "-p",
                json.dumps({"spec": {"tags": {"team": "api"}, "deletionPolicy": "Orphan"}}))  # fmt: skip

    def retagged() -> bool:
        obj = kubectl.get("d2cr", name, NAMESPACE)
        ready = {c["type"]: c for c in obj["status"]["conditions"]}["Ready"]
        return obj["status"].get("observedGeneration") == 2 and ready["status"] == "True" and not obj["status"]["drift"]

    wait_until(retagged, 60, "tags applied in place")
    uid = uid_of(kubectl, name)
    kubectl.run("delete", "d2cr", name, "-n", NAMESPACE, "--timeout=60s")
    assert cloud.count("vm", uid) == 1, "deletionPolicy Orphan leaves the VM"


def test_immutable_field_is_refused_by_the_apiserver(kubectl: Kubectl, facade: Facade, cloud: Cloud) -> None:
    name = f"cr-immutable-{uuid.uuid4().hex[:8]}"
    create(facade, cloud, "vm", name)
    refused = kubectl.run("patch", "d2cr", name, "-n", NAMESPACE, "--type=merge", "-p",
                          json.dumps({"spec": {"vm": {"image": "ami-other"}}}), check=False)  # fmt: skip
    assert refused.returncode != 0 and "cannot change on an existing VM" in refused.stderr
    kubectl.run("delete", "d2cr", name, "-n", NAMESPACE, "--timeout=90s")


def test_sigkill_mid_create_leaves_exactly_one(
    kubectl: Kubectl, facade: Facade, operator: DaytwoProcess, cloud: Cloud
) -> None:
    name = f"cr-crash-{uuid.uuid4().hex[:8]}"
    cloud.slow_down(4.0)  # every call to the stand-in takes 4 s: the create is in flight when the operator dies
    try:
        create(facade, cloud, "vm", name)

        def creating() -> bool:
            steps = kubectl.get("d2cr", name, NAMESPACE).get("status", {}).get("steps") or []
            return any(s["message"].startswith("creating") for s in steps)

        wait_until(creating, 120, "the operator starts the create")
        time.sleep(1.0)  # the create call has left; its answer is 3 s away
        operator.kill()
        assert not kubectl.get("d2cr", name, NAMESPACE)["status"].get("externalId"), "killed before the id was written"
    finally:
        cloud.slow_down(0.0)
        if operator.process is None or operator.process.poll() is not None:
            operator.start()
    wait_for_condition(kubectl, "d2cr", name, "Ready", "True", timeout=180)
    uid = uid_of(kubectl, name)
    assert cloud.count("vm", uid) == 1
    kubectl.run("delete", "d2cr", name, "-n", NAMESPACE, "--timeout=120s")
    assert cloud.count("vm", uid) == 0
