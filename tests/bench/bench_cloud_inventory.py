"""Benchmark: inventory sync of many EC2 instances through the AWS backend (boto3) against moto.

    python -m tests.bench.bench_cloud_inventory --out bench-cloud-inventory.json [--instances 10000]
        [--batch 100] [--page-size 10] [--passes 2]

moto runs in a child process (``python -m tests.standins.aws``, IAM auth on, every request signed and
checked), so its CPU time and memory are not this process's. It is seeded with --instances instances by
run_instances of --batch each (one reservation per batch). moto pages DescribeInstances by reservation,
so --page-size 10 with --batch 100 gives pages of 1,000 instances, the real EC2 maximum. Measured per
pass: wall time of ``inventory(["vms"])`` (every page, parsing, normalising), instances/s, and this
process's CPU time in it (the rest of the wall time is moto building the answers); then peak RSS of
this process and of moto.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from daytwo.operator.backends.aws import AwsClientFactory, AwsConnectionParams
from daytwo.operator.backends.runtime import RetryPolicy

from .common import check, check_that, own_peak_rss_mb, peak_rss_mb_of, write_result


def _start_moto(instances: int, batch: int) -> tuple[subprocess.Popen[str], dict[str, Any], float]:
    repo_root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "tests.standins.aws", "--port", "0", "--instances", str(instances),
           "--volumes", "0", "--vpcs", "0", "--batch", str(batch)]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=repo_root)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("the moto stand-in did not start")
    return proc, json.loads(line), time.perf_counter() - started


def main() -> None:
    """Seed moto, run the passes, write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=10, help="MaxResults (moto counts reservations)")
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    proc, ready, seed_seconds = _start_moto(args.instances, args.batch)
    try:
        factory = AwsClientFactory(max_concurrency=4, policy=RetryPolicy(retries=2, backoff_seconds=0.2))
        params = AwsConnectionParams(
            ready["access_key_id"],
            ready["secret_access_key"],
            ready["region"],
            endpoint_url=ready["url"],
            timeout_seconds=120.0,
            page_size=max(5, args.page_size),
        )
        client = factory.get(params)
        client.validate()
        walls: list[float] = []
        cpus: list[float] = []
        pages = found = 0
        for _ in range(args.passes):
            started, cpu_started = time.perf_counter(), time.process_time()
            inventory = client.inventory(["vms"])
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu_started)
            found, pages = inventory.counts()["vms"], inventory.api_calls
        moto_rss = peak_rss_mb_of(proc.pid)
        factory.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    best = min(walls)
    checks = [
        check("instances synced (last pass)", found, args.instances),
        check_that("DescribeInstances pages", pages, pages > 0, "> 0"),
    ]
    write_result(
        args.out,
        "cloud_inventory_aws",
        checks,
        instances=args.instances,
        reservations=-(-args.instances // args.batch),
        pages_per_sync=pages,
        passes=args.passes,
        seed_seconds=round(seed_seconds, 2),
        sync_seconds=[round(w, 3) for w in walls],
        sync_seconds_median=round(statistics.median(walls), 3),
        items_per_second=round(args.instances / best, 1),
        client_cpu_seconds=[round(c, 3) for c in cpus],
        peak_rss_mb=own_peak_rss_mb(),
        moto_peak_rss_mb=moto_rss,
        cpus=os.cpu_count(),
    )


if __name__ == "__main__":
    main()
