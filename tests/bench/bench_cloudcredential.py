"""Benchmark: the operator syncing a CloudCredential's inventory of 10,000 EC2 instances into ConfigMaps.

    python -m tests.bench.bench_cloudcredential --out cloudcredential.json [--instances 10000] [--passes 3]

The operator-level twin of bench_cloud_inventory: a real control plane, the operator as a process, moto
(IAM auth on) in a child process seeded with --instances instances. moto pages DescribeInstances by
reservation and the operator asks for 1,000 per page (the EC2 maximum), so --batch 1 (one instance per
reservation) gives real EC2's pages of 1,000 instances; seeding is slower that way. A pass = a reconcile request on the
credential until it is echoed with a fresh inventory.lastSyncTime (validation + every DescribeInstances
page + normalising + chunking + ConfigMap writes + status). Reports wall time per pass, the ConfigMaps
and bytes written, and the operator's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.harness.controlplane import LocalControlPlane
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import CREDENTIAL_LABELS

from .bench_cloud_inventory import _start_moto
from .common import check, check_that, peak_rss_mb_of, write_result
from .kube import install_crds

NS = "bench"


def _status(kubectl: Kubectl) -> dict[str, Any]:
    status: dict[str, Any] = kubectl.get("d2cc", "aws", NS).get("status") or {}
    return status


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1, help="instances per reservation (moto pages by reservation)")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    moto, ready, _ = _start_moto(args.instances, args.batch)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-cc-") as tmp,
            LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
        ):
            kubectl = Kubectl(plane.kubeconfig)
            install_crds(kubectl, ["cloudcredentials"])
            kubectl.run("create", "namespace", NS)
            operator = DaytwoProcess(
                "daytwo-operator", plane.kubeconfig, Path(tmp) / "operator.log", env={"DAYTWO_LOG_LEVEL": "WARNING"}
            ).start()
            items = [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "aws", "namespace": NS, "labels": dict(CREDENTIAL_LABELS)},
                    "stringData": {
                        "accessKeyId": ready["access_key_id"],
                        "secretAccessKey": ready["secret_access_key"],
                    },
                },
                {
                    "apiVersion": "daytwo.io/v1alpha1",
                    "kind": "CloudCredential",
                    "metadata": {"name": "aws", "namespace": NS},
                    "spec": {
                        "provider": "aws",
                        "secretRef": {"name": "aws"},
                        "aws": {"region": ready["region"], "endpointUrl": ready["url"], "allowInsecureHttp": True},
                        "inventory": {"enabled": True, "intervalSeconds": 86400, "kinds": ["vms"]},
                    },
                },
            ]
            try:
                started = time.perf_counter()
                kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

                def synced() -> bool:
                    counts = (_status(kubectl).get("inventory") or {}).get("counts") or {}
                    return bool(counts.get("vms") == args.instances)

                wait_until(synced, 600, "the first inventory", interval=0.5)
                walls = [time.perf_counter() - started]
                for index in range(args.passes):
                    before = _status(kubectl)["inventory"]["lastSyncTime"]
                    time.sleep(1.1)  # lastSyncTime has one-second resolution
                    token = f"bench-{index}"
                    begun = time.perf_counter()
                    kubectl.run(
                        "annotate", "d2cc", "aws", "-n", NS, f"daytwo.io/reconcile-requested-at={token}", "--overwrite"
                    )

                    def echoed(token: str = token, before: str = before) -> bool:
                        status = _status(kubectl)
                        return (
                            status.get("lastHandledReconcileAt") == token
                            and status["inventory"]["lastSyncTime"] != before
                        )

                    wait_until(echoed, 600, f"pass {index}", interval=0.2)
                    walls.append(time.perf_counter() - begun)
                maps = json.loads(
                    kubectl.run("get", "configmaps", "-n", NS, "-l", "daytwo.io/credential=aws", "-o", "json").stdout
                )
                sizes = [sum(len(v.encode()) for v in (cm.get("data") or {}).values()) for cm in maps["items"]]
                operator_rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
                synced = (_status(kubectl).get("inventory") or {}).get("counts", {}).get("vms")
                moto_rss = peak_rss_mb_of(moto.pid)
            finally:
                operator.stop()
    finally:
        moto.send_signal(signal.SIGTERM)
        try:
            moto.wait(30)
        except subprocess.TimeoutExpired:
            moto.kill()
    checks = [
        check("passes measured", len(walls), args.passes + 1),
        check("instances in status.inventory.counts.vms", synced, args.instances),
        check_that("inventory ConfigMaps", len(sizes), len(sizes) > 0, "> 0"),
    ]
    write_result(
        args.out,
        "cloudcredential_inventory_operator",
        checks,
        instances=args.instances,
        first_sync_seconds=round(walls[0], 3),
        resync_seconds=[round(w, 3) for w in walls[1:]],
        resync_seconds_median=round(statistics.median(walls[1:]), 3) if walls[1:] else None,
        configmaps=len(sizes),
        configmap_bytes=sizes,
        operator_peak_rss_mb=operator_rss,
        moto_peak_rss_mb=moto_rss,
    )


if __name__ == "__main__":
    main()
