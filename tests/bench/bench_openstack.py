"""Benchmark: list 20,000 volumes and 10,000 servers with details through the OpenStack backend.

    python -m tests.bench.bench_openstack --out bench-openstack.json

Starts the stand-in (seed ``large``) in a subprocess, so only the backend's cost lands in this
process's peak RSS. Writes {name, wall_seconds, calls_made, items, throughput_per_s, peak_rss_mb, ...}.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from daytwo.operator.backends.openstack import (
    OpenStackClients,
    OpenStackClientSettings,
    OpenStackConnectionParams,
    SdkOpenStackBackend,
)

from tests.bench.common import check, check_that, own_peak_rss_mb, peak_rss_mb_of, write_result
from tests.standins.openstack.seed import ADMIN_PASSWORD, SIZES

ROOT = Path(__file__).resolve().parents[2]


def start_standin(seed: str, clock: str = "manual") -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m tests.standins.openstack`` and return (process, base URL) once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.standins.openstack", "--port", "0", "--seed", seed, "--clock", clock],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", process.stdout.readline())
    if match is None:
        process.kill()
        raise RuntimeError("the stand-in did not report its address")
    base = match.group(1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/_standin/health", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the stand-in did not become healthy")


def run(seed: str) -> dict[str, Any]:
    """Measure one full listing of volumes and servers."""
    started = time.monotonic()
    process, base = start_standin(seed)
    startup = time.monotonic() - started
    try:
        params = OpenStackConnectionParams(
            auth_url=f"{base}/identity/v3", username="admin", password=ADMIN_PASSWORD, project_name="admin",
            region="RegionOne", timeout_seconds=60,
        )  # fmt: skip
        clients = OpenStackClients(OpenStackClientSettings())
        backend = SdkOpenStackBackend(params, clients)
        httpx.delete(f"{base}/_standin/journal")
        t0 = time.perf_counter()
        volumes = backend.list_volumes()
        t1 = time.perf_counter()
        servers = backend.list_servers()
        t2 = time.perf_counter()
        calls = int(httpx.get(f"{base}/_standin/journal").json()["total"])
        standin_rss = peak_rss_mb_of(process.pid)
        clients.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    wall = t2 - t0
    items = len(volumes) + len(servers)
    return {
        "wall_seconds": round(wall, 3),
        "calls_made": calls,
        "items": items,
        "throughput_per_s": round(items / wall, 1),
        "peak_rss_mb": own_peak_rss_mb(),
        "standin_peak_rss_mb": standin_rss,
        "volumes": len(volumes),
        "volumes_seconds": round(t1 - t0, 3),
        "servers": len(servers),
        "servers_seconds": round(t2 - t1, 3),
        "servers_with_flavor": sum(1 for s in servers if s.flavor.vcpus),
        "servers_with_host": sum(1 for s in servers if s.host),
        "standin_startup_seconds": round(startup, 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its JSON."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_openstack", description=__doc__)
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--seed", default="large", choices=("small", "demo", "large"))
    args = parser.parse_args(argv)
    result = run(args.seed)
    size = SIZES[args.seed]
    checks = [
        check_that("volumes listed", result["volumes"], result["volumes"] >= size.volumes, f">= {size.volumes} (seed)"),
        check_that("servers listed", result["servers"], result["servers"] >= size.servers, f">= {size.servers} (seed)"),
        check("servers with their flavor", result["servers_with_flavor"], result["servers"]),
    ]
    write_result(Path(args.out), f"openstack-list-volumes-and-servers-{args.seed}", checks, **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
