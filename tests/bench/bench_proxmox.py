"""Benchmark: full guest-inventory refresh passes through the Proxmox backend against fakepve over TLS.

    python -m tests.bench.bench_proxmox --out bench-proxmox.json [--nodes 10] [--guests 500] [--passes 5]

Layout: ONE fakepve endpoint with --nodes nodes x --guests guests per node (10 x 500 = 5000 guests),
served over TLS by ``python -m tests.standins.proxmox`` in a child process, so the stand-in does not
share this process's CPU time (GIL) or memory. Two passes are measured:

- ``cluster_resources``: version + cluster status + nodes + each node's status + every guest from one
  /cluster/resources call, then counts (what a ProxmoxNode status refresh does);
- ``per_node_parallel``: the same, but guests from each node's qemu and lxc lists, fetched from a
  thread pool through the per-endpoint concurrency limit (--concurrency).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from daytwo.operator.backends.proxmox import (
    Guest,
    ProxmoxClientFactory,
    ProxmoxConnectionParams,
    ProxmoxerBackend,
)

from tests.bench.common import check, check_that, write_result


def _start_standin(nodes: int, guests: int, workdir: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    ca, token = os.path.join(workdir, "ca.pem"), os.path.join(workdir, "token.json")
    cmd = [
        sys.executable,
        "-m",
        "tests.standins.proxmox",
        "--port",
        "0",
        "--nodes",
        str(nodes),
        "--guests",
        str(guests),
        "--write-ca",
        ca,
        "--write-token",
        token,
    ]
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=repo_root)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline() or "{}")
    if "port" not in ready:
        proc.kill()
        raise SystemExit("the Proxmox stand-in did not start")
    with open(ca, encoding="ascii") as handle:
        ready["ca_pem"] = handle.read()
    with open(token, encoding="utf-8") as handle:
        ready.update(json.load(handle))
    return proc, ready


def _refresh_cluster(client: ProxmoxerBackend, pool: ThreadPoolExecutor) -> list[Guest]:
    client.version()
    client.cluster_status()
    nodes = client.nodes()
    list(pool.map(client.node_status, [n.node for n in nodes]))
    guests = client.guests()
    client.guest_counts(guests)
    return guests


def _refresh_per_node(client: ProxmoxerBackend, pool: ThreadPoolExecutor) -> list[Guest]:
    client.version()
    client.cluster_status()
    nodes = [n.node for n in client.nodes()]
    list(pool.map(client.node_status, nodes))
    guests = [g for per_node in pool.map(client.guests, nodes) for g in per_node]
    client.guest_counts(guests)
    return guests


def _measure(
    name: str,
    client: ProxmoxerBackend,
    passes: int,
    concurrency: int,
    refresh: Callable[[ProxmoxerBackend, ThreadPoolExecutor], list[Guest]],
) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        refresh(client, pool)  # warm-up: TLS handshakes, pooled connections
        calls_before = client.calls_made
        walls: list[float] = []
        guests = 0
        for _ in range(passes):
            started = time.perf_counter()
            guests = len(refresh(client, pool))
            walls.append(time.perf_counter() - started)
    median = statistics.median(walls)
    return {
        "name": name,
        "passes": passes,
        "wall_seconds": {
            "min": round(min(walls), 4),
            "median": round(median, 4),
            "max": round(max(walls), 4),
        },
        "calls_made": client.calls_made - calls_before,
        "calls_per_pass": (client.calls_made - calls_before) // passes,
        "guests": guests,
        "throughput_per_s": round(guests / median, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    """Run the benchmark and write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON report path")
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--guests", type=int, default=500, help="guests per node")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4, help="per-endpoint limit and worker threads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="daytwo-bench-pve-") as workdir:
        proc, standin = _start_standin(args.nodes, args.guests, workdir)
        factory = ProxmoxClientFactory(max_concurrency=args.concurrency)
        try:
            params = ProxmoxConnectionParams(
                standin["host"],
                port=standin["port"],
                token_id=standin["token_id"],
                token_secret=standin["token_secret"],
                ca_bundle_pem=standin["ca_pem"],
                timeout_seconds=60,
            )
            client = factory.get(params)
            results = [
                _measure("cluster_resources", client, args.passes, args.concurrency, _refresh_cluster),
                _measure("per_node_parallel", client, args.passes, args.concurrency, _refresh_per_node),
            ]
        finally:
            factory.close()
            proc.terminate()
            proc.wait(30)
    checks = [check(f"{r['name']}: guests per pass", r["guests"], args.nodes * args.guests) for r in results]
    checks += [
        check_that(f"{r['name']}: calls per pass", r["calls_per_pass"], r["calls_per_pass"] > 0, "> 0") for r in results
    ]
    write_result(
        Path(args.out),
        "bench_proxmox",
        checks,
        layout=f"one fakepve endpoint (TLS, child process) with {args.nodes} nodes x {args.guests} guests",
        concurrency=args.concurrency,
        results=results,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        standin_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    )


if __name__ == "__main__":
    main()
