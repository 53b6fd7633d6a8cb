"""Benchmark: one SnapshotPolicy run over ~1,000 OpenStack volumes, and a repeated run-now in the same slot.

    python -m tests.bench.bench_snapshotpolicy --out snapshotpolicy.json [--volumes 1000]

Real control plane, the operator as a process, the stand-in (seed ``large``, real clock so snapshots
become available) in its own process. The policy targets whole projects until about ``--volumes``
volumes are covered. Measures the first run (one snapshot per volume, waited until available, SLA
computed) and a second run-now in the same slot (every snapshot found by name: nothing created).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from daytwo.operator.backends.openstack import OpenStackConnectionParams, connect

from tests.bench.bench_openstack import start_standin
from tests.bench.common import peak_rss_mb_of, write_result
from tests.harness.controlplane import REPO, LocalControlPlane
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


def run_now(kubectl: Kubectl, token: str, timeout: float = 1800) -> tuple[float, dict[str, Any]]:
    """Request a run; seconds until it was handled and finished, and the status."""
    start = time.monotonic()
    kubectl.run("annotate", "--overwrite", "d2sp", "bench", "-n", NS, f"daytwo.io/reconcile-requested-at={token}")

    def done() -> bool:
        status = kubectl.get("d2sp", "bench", NS).get("status", {})
        return status.get("lastHandledReconcileAt") == token and not status.get("currentRun")

    wait_until(done, timeout, f"the run {token}", interval=0.5)
    return time.monotonic() - start, kubectl.get("d2sp", "bench", NS)["status"]


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--volumes", type=int, default=1000)
    args = parser.parse_args()
    standin, base = start_standin("large", clock="real")
    try:
        projects, covered = projects_covering(base, args.volumes)
        with (
            tempfile.TemporaryDirectory(prefix="bench-sp-") as tmp,
            LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
        ):
            kubectl = Kubectl(plane.kubeconfig)
            kubectl.apply(REPO / "crds" / "generated")
            kubectl.run("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=daytwo")
            kubectl.run("create", "namespace", NS)
            operator = DaytwoProcess(
                "daytwo-operator", plane.kubeconfig, Path(tmp) / "operator.log", env={"DAYTWO_LOG_LEVEL": "WARNING"}
            ).start()
            policy = {
                "apiVersion": "daytwo.io/v1alpha1",
                "kind": "SnapshotPolicy",
                "metadata": {"name": "bench", "namespace": NS},
                "spec": {
                    "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
                    "targets": {"openstack": {"projects": projects}},
                    "schedule": "0 0 1 1 *",
                    "retention": {"keepLast": 3},
                    "snapshot": {"namePrefix": "bench", "force": True},
                },
            }
            items = [*openstack_credential(NS, base=base), policy]
            kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
            wait_until(
                lambda: kubectl.get("d2sp", "bench", NS).get("status", {}).get("matchedTargets") is not None,
                300,
                "the policy to resolve its targets",
            )
            first, status = run_now(kubectl, "first")
            repeat, repeated = run_now(kubectl, "repeat")
            rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
            operator.stop()
    finally:
        standin.terminate()
        standin.wait(timeout=30)
    run = status.get("lastRun") or {}
    again = repeated.get("lastRun") or {}
    write_result(
        args.out,
        "snapshotpolicy-run-large-estate",
        projects=len(projects),
        volumes_covered=covered,
        matched_targets=status.get("matchedTargets"),
        first_run_seconds=round(first, 2),
        first_run_created=run.get("created"),
        first_run_failed=run.get("failed"),
        snapshots_per_second=round((run.get("created") or 0) / first, 1),
        repeat_run_seconds=round(repeat, 2),
        repeat_run_created=again.get("created"),
        operator_peak_rss_mb=rss,
        note="run = run-now request until the run finished (creates 8 at a time, waits for available, SLA); "
        "repeat = run-now in the same slot: every snapshot found by its deterministic name",
    )


if __name__ == "__main__":
    main()
