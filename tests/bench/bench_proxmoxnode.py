"""Benchmark: the operator refreshing 10 ProxmoxNodes x 500 guests on the real control plane.

    python -m tests.bench.bench_proxmoxnode --out proxmoxnode.json [--endpoints 10] [--guests 500] [--passes 5]

Starts --endpoints fakepve stand-ins over TLS (2 nodes each, --guests guests in all), one ProxmoxNode per
endpoint, and the operator. A pass = a reconcile request on every ProxmoxNode until all of them echo it
(full inventory through the backend + status write). Reports wall time per pass and operator peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.harness.controlplane import REPO, LocalControlPlane, free_port
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import spawn, stop, wait_until
from tests.harness.standins import CREDENTIAL_LABELS

from .common import check, peak_rss_mb_of, write_result
from .kube import install_crds

NS = "bench"
SECRET = "0a6d7f58-95a4-4d4e-9a3b-6c1f2e3d4b5a"


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--guests", type=int, default=500)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-pn-") as tmp,
        LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
    ):
        state = Path(tmp)
        kubectl = Kubectl(plane.kubeconfig)
        install_crds(kubectl, ["proxmoxnodes"])
        kubectl.run("create", "namespace", NS)
        standins, ports = [], []
        for index in range(args.endpoints):
            port = free_port()
            ca = state / f"ca-{index}.pem"
            standins.append(
                spawn(
                    [
                        sys.executable,
                        "-m",
                        "tests.standins.proxmox",
                        "--port",
                        str(port),
                        "--nodes",
                        "2",
                        "--guests",
                        str(args.guests // 2),
                        "--token-secret",
                        SECRET,
                        "--write-ca",
                        str(ca),
                    ],
                    state / f"pve-{index}.log",
                    cwd=REPO,
                )
            )
            ports.append((port, ca))
        for port, ca in ports:
            wait_until(ca.exists, 60, f"fakepve on {port}")
        items = []
        for index, (port, ca) in enumerate(ports):
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": f"pve-{index}", "namespace": NS, "labels": dict(CREDENTIAL_LABELS)},
                    "stringData": {"tokenId": "daytwo@pve!operator", "tokenSecret": SECRET, "ca.crt": ca.read_text()},
                }
            )
            items.append(
                {
                    "apiVersion": "daytwo.io/v1alpha1",
                    "kind": "ProxmoxNode",
                    "metadata": {"name": f"pve-{index}", "namespace": NS, "labels": dict(CREDENTIAL_LABELS)},
                    "spec": {
                        "host": "127.0.0.1",
                        "port": port,
                        "tokenSecretRef": {"name": f"pve-{index}"},
                        "tls": {"caSecretRef": {"name": f"pve-{index}", "key": "ca.crt"}},
                        "inventoryIntervalSeconds": 3600,
                    },
                }
            )
        operator = DaytwoProcess(
            "daytwo-operator", plane.kubeconfig, state / "operator.log", env={"DAYTWO_LOG_LEVEL": "WARNING"}
        ).start()
        kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

        def all_echo(token: str) -> bool:
            listed = json.loads(kubectl.run("get", "d2pn", "-n", NS, "-o", "json").stdout)["items"]
            return sum(item.get("status", {}).get("lastHandledReconcileAt") == token for item in listed) == len(ports)

        def ready() -> bool:
            listed = json.loads(kubectl.run("get", "d2pn", "-n", NS, "-o", "json").stdout)["items"]
            return all(item.get("status", {}).get("guestCounts", {}).get("vms", 0) > 0 for item in listed) and len(
                listed
            ) == len(ports)

        try:
            wait_until(ready, 120, "every ProxmoxNode to have its first inventory", interval=0.5)
        except TimeoutError:
            print(
                kubectl.run("get", "d2pn", "-n", NS, "-o", "yaml").stdout[-3000:],
                operator.log()[-3000:],
                file=sys.stderr,
            )
            raise
        walls = []
        for number in range(args.passes):
            token = f"pass-{number}"
            start = time.monotonic()
            kubectl.run(
                "annotate", "--overwrite", "d2pn", "--all", "-n", NS, f"daytwo.io/reconcile-requested-at={token}"
            )
            try:
                wait_until(lambda token=token: all_echo(token), 300, f"pass {number}", interval=0.1)
            except TimeoutError:
                print(operator.log()[-5000:], file=sys.stderr)
                raise
            walls.append(time.monotonic() - start)
        rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
        final = json.loads(kubectl.run("get", "d2pn", "-n", NS, "-o", "json").stdout)["items"]
        operator.stop()
        for process in standins:
            stop(process)
    guests_total = args.endpoints * args.guests
    counted = sum(
        c.get("vms", 0) + c.get("containers", 0) for c in (i.get("status", {}).get("guestCounts", {}) for i in final)
    )
    checks = [
        check("ProxmoxNodes", len(final), args.endpoints),
        check("guests counted (vms + containers)", counted, guests_total),
        check("passes measured", len(walls), args.passes),
    ]
    write_result(
        args.out,
        "proxmoxnode-operator-refresh",
        checks,
        endpoints=args.endpoints,
        guests_per_endpoint=args.guests,
        passes=args.passes,
        wall_seconds_per_pass={"min": round(min(walls), 2), "median": round(statistics.median(walls), 2)},
        throughput_guests_per_s=round(guests_total / statistics.median(walls)),
        operator_peak_rss_mb=rss,
        note="a pass = reconcile request on every ProxmoxNode until all echo it (inventory + status write)",
    )


if __name__ == "__main__":
    main()
