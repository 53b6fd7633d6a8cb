"""Benchmark: the operator previewing, then executing, 50 AggregateMigrations on the real control plane.

    python -m tests.bench.bench_aggregatemigration --out aggregatemigration.json [--migrations 50]

Starts its own OpenStack stand-in (seed large: 120 hosts per GPU type, 10,000 servers) on a free
port, a CloudCredential for it, and the operator. Phase 1 applies --migrations dry-run migrations
(h100-host-001.. from H100-n3 to H100-n3-spot) and waits until every one is Ready (PreviewReady);
phase 2 flips them all to dryRun: false and waits until every one has Succeeded. Reports wall time
and throughput per phase, the add/remove calls the stand-in saw (exactly 2 per migration) and the
operator's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.harness.controlplane import REPO, LocalControlPlane, free_port
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import spawn, stop, wait_until
from tests.harness.standins import CREDENTIAL_LABELS

from .common import check, peak_rss_mb_of, write_result
from .kube import install_crds

NS = "bench"
PASSWORD = "standin-admin-secret"


def _credential(port: int) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "openstack-admin", "namespace": NS, "labels": dict(CREDENTIAL_LABELS)},
            "stringData": {"username": "admin", "password": PASSWORD},
        },
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "CloudCredential",
            "metadata": {"name": "standin", "namespace": NS},
            "spec": {
                "provider": "openstack",
                "secretRef": {"name": "openstack-admin"},
                "openstack": {
                    "authUrl": f"http://127.0.0.1:{port}/identity/v3",
                    "projectName": "admin",
                    "allowInsecureHttp": True,
                },
            },
        },
    ]


def _migration(number: int, dry_run: bool) -> dict[str, Any]:
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "AggregateMigration",
        "metadata": {"name": f"move-{number:03d}", "namespace": NS},
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "standin"},
            "host": f"h100-host-{number:03d}.cloud.local",
            "sourceAggregate": "H100-n3",
            "targetAggregate": "H100-n3-spot",
            "dryRun": dry_run,
            "requestedBy": "bench",
        },
    }


def _apply(kubectl: Kubectl, items: list[dict[str, Any]]) -> None:
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def _count(kubectl: Kubectl, type_: str, reason: str) -> int:
    listed = json.loads(kubectl.run("get", "d2am", "-n", NS, "-o", "json").stdout)["items"]
    return sum(
        any(
            c["type"] == type_ and c["status"] == "True" and c["reason"] == reason
            for c in item.get("status", {}).get("conditions", [])
        )
        for item in listed
    )


def _action_calls(port: int) -> list[int]:
    url = f"http://127.0.0.1:{port}/_standin/journal?path=/os-aggregates/.*/action$&limit=100000"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    return [entry["status"] for entry in body.get("entries", []) if entry["method"] == "POST"]


def _phase(kubectl: Kubectl, operator: DaytwoProcess, what: str, type_: str, reason: str, total: int) -> float:
    start = time.monotonic()
    try:
        wait_until(lambda: _count(kubectl, type_, reason) == total, 600, what, interval=0.2)
    except TimeoutError:
        print(operator.log()[-5000:], file=sys.stderr)
        raise
    return time.monotonic() - start


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--migrations", type=int, default=50)
    args = parser.parse_args()
    total = args.migrations
    with (
        tempfile.TemporaryDirectory(prefix="bench-am-") as tmp,
        LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
    ):
        state = Path(tmp)
        kubectl = Kubectl(plane.kubeconfig)
        install_crds(kubectl, ["aggregatemigrations", "cloudcredentials"])
        kubectl.run("create", "namespace", NS)
        port = free_port()
        cloud = spawn(
            [sys.executable, "-m", "tests.standins.openstack", "--port", str(port), "--seed", "large"],
            state / "openstack.log",
            cwd=REPO,
        )
        wait_until(lambda: _action_calls(port) == [], 120, f"the OpenStack stand-in on {port}")
        operator = DaytwoProcess(
            "daytwo-operator", plane.kubeconfig, state / "operator.log", env={"DAYTWO_LOG_LEVEL": "WARNING"}
        ).start()
        try:
            _apply(kubectl, _credential(port))
            started = time.monotonic()
            _apply(kubectl, [_migration(n, True) for n in range(1, total + 1)])
            apply_preview = time.monotonic() - started
            preview = apply_preview + _phase(kubectl, operator, "every preview", "Ready", "PreviewReady", total)
            started = time.monotonic()
            _apply(kubectl, [_migration(n, False) for n in range(1, total + 1)])
            apply_execute = time.monotonic() - started
            execute = apply_execute + _phase(kubectl, operator, "every migration", "Succeeded", "Migrated", total)
            calls = _action_calls(port)
            rss = peak_rss_mb_of(operator.process.pid) if operator.process else None
        finally:
            operator.stop()
            stop(cloud)
    checks = [
        check("add/remove calls", len(calls), 2 * total),
        check("add/remove calls answered 200", calls.count(200), 2 * total),
    ]
    write_result(
        args.out,
        "aggregatemigration-preview-execute",
        checks,
        migrations=total,
        seed="large",
        preview_wall_seconds=round(preview, 2),
        execute_wall_seconds=round(execute, 2),
        throughput_previews_per_s=round(total / preview, 1),
        throughput_migrations_per_s=round(total / execute, 1),
        add_remove_calls={"total": len(calls), "ok": calls.count(200), "expected": 2 * total},
        operator_peak_rss_mb=rss,
    )


if __name__ == "__main__":
    main()
