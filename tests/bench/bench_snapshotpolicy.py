"""Benchmark: one SnapshotPolicy run over ~5,000 OpenStack volumes with 50 ms per backend call.

    python -m tests.bench.bench_snapshotpolicy --out snapshotpolicy.json [--volumes 5000] [--latency 0.05]

Real control plane, the operator as a process, the stand-in (seed ``large``, real clock so snapshots
become available) in its own process. The policy targets whole projects until about ``--volumes``
volumes are covered. Every stand-in API call is delayed by ``--latency``. Measures one run-now (one
snapshot per volume, waited until available, retention, SLA computed) with the default concurrency,
then the same run with concurrency 1 as the sequential baseline.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from daytwo.operator.backends.openstack import OpenStackConnectionParams, connect

from tests.bench.bench_openstack import start_standin
from tests.bench.common import Check, check, peak_rss_mb_of, write_result
from tests.bench.kube import install_crds
from tests.harness.controlplane import LocalControlPlane
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import openstack_credential
from tests.standins.openstack.seed import ADMIN_PASSWORD

NS = "bench"


def projects_covering(base: str, volumes: int) -> tuple[list[str], int]:
    """Project names whose volumes add up to about ``volumes``, and that count."""
    cloud = connect(
        OpenStackConnectionParams(
            auth_url=f"{base}/identity/v3", username="admin", password=ADMIN_PASSWORD, project_name="admin"
        )
    )
    per_project: dict[str, int] = {}
    for volume in cloud.list_volumes():
        per_project[str(volume.project_id)] = per_project.get(str(volume.project_id), 0) + 1
    names = {project.id: project.name for project in cloud.list_projects()}
    chosen, total = [], 0
    for project_id, count in sorted(per_project.items()):
        if total >= volumes:
            break
        chosen.append(names[project_id])
        total += count
    return chosen, total


def run_now(kubectl: Kubectl, name: str, token: str, timeout: float = 1800) -> tuple[float, dict[str, Any]]:
    """Request a run of policy ``name``; seconds until it was handled and finished, and the status."""
    start = time.monotonic()
    kubectl.run("annotate", "--overwrite", "d2sp", name, "-n", NS, f"daytwo.io/reconcile-requested-at={token}")

    def done() -> bool:
        status = kubectl.get("d2sp", name, NS).get("status", {})
        return status.get("lastHandledReconcileAt") == token and not status.get("currentRun")

    wait_until(done, timeout, f"the run {token} of {name}", interval=0.5)
    return time.monotonic() - start, kubectl.get("d2sp", name, NS)["status"]


def inject_latency(base: str, seconds: float) -> None:
    """Every OpenStack API call of the stand-in answers ``seconds`` late (its control endpoints do not)."""
    body = {"path": "^/(?!_standin)", "latency": seconds, "times": None}
    httpx.post(f"{base}/_standin/faults", json=body, timeout=10).raise_for_status()


def measure(
    plane: LocalControlPlane, kubectl: Kubectl, logs: Path, projects: list[str], concurrency: int
) -> dict[str, Any]:
    """One operator with ``concurrency``, one fresh policy over ``projects``: one run-now."""
    name = f"bench-c{concurrency}"
    env = {"DAYTWO_LOG_LEVEL": "WARNING", "DAYTWO_SNAPSHOT_CONCURRENCY": str(concurrency)}
    operator = DaytwoProcess("daytwo-operator", plane.kubeconfig, logs / f"operator-{name}.log", env=env).start()
    try:
        policy = {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "SnapshotPolicy",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
                "targets": {"openstack": {"projects": projects}},
                "schedule": "0 0 1 1 *",
                "retention": {"keepLast": 3},
                "snapshot": {"namePrefix": "bench", "force": True},
            },
        }
        kubectl.apply(json.dumps(policy))
        wait_until(
            lambda: kubectl.get("d2sp", name, NS).get("status", {}).get("matchedTargets") is not None,
            600,
            "the policy to resolve its targets",
        )
        seconds, status = run_now(kubectl, name, "first")
        result: dict[str, Any] = {"concurrency": concurrency, "matched_targets": status.get("matchedTargets")}
        run = status.get("lastRun") or {}
        result |= {
            "run_seconds": round(seconds, 2),
            "created": run.get("created"),
            "failed": run.get("failed"),
            "snapshots_per_second": round((run.get("created") or 0) / seconds, 1),
        }
        result["operator_peak_rss_mb"] = peak_rss_mb_of(operator.process.pid) if operator.process else None
        return result
    finally:
        operator.stop()


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--volumes", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every OpenStack call")
    parser.add_argument("--concurrency", type=int, default=8, help="DAYTWO_SNAPSHOT_CONCURRENCY of the main run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the sequential (concurrency 1) run")
    args = parser.parse_args()
    standin, base = start_standin("large", clock="real")
    try:
        projects, covered = projects_covering(base, args.volumes)
        inject_latency(base, args.latency)
        with (
            tempfile.TemporaryDirectory(prefix="bench-sp-") as tmp,
            LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
        ):
            kubectl = Kubectl(plane.kubeconfig)
            install_crds(kubectl, ["snapshotpolicies", "cloudcredentials"])
            kubectl.run("create", "namespace", NS)
            kubectl.apply(
                json.dumps({"apiVersion": "v1", "kind": "List", "items": openstack_credential(NS, base=base)})
            )
            concurrent = measure(plane, kubectl, Path(tmp), projects, args.concurrency)
            sequential = None if args.no_baseline else measure(plane, kubectl, Path(tmp), projects, 1)
    finally:
        standin.terminate()
        standin.wait(timeout=30)
    checks: list[Check] = []
    for run in (concurrent, sequential):
        if run is not None:
            label = f"concurrency {run['concurrency']}"
            checks += [
                check(f"{label}: matched targets", run["matched_targets"], covered),
                check(f"{label}: snapshots created", run["created"], covered),
                check(f"{label}: snapshots failed", run["failed"], 0),
            ]
    write_result(
        args.out,
        "snapshotpolicy-run-large-estate",
        checks,
        projects=len(projects),
        volumes_covered=covered,
        injected_latency_seconds=args.latency,
        concurrent=concurrent,
        sequential_baseline=sequential,
        note="run = run-now request until the run finished (lists, creates N at a time, waits until available, "
        "retention, SLA), every stand-in call delayed by the injected latency; sequential = the same run with "
        "concurrency 1",
    )


if __name__ == "__main__":
    main()
