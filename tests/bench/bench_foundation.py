"""Benchmark: the operator reconciling many objects on the real control plane.

    python -m tests.bench.bench_foundation --out foundation.json [--objects 500]

Creates one CloudCredential and N DriftRules referencing it, and measures the wall time from the
first create until every rule reports observedGeneration (reference checks + status patch per object),
the operator's peak RSS, and objects/s. Run with a warm control-plane build cache.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tests.harness.controlplane import REPO, LocalControlPlane
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until

from .common import peak_rss_mb_of, write_result

NAMESPACE = "bench"


def rules(count: int) -> str:
    """A List manifest of ``count`` DriftRules in one document (one kubectl call)."""
    items = [
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "DriftRule",
            "metadata": {"name": f"rule-{index:05d}", "namespace": NAMESPACE},
            "spec": {
                "target": {"credentialsRef": {"name": "bench"}, "resourceType": "server"},
                "field": "flavor_id",
                "severity": "warning",
            },
        }
        for index in range(count)
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--objects", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, LocalControlPlane(state_dir=Path(state)) as plane:
        kubectl = Kubectl(plane.kubeconfig)
        kubectl.apply(REPO / "crds" / "generated")
        kubectl.run("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=daytwo")
        kubectl.run("create", "namespace", NAMESPACE)
        credential = json.loads(Path(REPO / "tests" / "bench" / "bench-credential.json").read_text())
        kubectl.apply(json.dumps(credential))
        operator = DaytwoProcess(
            "daytwo-operator",
            plane.kubeconfig,
            Path(state) / "operator.log",
            env={"DAYTWO_RESYNC_SECONDS": "3600", "DAYTWO_LOG_LEVEL": "WARNING"},
        ).start()
        start = time.monotonic()
        kubectl.apply(rules(args.objects))

        def all_reconciled() -> bool:
            listed = json.loads(kubectl.run("get", "d2dr", "-n", NAMESPACE, "-o", "json").stdout)["items"]
            done = [item for item in listed if item.get("status", {}).get("observedGeneration")]
            return len(done) == args.objects

        wait_until(all_reconciled, 600, f"{args.objects} DriftRules reconciled", interval=0.5)
        wall = time.monotonic() - start
        rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
        operator.stop()
    write_result(
        args.out,
        "foundation-operator-reconcile",
        objects=args.objects,
        wall_seconds=round(wall, 2),
        throughput_per_s=round(args.objects / wall, 1),
        operator_peak_rss_mb=rss,
        note="N DriftRules created -> all have status.observedGeneration (one daemon pass each)",
    )


if __name__ == "__main__":
    main()
