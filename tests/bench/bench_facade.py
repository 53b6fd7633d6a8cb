"""Benchmark: the facade serving 10,000 DriftEvents from its watch-backed cache, next to a bare FastAPI route.

    python -m tests.bench.bench_facade --out facade.json [--objects 10000] [--seconds 10] [--rounds 5]

Real control plane (pinned to core 1); the facade as a process (``daytwo-api``) pinned to core 0 (``taskset -a -cp 0``);
the DriftEvents are created through the apiserver *after* the facade synced, so the cache takes
them in through its watch (we report how long that took and the RSS it added). The load generator
(this process, pinned to core 1) is a small asyncio HTTP/1.1 keep-alive client: precomposed
requests, responses read by Content-Length, one latency sample per request.

Scenarios, each ``--seconds`` long in all, ``--connections`` concurrent connections; they alternate in
``--rounds`` rounds (after a 1 s warm-up each) so that anything else the machine does hits them alike.
req/s (200 answers only: any other status is counted as an error, reported, and fails the run) is
the median over the rounds; single GET vs bare is the median of the per-round ratios; latency
percentiles are over every 200 answer. The server's CPU time per request (``/proc``, all
threads) is reported too: a cross-check that CPU stolen from the VM cannot skew:
- ``bare``: a FastAPI app with one route returning a dict, under the same uvicorn settings, core 0;
- ``single_get``: ``GET /platform9/drift/events/{id}`` (random ids) as an authenticated admin;
- ``list_page``: ``GET /platform9/drift/events?page=N&page_size=50`` (random pages).
Targets (issue #10): p99 < 50 ms; single GET >= 60% of bare req/s; list page > 500 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client, config

from tests.bench.common import check, cpu_seconds, peak_rss_mb_of, rss_mb_of, write_result
from tests.bench.kube import install_crds
from tests.harness.controlplane import REPO, LocalControlPlane, free_port
from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.processes import spawn, stop, wait_until

NS = "bench-facade"


def bare_app() -> Any:
    """The comparison: FastAPI, one route, a dict."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok", "service": "bare"}

    return app


def serve_bare(port: int) -> None:
    """Run the bare app under uvicorn exactly as daytwo-api runs the facade."""
    import uvicorn

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def drift_event(i: int) -> dict[str, Any]:
    """One DriftEvent (what the operator writes), distinct by index."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftEvent",
        "metadata": {"name": f"bench-event-{i:05d}", "namespace": NS, "labels": {"daytwo.io/drift-rule": "bench-rule"}},
        "spec": {
            "ruleRef": "bench-rule",
            "resourceType": "server",
            "resourceId": f"00000000-0000-4000-8000-{i:012d}",
            "resourceName": f"web-{i:05d}",
            "field": "flavor_id",
            "change": "Modified",
            "oldValue": '"m1.small"',
            "newValue": '"m1.large"',
            "severity": ("critical", "warning", "info")[i % 3],
            "description": "Server flavor changed (resize)",
            "detectedAt": f"2026-11-{1 + i % 28:02d}T08:15:00Z",
            "projectName": f"proj-{i % 40}",
            "domainName": "Default",
        },
    }


def create_events(kubeconfig: Path, count: int, threads: int = 8) -> float:
    """POST ``count`` DriftEvents through the apiserver; returns the seconds it took."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.connection_pool_maxsize = threads
    api = client.CustomObjectsApi(client.ApiClient(configuration))
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(
            pool.map(
                lambda i: api.create_namespaced_custom_object(
                    "daytwo.io", "v1alpha1", NS, "driftevents", drift_event(i)
                ),
                range(count),
            )
        )
    return time.monotonic() - started


async def _connection(
    port: int, requests: Sequence[bytes], until: float, samples: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random(len(samples))
    try:
        while time.monotonic() < until:
            request = requests[rng.randrange(len(requests))]
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if status == 200:  # only a 200 is a served request; anything else is an error, counted apart
                samples.append(time.perf_counter() - started)
            else:
                errors.append(status)
    finally:
        writer.close()


@dataclass
class Scenario:
    """One load: a server port, the paths to request at random, the headers to send."""

    name: str
    port: int
    pid: int
    paths: Sequence[str]
    headers: dict[str, str] = field(default_factory=dict)
    samples: list[float] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    #: server CPU seconds (user + system, all threads) per request, by round
    cpu_per_request: list[float] = field(default_factory=list)

    def run(self, seconds: float, connections: int) -> None:
        """Drive the paths for ``seconds`` (after a 1 s warm-up the first time); keeps the latencies,
        the round's req/s and the server's CPU time per request."""
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        requests = [f"GET {p} HTTP/1.1\r\nHost: bench\r\n{extra}\r\n".encode() for p in self.paths]

        async def drive(duration: float, samples: list[float], errors: list[int]) -> float:
            started = time.monotonic()
            until = started + duration
            await asyncio.gather(
                *(_connection(self.port, requests, until, samples, errors) for _ in range(connections))
            )
            return time.monotonic() - started

        if not self.rates:
            asyncio.run(drive(1.0, [], []))
        before, cpu_before = len(self.samples), cpu_seconds(self.pid)
        wall = asyncio.run(drive(seconds, self.samples, self.errors))
        served = len(self.samples) - before
        self.rates.append(served / wall)
        self.cpu_per_request.append((cpu_seconds(self.pid) - cpu_before) / max(served, 1))

    def summary(self) -> dict[str, Any]:
        """Median req/s over the rounds (each round's too) and latency percentiles over all 200 answers;
        other answers counted by status."""
        samples = sorted(self.samples) or [float("nan")]

        def pct(p: float) -> float:
            return round(samples[min(len(samples) - 1, int(len(samples) * p))] * 1000, 2)

        return {
            "requests": len(self.samples),
            "requests_per_second": round(statistics.median(self.rates), 1),
            "requests_per_second_by_round": [round(rate, 1) for rate in self.rates],
            "server_cpu_us_per_request": round(statistics.median(self.cpu_per_request) * 1e6, 1),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": round(samples[-1] * 1000, 2),
            "non_200": len(self.errors),
            "non_200_by_status": {str(k): v for k, v in sorted(Counter(self.errors).items())},
        }


def measure(scenarios: Sequence[Scenario], rounds: int, seconds: float, connections: int) -> None:
    """Run the scenarios in turn, ``rounds`` times: a disturbance on the machine hits all of them alike."""
    for _ in range(rounds):
        for scenario in scenarios:
            scenario.run(seconds, connections)


def paired_ratio(numerator: Scenario, denominator: Scenario) -> float:
    """Median over the rounds of ``numerator``'s req/s over ``denominator``'s in the same round."""
    return statistics.median(n / d for n, d in zip(numerator.rates, denominator.rates, strict=True))


def cached_events(facade: Facade) -> int:
    """DriftEvents in the facade's cache (from its /health)."""
    return int(httpx.get(f"{facade.url}/health", timeout=10).json()["kinds"]["DriftEvent"]["objects"])


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10, help="scenarios alternate; --seconds is split among rounds")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})  # the load generator stays off the facade's core
    with (
        tempfile.TemporaryDirectory(prefix="bench-facade-") as tmp,
        LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
    ):
        for process in plane.processes:  # etcd and the apiserver never compete for the measured core
            subprocess.run(["taskset", "-a", "-cp", "1", str(process.pid)], check=True, capture_output=True)
        kubectl = Kubectl(plane.kubeconfig)
        install_crds(kubectl, ["driftevents", "driftrules"])
        facade = Facade.start(plane.kubeconfig, kubectl, NS, Path(tmp), env={"DAYTWO_API_LOG_LEVEL": "warning"})
        assert facade.process.process is not None
        pid = facade.process.process.pid
        subprocess.run(["taskset", "-a", "-cp", "0", str(pid)], check=True, capture_output=True)
        rss_empty = rss_mb_of(pid)
        create_seconds = create_events(plane.kubeconfig, args.objects)
        created_at = time.monotonic()
        wait_until(
            lambda: cached_events(facade) == args.objects, 300, f"{args.objects} DriftEvents in the cache", interval=0.5
        )
        cache_lag = time.monotonic() - created_at
        rss_full = rss_mb_of(pid)
        cached = cached_events(facade)

        bare_port = free_port()
        bare = spawn(
            ["taskset", "-c", "0", sys.executable, "-m", "tests.bench.bench_facade", "--serve-bare", str(bare_port)],
            Path(tmp) / "bare.log",
            cwd=REPO,
        )
        try:
            wait_until(
                lambda: httpx.get(f"http://127.0.0.1:{bare_port}/bare", timeout=2).status_code == 200, 60, "bare app"
            )
            auth = {"Authorization": f"Bearer {facade.login('admin')}"}
            ids = [
                f"/platform9/drift/events/bench-event-{i:05d}"
                for i in random.Random(1).sample(range(args.objects), 500)
            ]
            pages = [f"/platform9/drift/events?page={p}&page_size=50" for p in range(1, args.objects // 50 + 1)]
            bare_load = Scenario("bare", bare_port, bare.pid, ["/bare"])
            single_load = Scenario("single_get", facade.process.port, pid, ids, auth)
            list_load = Scenario("list_page_50", facade.process.port, pid, pages, auth)
            measure([bare_load, single_load, list_load], args.rounds, args.seconds / args.rounds, args.connections)
        finally:
            stop(bare)
        bare_result, single, listing = bare_load.summary(), single_load.summary(), list_load.summary()
        ratio = round(paired_ratio(single_load, bare_load), 3)
        cpu_ratio = round(bare_result["server_cpu_us_per_request"] / single["server_cpu_us_per_request"], 3)
        peak = peak_rss_mb_of(pid)
        facade.stop()
    result = {
        "objects": args.objects,
        "connections": args.connections,
        "seconds_per_scenario": args.seconds,
        "rounds": args.rounds,
        "facade_core": 0,
        "create_seconds": round(create_seconds, 1),
        "cache_lag_after_last_create_seconds": round(cache_lag, 2),
        "facade_rss_mb_empty_cache": rss_empty,
        "facade_rss_mb_with_objects": rss_full,
        "facade_peak_rss_mb": peak,
        "bare": bare_result,
        "single_get": single,
        "list_page_50": listing,
        "single_get_vs_bare": ratio,
        "single_get_vs_bare_by_cpu": cpu_ratio,
        "targets": {
            "p99_under_50ms": max(single["p99_ms"], listing["p99_ms"]) < 50,
            "single_get_at_least_60pct_of_bare": ratio >= 0.6,
            "list_over_500_rps": listing["requests_per_second"] > 500,
        },
    }
    checks = [check("DriftEvents in the facade's cache", cached, args.objects)]
    checks += [check(f"{name}: non-200 answers", part["non_200"], 0) for name, part in
               (("bare", bare_result), ("single_get", single), ("list_page_50", listing))]  # fmt: skip
    checks += [check(f"{name}: rounds with answers", len(s.rates), args.rounds) for name, s in
               (("bare", bare_load), ("single_get", single_load), ("list_page_50", list_load))]  # fmt: skip
    if args.out:
        write_result(args.out, "bench_facade", checks, **result)
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
