"""What the operator benchmarks measure around the control plane: operators as processes, object counts,
idle windows (operator CPU and RSS, apiserver requests), and the bytes objects occupy in etcd."""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

from tests.harness.controlplane import REPO, LocalControlPlane, free_port
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import spawn, stop, wait_until

from .common import cpu_seconds, peak_rss_mb_of, rss_mb_of

GROUP, VERSION = "daytwo.io", "v1alpha1"


def install_crds(kubectl: Kubectl, plurals: Iterable[str]) -> None:
    """Apply crds/generated and wait until the CRDs of ``plurals`` (the kinds the benchmark uses) are
    Established. A CRD the apiserver refuses is reported on stderr; it fails the benchmark only when it
    is one of those (a kind still being built must not stop the measurement of the others)."""
    applied = kubectl.run("apply", "-f", str(REPO / "crds" / "generated"), check=False)
    if applied.returncode != 0:
        print(f"warning: kubectl apply -f crds/generated: {applied.stderr.strip()}", file=sys.stderr)
    names = [f"crd/{plural}.{GROUP}" for plural in plurals]
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *names)


def custom_objects(kubeconfig: Path) -> client.CustomObjectsApi:
    """A CustomObjectsApi bound to ``kubeconfig`` (lists of thousands of objects are faster than kubectl)."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return client.CustomObjectsApi(client.ApiClient(configuration))


def list_items(api: client.CustomObjectsApi, namespace: str, plural: str) -> list[dict[str, Any]]:
    """Every object of ``plural`` in ``namespace``."""
    items: list[dict[str, Any]] = api.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)["items"]
    return items


def observed(item: dict[str, Any]) -> bool:
    """Whether the operator has observed the object's current generation."""
    return bool((item.get("status") or {}).get("observedGeneration") == item["metadata"].get("generation"))


def ready(item: dict[str, Any]) -> tuple[str, str] | None:
    """(status, reason) of the object's Ready condition for its current generation, or None."""
    if not observed(item):
        return None
    for condition in (item.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status")), str(condition.get("reason"))
    return None


@dataclass
class OperatorRun:
    """An operator process under measurement: daytwo-operator, or the no-op Kopf operator."""

    flavour: str
    pid: int
    _stop: Any

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        self._stop()

    def peak_rss_mb(self) -> float:
        """Peak RSS so far."""
        return peak_rss_mb_of(self.pid)


def start_operator(flavour: str, plane: LocalControlPlane, namespace: str, log: Path) -> OperatorRun:
    """Start ``daytwo`` (``daytwo-operator``, default settings but WARNING logs) or ``noop`` (tests/bench/
    noop_operator.py), watching ``namespace`` only; returns once its liveness endpoint answers."""
    if flavour == "daytwo":
        env = {"DAYTWO_LOG_LEVEL": "WARNING", "DAYTWO_NAMESPACES": json.dumps([namespace])}
        process = DaytwoProcess("daytwo-operator", plane.kubeconfig, log, env=env).start(timeout=120)
        assert process.process is not None
        return OperatorRun(flavour, process.process.pid, process.stop)
    if flavour != "noop":
        raise ValueError(flavour)
    port = free_port()
    argv = [sys.executable, "-m", "tests.bench.noop_operator", "--namespace", namespace, "--port", str(port)]
    env = {"KUBECONFIG": str(plane.kubeconfig), "PATH": "/usr/bin:/bin"}
    noop = spawn(argv, log, env=env, cwd=REPO)

    def alive() -> bool:
        if noop.poll() is not None:
            raise RuntimeError(f"the no-op operator exited with {noop.returncode}; see {log}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)

    wait_until(alive, 120, f"the no-op operator ({log})")
    return OperatorRun(flavour, noop.pid, lambda: stop(noop))


def _apiserver_get(plane: LocalControlPlane, path: str) -> str:
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    request = urllib.request.Request(
        f"{plane.server}{path}", headers={"Authorization": f"Bearer {plane.users['admin'].token}"}
    )
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return str(response.read().decode())


_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def apiserver_requests(plane: LocalControlPlane) -> Counter[tuple[str, str]]:
    """The apiserver's ``apiserver_request_total`` so far, summed by (verb, group/resource[/subresource])."""
    totals: Counter[tuple[str, str]] = Counter()
    for line in _apiserver_get(plane, "/metrics").splitlines():
        match = _SAMPLE.match(line)
        if not match:
            continue
        labels = dict(_LABEL.findall(match.group("labels")))
        target = "/".join(x for x in (labels.get("group"), labels.get("resource"), labels.get("subresource")) if x)
        totals[(labels.get("verb", ""), target or "(non-resource)")] += int(float(match.group("value")))
    return totals


def request_rates(before: Counter[tuple[str, str]], after: Counter[tuple[str, str]], seconds: float) -> dict[str, Any]:
    """Requests per second between two ``apiserver_requests`` samples, WATCH requests aside (a watch is one
    long request; its events are not requests), by verb and by resource; our own /metrics reads are
    non-resource GETs and are left out too."""
    delta = {key: after[key] - before.get(key, 0) for key in after}
    counted = {
        (verb, target): n
        for (verb, target), n in delta.items()
        if n > 0 and not verb.startswith("WATCH") and target != "(non-resource)"
    }
    by_verb: Counter[str] = Counter()
    by_resource: Counter[str] = Counter()
    for (verb, target), n in counted.items():
        by_verb[verb] += n
        by_resource[f"{verb} {target}"] += n
    return {
        "requests_per_second": round(sum(counted.values()) / seconds, 3),
        "by_verb_per_second": {k: round(v / seconds, 3) for k, v in sorted(by_verb.items())},
        "top_per_second": {k: round(v / seconds, 3) for k, v in by_resource.most_common(12)},
    }


def _etcd_url(plane: LocalControlPlane) -> str:
    argv = [str(a) for a in plane.processes[0].args]  # type: ignore[union-attr]
    return argv[argv.index("--listen-client-urls") + 1]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _prefix_end(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def etcd_sizes(plane: LocalControlPlane, prefix: str) -> dict[str, int]:
    """Key + value bytes of every etcd key under ``prefix``, read from etcd itself (its v3 JSON gateway,
    ``/v3/kv/range``): exactly what the apiserver stored (JSON for custom resources, protobuf for
    ConfigMaps and Events), current revision only."""
    body = json.dumps({"key": _b64(prefix), "range_end": _b64(_prefix_end(prefix))}).encode()
    request = urllib.request.Request(f"{_etcd_url(plane)}/v3/kv/range", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    sizes: dict[str, int] = {}
    for kv in answer.get("kvs", []):
        key = base64.b64decode(kv["key"]).decode()
        sizes[key] = len(key) + len(base64.b64decode(kv.get("value", "")))
    return sizes


def etcd_db_size(plane: LocalControlPlane) -> dict[str, int]:
    """etcd's own database size (``etcd_mvcc_db_total_size_in_bytes`` and ``..._in_use_in_bytes``, all keys,
    history not yet compacted included)."""
    with urllib.request.urlopen(f"{_etcd_url(plane)}/metrics", timeout=30) as response:
        text = response.read().decode()
    found = {}
    for name in ("etcd_mvcc_db_total_size_in_bytes", "etcd_mvcc_db_total_size_in_use_in_bytes"):
        match = re.search(rf"^{name} (\S+)$", text, re.M)
        if match:
            found[name] = int(float(match.group(1)))
    return found


def namespace_bytes(plane: LocalControlPlane, namespace: str, plurals: Iterable[str]) -> dict[str, Any]:
    """etcd bytes (keys + values) of the daytwo objects, ConfigMaps and Events in ``namespace``."""
    result: dict[str, Any] = {}
    total = 0
    prefixes = {plural: f"/registry/{GROUP}/{plural}/{namespace}/" for plural in plurals}
    prefixes["configmaps"] = f"/registry/configmaps/{namespace}/"
    prefixes["events"] = f"/registry/events/{namespace}/"
    for name, prefix in prefixes.items():
        sizes = etcd_sizes(plane, prefix)
        if name == "configmaps":  # every namespace gets this one from the controller-manager
            sizes.pop(f"{prefix}kube-root-ca.crt", None)
        result[name] = {"objects": len(sizes), "bytes": sum(sizes.values())}
        if name == "configmaps":  # which ConfigMaps: names with their numbers and hashes folded
            shapes: Counter[str] = Counter()
            for key, size in sizes.items():
                shapes[re.sub(r"[0-9a-f]{8,}|\d+", "N", key.removeprefix(prefix))] += size
            result[name]["bytes_by_name_shape"] = dict(shapes.most_common(8))
        if name != "events":
            total += sum(sizes.values())
    result["total_objects_and_configmaps_bytes"] = total
    return result


def idle(plane: LocalControlPlane, pid: int | None, seconds: float) -> dict[str, Any]:
    """Sleep ``seconds`` changing nothing; report the operator's (``pid``) CPU (``/proc/<pid>/stat`` utime +
    stime over the window, as % of one core) and RSS (now and peak) and the apiserver's request rate."""
    requests_start = apiserver_requests(plane)
    cpu_start = cpu_seconds(pid) if pid else 0.0
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    # the machine's load over the window (others' work included): what else competed for the cores
    measured: dict[str, Any] = {"seconds": round(elapsed, 1), "load_average": [round(x, 2) for x in os.getloadavg()]}
    if pid:
        cpu = cpu_seconds(pid) - cpu_start
        measured |= {
            "operator_cpu_seconds": round(cpu, 2),
            "operator_cpu_percent_of_one_core": round(100 * cpu / elapsed, 2),
            "operator_rss_mb": rss_mb_of(pid),
            "operator_peak_rss_mb": peak_rss_mb_of(pid),
        }
    measured["apiserver"] = request_rates(requests_start, apiserver_requests(plane), elapsed)
    return measured
