"""Benchmark: the 22 built-in DriftRules evaluating the OpenStack stand-in's ``large`` estate.

    python -m tests.bench.bench_drift --out drift.json [--changed-percent 1]

Real control plane, the operator as a process, the stand-in (seed ``large``: servers, volumes,
snapshots, networks, subnets, ports, floating IPs, security groups) in its own process. Measures:
1. the first pass of all 22 rules (baselines written to ConfigMaps);
2. a pass with no changes (reconcile request on every rule until all echo it);
3. a pass after ``--changed-percent`` of the servers and volumes changed: DriftEvents per second.
Reports wall times, resources evaluated and the operator's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from daytwo.operator.backends.openstack import OpenStackConnectionParams, connect

from tests.bench.bench_openstack import start_standin
from tests.bench.common import check, check_that, peak_rss_mb_of, write_result
from tests.bench.kube import install_crds
from tests.harness.controlplane import LocalControlPlane
from tests.harness.driftrules import builtin_drift_rules
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import CREDENTIAL_LABELS
from tests.standins.openstack.seed import ADMIN_PASSWORD

NS = "bench"


def manifests(base: str) -> list[dict[str, Any]]:
    """Secret, CloudCredential and the 22 built-in rules (names as the chart gives them)."""
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "openstack", "namespace": NS, "labels": dict(CREDENTIAL_LABELS)},
            "stringData": {"username": "admin", "password": ADMIN_PASSWORD},
        },
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "CloudCredential",
            "metadata": {"name": "openstack", "namespace": NS},
            "spec": {
                "provider": "openstack",
                "secretRef": {"name": "openstack"},
                "openstack": {"authUrl": f"{base}/identity/v3", "projectName": "admin", "allowInsecureHttp": True},
            },
        },
    ]
    items += builtin_drift_rules(NS, "openstack", 86400)
    return items


def rules_status(kubectl: Kubectl) -> list[dict[str, Any]]:
    """Status of every rule in the namespace."""
    items = json.loads(kubectl.run("get", "d2dr", "-n", NS, "-o", "json").stdout)["items"]
    return [item.get("status", {}) for item in items]


def distinct_resources(kubectl: Kubectl) -> dict[str, int]:
    """Resources per type (what one rule of each type compared), and their total."""
    items = json.loads(kubectl.run("get", "d2dr", "-n", NS, "-o", "json").stdout)["items"]
    per_type: dict[str, int] = {}
    for item in items:
        per_type[item["spec"]["target"]["resourceType"]] = item["status"]["resourcesEvaluated"]
    return {**dict(sorted(per_type.items())), "total": sum(per_type.values())}


def timed_pass(kubectl: Kubectl, token: str, timeout: float = 900) -> float:
    """Request a pass of every rule; seconds until all of them echoed the request."""
    time.sleep(6)  # past the shared-listing window: every pass lists afresh
    start = time.monotonic()
    kubectl.run("annotate", "--overwrite", "d2dr", "--all", "-n", NS, f"daytwo.io/reconcile-requested-at={token}")
    wait_until(
        lambda: all(status.get("lastHandledReconcileAt") == token for status in rules_status(kubectl)),
        timeout,
        f"every rule to handle {token}",
        interval=0.2,
    )
    return time.monotonic() - start


def change_some(base: str, percent: float) -> int:
    """Change ``percent`` of the servers (status) and volumes (size) behind the API's back."""
    rng = random.Random(7)
    cloud = connect(
        OpenStackConnectionParams(
            auth_url=f"{base}/identity/v3", username="admin", password=ADMIN_PASSWORD, project_name="admin"
        )
    )
    servers, volumes = cloud.list_servers(), cloud.list_volumes()
    changed = 0
    with httpx.Client(timeout=30) as client:
        for server in rng.sample(servers, int(len(servers) * percent / 100)):
            client.patch(f"{base}/_standin/objects/servers/{server.id}", json={"status": "ERROR"}).raise_for_status()
            changed += 1
        for volume in rng.sample(volumes, int(len(volumes) * percent / 100)):
            client.patch(
                f"{base}/_standin/objects/volumes/{volume.id}", json={"size": volume.size_gb + 1}
            ).raise_for_status()
            changed += 1
    return changed


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    args = parser.parse_args()
    standin, base = start_standin("large")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp,
            LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
        ):
            kubectl = Kubectl(plane.kubeconfig)
            install_crds(kubectl, ["driftrules", "driftevents", "cloudcredentials"])
            kubectl.run("create", "namespace", NS)
            operator = DaytwoProcess(
                "daytwo-operator", plane.kubeconfig, Path(tmp) / "operator.log", env={"DAYTWO_LOG_LEVEL": "WARNING"}
            ).start()
            start = time.monotonic()
            kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests(base)}))
            wait_until(
                lambda: (
                    len(statuses := rules_status(kubectl)) == 22
                    and all(status.get("resourcesEvaluated") is not None for status in statuses)
                ),
                900,
                "the first pass (baselines) of all 22 rules",
                interval=0.5,
            )
            first = time.monotonic() - start
            evaluated = sum(status["resourcesEvaluated"] for status in rules_status(kubectl))
            distinct = distinct_resources(kubectl)
            quiet = timed_pass(kubectl, "quiet")
            events_before = len(json.loads(kubectl.run("get", "d2de", "-n", NS, "-o", "json").stdout)["items"])
            changed = change_some(base, args.changed_percent)
            changed_wall = timed_pass(kubectl, "changed")
            events = len(json.loads(kubectl.run("get", "d2de", "-n", NS, "-o", "json").stdout)["items"])
            rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
            final = rules_status(kubectl)
            operator.stop()
    finally:
        standin.terminate()
        standin.wait(timeout=30)
    ready = [c.get("status") for status in final for c in status.get("conditions", []) if c.get("type") == "Ready"]
    checks = [
        check("rules", len(final), 22),
        check("rules Ready=True", ready.count("True"), 22),
        check_that("resources evaluated per pass", evaluated, evaluated > 0, "> 0"),
        check_that("resources changed", changed, changed > 0, "> 0"),
        check_that("DriftEvents created by the changed pass", events - events_before, events > events_before, "> 0"),
    ]
    write_result(
        args.out,
        "drift-22-builtin-rules-large-estate",
        checks,
        rules=22,
        distinct_resources=distinct,
        resources_evaluated_per_pass=evaluated,
        first_pass_seconds=round(first, 2),
        no_change_pass_seconds=round(quiet, 2),
        events_before_changes=events_before,
        resources_changed=changed,
        changed_pass_seconds=round(changed_wall, 2),
        events_created=events - events_before,
        events_per_second=round((events - events_before) / changed_wall, 1),
        operator_peak_rss_mb=rss,
        note="a pass = reconcile request on every rule until all echo it (listing through openstacksdk, "
        "comparison, DriftEvent creates, baseline ConfigMaps); resources_evaluated sums over rules",
    )


if __name__ == "__main__":
    main()
