"""Benchmark: daytwo-operator at scale: objects of every polling kind reaching Ready, then idle, at two
sizes; and apply -> observedGeneration next to a no-op Kopf operator on the same apiserver.

    python -m tests.bench.bench_scale --out scale.json [--sizes 500,2000] [--idle-seconds 300]
        [--compare-objects 1000] [--compare-idle-seconds 60] [--no-noop]

``DAYTWO_BENCH_IDLE_SECONDS`` / ``DAYTWO_BENCH_COMPARE_IDLE_SECONDS`` override the idle windows'
defaults (a short window for development; the reported figures use 300 s).

One real control plane for the whole run; the OpenStack stand-in (seed ``demo``) and ``--fakepve``
fakepve endpoints (2 nodes x 5 guests each, TLS) in their own processes.

Scale, for each size N, in its own namespace, with daytwo-operator (default settings, WARNING logs)
watching only that namespace: N objects, 10 % CloudCredentials (OpenStack stand-in, one shared Secret),
10 % ProxmoxNodes (spread over the fakepve endpoints), the rest split between SnapshotPolicies (volumes by
metadata, yearly schedule) and DriftRules (servers' flavor), the policies and rules spread over the
credentials; every interval in the specs is 3600 s, so the idle window sees only what the operator
does at rest. Measured: time from the first ``kubectl apply`` until every object is Ready=True for its
generation (per kind too), then, after a settle pause, an idle window: operator CPU (``/proc/<pid>/stat``
utime + stime over the window, % of one core), operator RSS (peak since start, and at the end of the
window), apiserver requests/s (``apiserver_request_total`` from the apiserver's /metrics before and after,
WATCH aside, by verb and resource), and the etcd bytes (keys + values, read from etcd's own
``/v3/kv/range``) of the namespace's daytwo objects and ConfigMaps (Events apart). ``growth`` divides the
largest size's figures by the smallest's.

Comparison: ``--compare-objects`` DriftRules, success path and broken-reference path (``paths.py``),
daytwo-operator and the no-op Kopf operator (``noop_operator.py``) each in its own namespace: apply ->
observedGeneration, then an idle window; daytwo/no-op ratios. An apiserver idle baseline with no operator
running is reported too (the controller-manager's own requests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.harness.controlplane import REPO, LocalControlPlane, free_port
from tests.harness.kubectl import Kubectl
from tests.harness.processes import spawn, stop, wait_until
from tests.harness.standins import CREDENTIAL_LABELS
from tests.standins.openstack.seed import ADMIN_PASSWORD

from .bench_openstack import start_standin
from .common import Check, check, write_result
from .kube import (
    custom_objects,
    etcd_db_size,
    idle,
    install_crds,
    list_items,
    namespace_bytes,
    ready,
    start_operator,
)
from .paths import PATHS, apply_items, apply_to_observed, drift_rules, ratio

PVE_SECRET = "0a6d7f58-95a4-4d4e-9a3b-6c1f2e3d4b5a"
KINDS = ("cloudcredentials", "proxmoxnodes", "snapshotpolicies", "driftrules")
INTERVAL = 3600


def mix(total: int) -> dict[str, int]:
    """How many objects of each kind make up ``total``."""
    credentials = max(1, total // 10)
    nodes = max(1, total // 10)
    policies = (total - credentials - nodes) // 2
    return {
        "cloudcredentials": credentials,
        "proxmoxnodes": nodes,
        "snapshotpolicies": policies,
        "driftrules": total - credentials - nodes - policies,
    }


def start_fakepve(count: int, state: Path) -> tuple[list[Any], list[tuple[int, Path]]]:
    """``count`` fakepve endpoints (2 nodes x 5 guests, TLS); their processes and (port, CA file)."""
    processes, endpoints = [], []
    for index in range(count):
        port, ca = free_port(), state / f"pve-ca-{index}.pem"
        argv = [sys.executable, "-m", "tests.standins.proxmox", "--port", str(port), "--nodes", "2",
                "--guests", "5", "--token-secret", PVE_SECRET, "--write-ca", str(ca)]  # fmt: skip
        processes.append(spawn(argv, state / f"pve-{index}.log", cwd=REPO))
        endpoints.append((port, ca))
    for port, ca in endpoints:
        wait_until(ca.exists, 60, f"fakepve on {port}")
    return processes, endpoints


def manifests(namespace: str, counts: dict[str, int], openstack_base: str, pve: list[tuple[int, Path]]) -> list[Any]:
    """Secrets first, then the objects of every kind (credentials before what references them)."""
    secrets: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "openstack", "namespace": namespace, "labels": dict(CREDENTIAL_LABELS)},
            "stringData": {"username": "admin", "password": ADMIN_PASSWORD},
        }
    ]
    secrets += [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"pve-{index}", "namespace": namespace, "labels": dict(CREDENTIAL_LABELS)},
            "stringData": {"tokenId": "daytwo@pve!operator", "tokenSecret": PVE_SECRET, "ca.crt": ca.read_text()},
        }
        for index, (_, ca) in enumerate(pve)
    ]
    names = [f"cc-{index:04d}" for index in range(counts["cloudcredentials"])]
    credentials = [
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "CloudCredential",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "provider": "openstack",
                "secretRef": {"name": "openstack"},
                "openstack": {
                    "authUrl": f"{openstack_base}/identity/v3",
                    "projectName": "admin",
                    "allowInsecureHttp": True,
                },
                "validationIntervalSeconds": INTERVAL,
            },
        }
        for name in names
    ]
    nodes = [
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "ProxmoxNode",
            "metadata": {"name": f"pn-{index:04d}", "namespace": namespace},
            "spec": {
                "host": "127.0.0.1",
                "port": pve[index % len(pve)][0],
                "tokenSecretRef": {"name": f"pve-{index % len(pve)}"},
                "tls": {"caSecretRef": {"name": f"pve-{index % len(pve)}", "key": "ca.crt"}},
                "inventoryIntervalSeconds": INTERVAL,
            },
        }
        for index in range(counts["proxmoxnodes"])
    ]
    policies = [
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "SnapshotPolicy",
            "metadata": {"name": f"sp-{index:05d}", "namespace": namespace},
            "spec": {
                "credentialsRef": {"kind": "CloudCredential", "name": names[index % len(names)]},
                "targets": {"openstack": {"volumeMetadata": {"auto_snapshot": "true"}}},
                "schedule": "0 0 1 1 *",
                "retention": {"keepLast": 3},
            },
        }
        for index in range(counts["snapshotpolicies"])
    ]
    rules = drift_rules(namespace, counts["driftrules"], names, INTERVAL)
    return [*secrets, *credentials, *nodes, *policies, *rules]


def ready_counts(api: client.CustomObjectsApi, namespace: str) -> dict[str, Counter[str]]:
    """Per kind: objects by the status/reason of their Ready condition for the current generation."""
    return {
        plural: Counter("/".join(r) if (r := ready(item)) else "pending" for item in list_items(api, namespace, plural))
        for plural in KINDS
    }


def ready_true(counts: Counter[str]) -> int:
    """How many objects of one kind are Ready=True."""
    return sum(n for key, n in counts.items() if key.startswith("True/"))


def scale_run(
    plane: LocalControlPlane,
    kubectl: Kubectl,
    api: client.CustomObjectsApi,
    total: int,
    openstack_base: str,
    pve: list[tuple[int, Path]],
    idle_seconds: float,
    settle_seconds: float,
    logs: Path,
) -> tuple[dict[str, Any], list[Check]]:
    """``total`` objects to Ready, then the idle window; measurements and checks."""
    namespace = f"scale-{total}"
    counts = mix(total)
    kubectl.run("create", "namespace", namespace)
    operator = start_operator("daytwo", plane, namespace, logs / f"operator-{namespace}.log")
    try:
        started = time.monotonic()
        apply_items(kubectl, manifests(namespace, counts, openstack_base, pve))
        applied = time.monotonic() - started
        kind_ready: dict[str, float] = {}
        latest: dict[str, Counter[str]] = {}

        def all_ready() -> bool:
            latest.update(ready_counts(api, namespace))
            for plural in KINDS:
                if plural not in kind_ready and ready_true(latest[plural]) == counts[plural]:
                    kind_ready[plural] = round(time.monotonic() - started, 2)
            return len(kind_ready) == len(KINDS)

        try:
            wait_until(all_ready, 3600, f"{total} objects Ready", interval=1.0)
        except TimeoutError:
            print(json.dumps({k: dict(v) for k, v in latest.items()}), file=sys.stderr)
            raise
        to_ready = time.monotonic() - started
        time.sleep(settle_seconds)
        window = idle(plane, operator.pid, idle_seconds)
        final = ready_counts(api, namespace)
        etcd = namespace_bytes(plane, namespace, KINDS)
    finally:
        operator.stop()
    cpu = window["operator_cpu_percent_of_one_core"]
    result = {
        "objects": total,
        "objects_by_kind": counts,
        "apply_seconds": round(applied, 2),
        "time_to_ready_seconds": round(to_ready, 2),
        "time_to_ready_by_kind_seconds": kind_ready,
        "objects_per_second": round(total / to_ready, 1),
        "settle_seconds": settle_seconds,
        "idle": window,
        "idle_operator_cpu_percent_of_one_core": cpu,
        "idle_apiserver_requests_per_second": window["apiserver"]["requests_per_second"],
        "operator_peak_rss_mb": window["operator_peak_rss_mb"],
        "operator_idle_rss_mb": window["operator_rss_mb"],
        "etcd_bytes": etcd,
        "etcd_bytes_objects_and_configmaps": etcd["total_objects_and_configmaps_bytes"],
        "ready_after_idle": {k: dict(v) for k, v in final.items()},
    }
    checks: list[Check] = []
    for plural in KINDS:
        checks.append(check(f"{total}: {plural} created", sum(final[plural].values()), counts[plural]))
        checks.append(
            check(f"{total}: {plural} Ready=True after the idle window", ready_true(final[plural]), counts[plural])
        )
        checks.append(check(f"{total}: {plural} in etcd", etcd[plural]["objects"], counts[plural]))
    return result, checks


GROWTH_KEYS = (
    "time_to_ready_seconds",
    "idle_operator_cpu_percent_of_one_core",
    "idle_apiserver_requests_per_second",
    "operator_peak_rss_mb",
    "operator_idle_rss_mb",
    "etcd_bytes_objects_and_configmaps",
)


def growth(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """Each figure at the largest size over the same at the smallest (objects grew by ``objects``)."""
    grown: dict[str, Any] = {"objects": round(large["objects"] / small["objects"], 2)}
    for key in GROWTH_KEYS:
        grown[key] = round(large[key] / small[key], 2) if small[key] else None
    return grown


def compare(
    plane: LocalControlPlane,
    kubectl: Kubectl,
    api: client.CustomObjectsApi,
    count: int,
    flavours: list[str],
    openstack_base: str,
    idle_seconds: float,
    logs: Path,
) -> tuple[dict[str, Any], list[Check]]:
    """Apply -> observed of ``count`` DriftRules per path and operator, each followed by an idle window."""
    results: dict[str, Any] = {}
    checks: list[Check] = []
    for path in PATHS:
        for flavour in flavours:
            result, found = apply_to_observed(
                plane, kubectl, api, flavour, path, count, openstack_base, logs, idle_seconds=idle_seconds
            )
            results.setdefault(path, {})[flavour] = result
            checks += found
        if "noop" in results[path]:
            daytwo, noop = results[path]["daytwo"], results[path]["noop"]
            results[path]["daytwo_over_noop_apply_to_observed"] = ratio(daytwo, noop)
            results[path]["idle_cpu_percent_of_one_core"] = {
                "daytwo": daytwo["idle"]["operator_cpu_percent_of_one_core"],
                "noop": noop["idle"]["operator_cpu_percent_of_one_core"],
            }
    return results, checks


def save_progress(out: Path, **fields: Any) -> None:
    """What is measured so far, to ``<out>.partial.json`` (a long run that stops early still leaves figures)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".partial.json").write_text(json.dumps(fields, indent=2) + "\n")


def _env_seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sizes", default="500,2000", help="comma-separated object counts (growth: last / first)")
    parser.add_argument("--idle-seconds", type=float, default=_env_seconds("DAYTWO_BENCH_IDLE_SECONDS", 300))
    parser.add_argument("--settle-seconds", type=float, default=None, help="pause before each idle window")
    parser.add_argument("--compare-objects", type=int, default=1000, help="0: no comparison")
    parser.add_argument(
        "--compare-idle-seconds", type=float, default=_env_seconds("DAYTWO_BENCH_COMPARE_IDLE_SECONDS", 60)
    )
    parser.add_argument("--baseline-seconds", type=float, default=30, help="apiserver idle with no operator")
    parser.add_argument("--fakepve", type=int, default=4, help="fakepve endpoints")
    parser.add_argument("--no-noop", action="store_true", help="skip the no-op Kopf operator")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    settle = args.settle_seconds if args.settle_seconds is not None else min(30.0, args.idle_seconds / 4)
    flavours = ["daytwo"] if args.no_noop else ["daytwo", "noop"]
    checks: list[Check] = []
    scale: dict[str, Any] = {}
    comparison: dict[str, Any] = {}
    standin, base = start_standin("demo")
    pve_processes: list[Any] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp,
            LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
        ):
            state = Path(tmp)
            pve_processes, pve = start_fakepve(args.fakepve, state)
            kubectl = Kubectl(plane.kubeconfig)
            install_crds(kubectl, [*KINDS, "driftevents"])
            api = custom_objects(plane.kubeconfig)
            baseline = idle(plane, None, args.baseline_seconds)
            for total in sizes:
                print(f"scale: {total} objects", file=sys.stderr, flush=True)
                result, found = scale_run(plane, kubectl, api, total, base, pve, args.idle_seconds, settle, state)
                scale[str(total)] = result
                checks += found
                save_progress(args.out, baseline=baseline, scale=scale, checks=[c.ok for c in checks])
                print(json.dumps({k: result[k] for k in ("objects", *GROWTH_KEYS)}), file=sys.stderr, flush=True)
            if args.compare_objects:
                print(f"comparison: {args.compare_objects} DriftRules", file=sys.stderr, flush=True)
                comparison, found = compare(
                    plane, kubectl, api, args.compare_objects, flavours, base, args.compare_idle_seconds, state
                )
                checks += found
                save_progress(args.out, baseline=baseline, scale=scale, comparison=comparison)
            etcd_db = etcd_db_size(plane)
    finally:
        for process in pve_processes:
            stop(process)
        standin.terminate()
        standin.wait(timeout=30)
    write_result(
        args.out,
        "scale",
        checks,
        sizes=sizes,
        idle_seconds=args.idle_seconds,
        spec_intervals_seconds=INTERVAL,
        apiserver_idle_without_operator=baseline,
        scale=scale,
        growth=growth(scale[str(sizes[0])], scale[str(sizes[-1])]) if len(sizes) > 1 else None,
        comparison={"objects": args.compare_objects, "idle_seconds": args.compare_idle_seconds, **comparison},
        etcd_db_size_whole_run=etcd_db,
        note="etcd bytes: keys + values under /registry/daytwo.io/<kind>/<ns>/ and /registry/configmaps/<ns>/ "
        "(kube-root-ca.crt aside) read from etcd's /v3/kv/range; idle CPU: /proc/<pid>/stat utime+stime over the "
        "window; apiserver requests: apiserver_request_total deltas, WATCH and non-resource paths aside",
    )


if __name__ == "__main__":
    main()
