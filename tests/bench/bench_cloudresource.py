"""Benchmark: the operator provisioning 100 CloudResources across providers, then deleting them.

    python -m tests.bench.bench_cloudresource --out cloudresource.json [--resources 100]

A real control plane, the operator as a process, each provider's stand-in in this process (AWS: moto with
IAM auth on, its request journal counting the calls). The resources are spread round-robin over the
providers of :data:`PROVIDERS` (AWS today; Azure and GCP add theirs) and over vm / volume / bucket / network.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.controlplane import LocalControlPlane
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import CREDENTIAL_LABELS
from tests.standins.aws import run_moto

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


#: The providers the resources are spread over; Azure and GCP add theirs.
PROVIDERS: dict[str, Callable[[], contextlib.AbstractContextManager[Provider]]] = {"aws": aws_provider}


def resources(count: int, providers: list[str]) -> list[dict[str, Any]]:
    """``count`` CloudResources, round-robin over providers and shapes."""
    made = []
    for index in range(count):
        kind, block = SHAPES[index % len(SHAPES)]
        provider = providers[index % len(providers)]
        made.append(
            {
                "apiVersion": "daytwo.io/v1alpha1",
                "kind": "CloudResource",
                "metadata": {"name": f"r{index:03d}-{provider}", "namespace": NS},
                "spec": {"credentialsRef": {"name": provider}, "type": kind, **block, "tags": {"bench": "yes"}},
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
        wanted = resources(args.resources, sorted(providers))
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
