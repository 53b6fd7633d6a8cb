"""Benchmark: the operator provisioning 100 CloudResources across providers, then deleting them.

    python -m tests.bench.bench_cloudresource --out cloudresource.json [--resources 100]

A real control plane, the operator as a process, each provider's stand-in in this process (AWS: moto with
IAM auth on, its request journal counting the calls). The resources are spread round-robin over the
providers of :data:`PROVIDERS` (AWS on moto, Azure and GCP on their TLS stand-ins, whose journals count the
API calls) and over vm / volume / bucket / network.
Measures the wall time until every one is Ready (and until every one is gone after deletion), the provider
calls per resource (create + polls + status outputs; delete), and the operator's peak RSS; checks that the
stand-ins hold exactly one resource per CloudResource, and none after deletion.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness.controlplane import LocalControlPlane
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import CREDENTIAL_LABELS
from tests.standins.aws import run_moto
from tests.standins.azure import run_azure
from tests.standins.gcp import run_gcp

from .common import check, peak_rss_mb_of, write_result
from .kube import install_crds

NS = "bench"
AMI = "ami-12c6146b"
SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("vm", {"vm": {"size": "t3.micro", "image": AMI}}),
    ("storage", {"storage": {"kind": "volume", "sizeGb": 8}}),
    ("storage", {"storage": {"kind": "bucket"}}),
    ("network", {"network": {"cidr": "10.70.0.0/16", "subnets": [{"name": "a", "cidr": "10.70.1.0/24"}]}}),
]


@dataclass
class Provider:
    """One provider's stand-in, credential and call/resource counters."""

    name: str
    credential: list[dict[str, Any]]  # the Secret and the CloudCredential
    calls: Callable[[], int]  # provider API calls so far
    owned: Callable[[], int]  # resources carrying a daytwo-owner tag now
    adapt: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda spec: spec)  # its own values in a spec


@contextlib.contextmanager
def aws_provider() -> Iterator[Provider]:
    """moto with IAM auth on; the admin user provisions."""
    with run_moto() as aws:
        ec2, s3 = aws.admin("ec2"), aws.admin("s3")

        def owned() -> int:
            tagged = [{"Name": "tag-key", "Values": ["daytwo-owner"]}]
            live = [*tagged, {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
            instances = sum(len(r["Instances"]) for r in ec2.describe_instances(Filters=live)["Reservations"])
            volumes = [
                v for v in ec2.describe_volumes(Filters=tagged)["Volumes"] if not v.get("Attachments")
            ]  # an instance's root volume is tagged too
            vpcs = len(ec2.describe_vpcs(Filters=tagged)["Vpcs"])
            buckets = len([b for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("d2-")])
            return instances + len(volumes) + vpcs + buckets

        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "aws", "namespace": NS, "labels": dict(CREDENTIAL_LABELS)},
            "stringData": {"accessKeyId": aws.admin_access_key_id, "secretAccessKey": aws.admin_secret_access_key},
        }
        credential = {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "CloudCredential",
            "metadata": {"name": "aws", "namespace": NS},
            "spec": {
                "provider": "aws",
                "secretRef": {"name": "aws"},
                "aws": {"region": aws.region, "endpointUrl": aws.url, "allowInsecureHttp": True},
            },
        }
        journal = aws.server.journal
        yield Provider("aws", [secret, credential], lambda: sum(e.service != "iam" for e in journal()), owned)


SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRheXR3by1iZW5jaC1rZXktbm90LWEtcmVhbC1vbmUhIQ daytwo@bench"


def _tls_credential(name: str, provider: str, data: dict[str, str], block: dict[str, Any], ca_pem: str) -> list[
        dict[str, Any]]:  # fmt: skip
    """The Secret, the CA Secret and the CloudCredential of a TLS stand-in."""
    labels = dict(CREDENTIAL_LABELS)
    secrets = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": n, "namespace": NS, "labels": labels},
         "stringData": d}
        for n, d in ((name, data), (f"{name}-ca", {"ca.crt": ca_pem}))
    ]  # fmt: skip
    block = {**block, "caSecretRef": {"name": f"{name}-ca", "key": "ca.crt"}}
    credential = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "CloudCredential",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"provider": provider, "secretRef": {"name": name}, provider: block},
    }
    return [*secrets, credential]


def _api_calls(journal: Any) -> int:
    """Journal entries that are API calls (not token grants or Entra discovery)."""
    return sum(
        1 for e in journal.entries() if "/oauth2/" not in e.path and e.path != "/token" and "/v2.0/" not in e.path
    )


@contextlib.contextmanager
def azure_provider() -> Iterator[Provider]:
    """The Entra + ARM stand-in; resources in westeurope, VMs on a seeded subnet."""
    with run_azure(vms=0, disks=0, vnets=0) as az:
        az.add_network("daytwo", "bench-vnet", "10.80.0.0/16", {"vms": "10.80.0.0/20"})
        types = ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/disks", "Microsoft.Storage/storageAccounts",
                 "Microsoft.Network/virtualNetworks")  # fmt: skip

        def owned() -> int:
            return sum(1 for t in types for item in az.live(t) if "daytwo-owner" in (item.get("tags") or {}))

        def adapt(spec: dict[str, Any]) -> dict[str, Any]:
            if spec["type"] == "vm":
                vm = {"size": "Standard_B1s", "image": "Canonical:ubuntu-24_04-lts:server:latest"}
                spec["vm"] = {**vm, "subnet": "bench-vnet/vms", "keyName": SSH_KEY}
            return {**spec, "region": "westeurope"}

        block = {"tenantId": az.tenant_id, "subscriptionId": az.subscription_id, "authorityHost": az.url,
                 "managementEndpoint": az.url}  # fmt: skip
        secret = {"clientId": az.client_id, "clientSecret": az.client_secret}
        credential = _tls_credential("azure", "azure", secret, block, az.ca_pem)
        yield Provider("azure", credential, lambda: _api_calls(az.journal), owned, adapt)


@contextlib.contextmanager
def gcp_provider() -> Iterator[Provider]:
    """The OAuth + Compute + Cloud Storage stand-in; resources in us-central1 (zone us-central1-a)."""
    with run_gcp(instances=0, disks=0, networks=1) as gcp:

        def owned() -> int:
            with gcp.estate.lock:
                items = [*gcp.estate.instances, *gcp.estate.disks, *gcp.estate.writes.buckets.values()]
                networks = sum(1 for n in gcp.estate.networks if "daytwo-owner=" in str(n.get("description", "")))
            return networks + sum(1 for i in items if "daytwo-owner" in (i.get("labels") or {}))

        def adapt(spec: dict[str, Any]) -> dict[str, Any]:
            if spec["type"] == "vm":
                spec["vm"] = {"size": "e2-small", "image": "projects/debian-cloud/global/images/family/debian-12"}
            return {**spec, "region": "us-central1"}

        block = {"projectId": gcp.project_id, "endpointOverride": gcp.url, "tokenUriOverride": gcp.token_uri}
        credential = _tls_credential("gcp", "gcp", {"serviceAccountJson": gcp.service_account_json}, block, gcp.ca_pem)
        yield Provider("gcp", credential, lambda: _api_calls(gcp.journal), owned, adapt)


#: The providers the resources are spread over.
PROVIDERS: dict[str, Callable[[], contextlib.AbstractContextManager[Provider]]] = {
    "aws": aws_provider,
    "azure": azure_provider,
    "gcp": gcp_provider,
}


def resources(
    count: int, providers: list[str], adapt: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """``count`` CloudResources, round-robin over providers and shapes (``adapt``: per provider, its own values)."""
    made = []
    for index in range(count):
        kind, block = SHAPES[index % len(SHAPES)]
        provider = providers[index % len(providers)]
        spec = {"credentialsRef": {"name": provider}, "type": kind, **json.loads(json.dumps(block)),
                "tags": {"bench": "yes"}}  # fmt: skip
        made.append(
            {
                "apiVersion": "daytwo.io/v1alpha1",
                "kind": "CloudResource",
                "metadata": {"name": f"r{index:03d}-{provider}", "namespace": NS},
                "spec": (adapt or {})[provider](spec) if provider in (adapt or {}) else spec,
            }
        )
    return made


def _ready_count(kubectl: Kubectl) -> int:
    listed = json.loads(kubectl.run("get", "d2cr", "-n", NS, "-o", "json").stdout)["items"]
    ready = 0
    for item in listed:
        conditions = {c["type"]: c for c in (item.get("status") or {}).get("conditions") or ()}
        ready += conditions.get("Ready", {}).get("status") == "True"
    return ready


def _left(kubectl: Kubectl) -> int:
    return len(json.loads(kubectl.run("get", "d2cr", "-n", NS, "-o", "json").stdout)["items"])


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--resources", type=int, default=100)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        providers = {name: stack.enter_context(make()) for name, make in PROVIDERS.items()}
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cr-"))
        plane = stack.enter_context(LocalControlPlane(state_dir=Path(tmp) / "cluster"))
        kubectl = Kubectl(plane.kubeconfig)
        install_crds(kubectl, ["cloudcredentials", "cloudresources"])
        kubectl.run("create", "namespace", NS)
        operator = DaytwoProcess(
            "daytwo-operator", plane.kubeconfig, Path(tmp) / "operator.log", env={"DAYTWO_LOG_LEVEL": "WARNING"}
        ).start()
        stack.callback(operator.stop)
        for provider in providers.values():
            kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": provider.credential}))
        wait_until(
            lambda: all(
                any(c["type"] == "Ready" and c["status"] == "True" for c in
                    (kubectl.get("d2cc", name, NS).get("status") or {}).get("conditions") or ())
                for name in providers
            ),
            120,
            "the credentials Ready",
        )  # fmt: skip
        calls_before = {name: p.calls() for name, p in providers.items()}
        wanted = resources(args.resources, sorted(providers), {n: p.adapt for n, p in providers.items()})
        started = time.perf_counter()
        kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": wanted}))
        wait_until(lambda: _ready_count(kubectl) == args.resources, 900, "every CloudResource Ready", interval=1.0)
        create_seconds = time.perf_counter() - started
        ready = _ready_count(kubectl)
        create_calls = {name: p.calls() - calls_before[name] for name, p in providers.items()}
        owned_after_create = sum(p.owned() for p in providers.values())
        operator_rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
        calls_before = {name: p.calls() for name, p in providers.items()}
        started = time.perf_counter()
        kubectl.run("delete", "d2cr", "--all", "-n", NS, "--wait=false")
        wait_until(lambda: _left(kubectl) == 0, 900, "every CloudResource gone", interval=1.0)
        delete_seconds = time.perf_counter() - started
        delete_calls = {name: p.calls() - calls_before[name] for name, p in providers.items()}
        owned_after_delete = sum(p.owned() for p in providers.values())
    per_provider = {name: sum(1 for r in wanted if r["spec"]["credentialsRef"]["name"] == name) for name in providers}
    checks = [
        check("CloudResources Ready", ready, args.resources),
        check("cloud resources after create (one per CloudResource)", owned_after_create, args.resources),
        check("cloud resources after delete", owned_after_delete, 0),
    ]
    write_result(
        args.out,
        "cloudresource_provisioning",
        checks,
        resources=args.resources,
        providers=per_provider,
        create_seconds=round(create_seconds, 3),
        create_seconds_per_resource=round(create_seconds / args.resources, 4),
        delete_seconds=round(delete_seconds, 3),
        calls_per_resource_create={n: round(c / max(1, per_provider[n]), 2) for n, c in create_calls.items()},
        calls_per_resource_delete={n: round(c / max(1, per_provider[n]), 2) for n, c in delete_calls.items()},
        operator_peak_rss_mb=operator_rss,
    )


if __name__ == "__main__":
    main()
