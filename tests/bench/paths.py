"""Apply -> observedGeneration for N DriftRules, on the success path and on the broken-reference path,
with daytwo-operator or the no-op Kopf operator (``noop_operator.py``) on the same apiserver.

- ``success``: the rules name a CloudCredential whose Secret exists and is valid for the OpenStack
  stand-in; daytwo validates the credential, then every rule's first pass lists the stand-in's
  servers and ends Ready=True.
- ``broken``: the rules name an OpenStack CloudCredential whose Secret does not exist; every rule ends
  Ready=False (its credential is not usable).

Each (operator, path) gets its own namespace and its own operator process watching only it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.harness.controlplane import LocalControlPlane
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until
from tests.harness.standins import openstack_credential

from .common import Check, check
from .kube import idle, list_items, observed, ready, start_operator

PATHS = ("success", "broken")
CREDENTIAL = "bench"


def credential_items(namespace: str, path: str, openstack_base: str) -> list[dict[str, Any]]:
    """The CloudCredential the rules name (with its Secret on the success path only)."""
    secret, credential = openstack_credential(namespace, CREDENTIAL, base=openstack_base)
    return [secret, credential] if path == "success" else [credential]


def drift_rules(
    namespace: str, count: int, credentials: list[str] | None = None, interval: int = 3600
) -> list[dict[str, Any]]:
    """``count`` DriftRules on servers' flavor (interval ``interval``), rule i naming CloudCredential
    ``credentials[i % len(credentials)]`` (default: ``bench``)."""
    names = credentials or [CREDENTIAL]
    return [
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "DriftRule",
            "metadata": {"name": f"rule-{index:05d}", "namespace": namespace},
            "spec": {
                "target": {
                    "credentialsRef": {"kind": "CloudCredential", "name": names[index % len(names)]},
                    "resourceType": "server",
                },
                "field": "flavor_id",
                "severity": "warning",
                "intervalSeconds": interval,
            },
        }
        for index in range(count)
    ]


def apply_items(kubectl: Kubectl, items: list[dict[str, Any]], chunk: int = 500) -> None:
    """``kubectl apply`` ``items`` as List documents of ``chunk`` objects."""
    for start in range(0, len(items), chunk):
        kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items[start : start + chunk]}))


def apply_to_observed(
    plane: LocalControlPlane,
    kubectl: Kubectl,
    api: client.CustomObjectsApi,
    flavour: str,
    path: str,
    count: int,
    openstack_base: str,
    logs: Path,
    idle_seconds: float = 0.0,
) -> tuple[dict[str, Any], list[Check]]:
    """Start operator ``flavour`` on a fresh namespace, create the credential of ``path`` and wait until it
    is observed, then apply ``count`` DriftRules and time until every one has status.observedGeneration;
    optionally an idle window afterwards. Returns the measurements and their checks."""
    namespace = f"obs-{flavour}-{path}"
    kubectl.run("create", "namespace", namespace)
    operator = start_operator(flavour, plane, namespace, logs / f"operator-{namespace}.log")
    label = f"{flavour}/{path}"
    try:
        apply_items(kubectl, credential_items(namespace, path, openstack_base))

        def credential_settled() -> bool:
            item = api.get_namespaced_custom_object("daytwo.io", "v1alpha1", namespace, "cloudcredentials", CREDENTIAL)
            if flavour == "daytwo" and path == "success":
                return ready(item) == ("True", "Ready")
            return observed(item)

        wait_until(credential_settled, 120, f"the {label} credential to settle", interval=0.2)
        started = time.monotonic()
        apply_items(kubectl, drift_rules(namespace, count))
        applied = time.monotonic() - started
        wait_until(
            lambda: sum(observed(i) for i in list_items(api, namespace, "driftrules")) == count,
            1800,
            f"{count} DriftRules observed ({label})",
            interval=0.5 if count <= 200 else 1.0,  # listing 1,000 objects costs CPU the operators share
        )
        wall = time.monotonic() - started
        items = list_items(api, namespace, "driftrules")
        conditions = Counter(f"{r[0]}/{r[1]}" for r in map(ready, items) if r)
        result: dict[str, Any] = {
            "operator": flavour,
            "path": path,
            "objects": count,
            "apply_seconds": round(applied, 2),
            "apply_to_observed_seconds": round(wall, 2),
            "objects_per_second": round(count / wall, 1),
            "ready_conditions": dict(conditions),
            "operator_peak_rss_mb": operator.peak_rss_mb(),
        }
        checks = [
            check(f"{label}: DriftRules created", len(items), count),
            check(f"{label}: DriftRules observed", sum(observed(i) for i in items), count),
        ]
        if flavour == "daytwo":
            want = "True" if path == "success" else "False"
            ready_as_wanted = sum(n for key, n in conditions.items() if key.startswith(f"{want}/"))
            checks.append(check(f"{label}: DriftRules Ready={want}", ready_as_wanted, count))
        if idle_seconds:
            time.sleep(min(30.0, idle_seconds / 4))  # trailing status writes settle first
            result["idle"] = idle(plane, operator.pid, idle_seconds)
        return result, checks
    finally:
        operator.stop()


def ratio(daytwo: dict[str, Any], noop: dict[str, Any]) -> float | None:
    """daytwo's apply -> observed time over the no-op operator's."""
    if not noop.get("apply_to_observed_seconds"):
        return None
    return round(float(daytwo["apply_to_observed_seconds"]) / float(noop["apply_to_observed_seconds"]), 2)
