"""AlertRules as a Prometheus operator ``PrometheusRule`` (monitoring.coreos.com/v1) over the operator's /metrics.

For clusters that run the Prometheus operator and Alertmanager. The operator evaluates each AlertRule itself
(``for``, hysteresis) and exports the outcome as ``daytwo_alertrule_firing{namespace, alertrule, severity}``
(targets firing now); each AlertRule becomes one Prometheus alert on that series, so Alertmanager routes
exactly what daytwo fires. Two fixed alerts over the operator's own series come with it:
``DaytwoReconcileErrors`` (``daytwo_reconcile_passes_total{outcome="error"}``) and ``DaytwoObjectsNotReady``
(``daytwo_objects{ready="False"}``). Pure: plain AlertRule objects in, one object out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["FIRING_METRIC", "prometheus_rule"]

FIRING_METRIC = "daytwo_alertrule_firing"
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


def _alert_name(display: str) -> str:
    """``High guest CPU`` -> ``DaytwoHighGuestCpu`` (Prometheus alert names are identifiers)."""
    words = [w for w in _NOT_NAME.split(display) if w]
    return "Daytwo" + "".join(w[:1].upper() + w[1:].lower() for w in words)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def prometheus_rule(
    rules: Iterable[Mapping[str, Any]], namespace: str, name: str = "daytwo-alertrules"
) -> dict[str, Any]:
    """The PrometheusRule for the AlertRules ``rules`` (enabled ones) of ``namespace``."""
    alerts = []
    for obj in sorted(rules, key=lambda o: str(o["metadata"]["name"])):
        spec = obj.get("spec") or {}
        if not spec.get("enabled", True):
            continue
        rule = str(obj["metadata"]["name"])
        condition = f"{spec.get('metric')} {spec.get('comparison', '>')} {float(spec.get('threshold', 0)):g}"
        alerts.append(
            {
                "alert": _alert_name(str(spec.get("displayName") or rule)),
                "expr": f'{FIRING_METRIC}{{namespace="{_quoted(namespace)}",alertrule="{_quoted(rule)}"}} > 0',
                "labels": {"severity": str(spec.get("severity", "warning")), "alertrule": rule},
                "annotations": {
                    "summary": f"{spec.get('displayName') or rule}: {condition}",
                    "description": f"AlertRule {namespace}/{rule} fires on {{{{ $value }}}} target(s); "
                    f"kubectl -n {namespace} get alertrule {rule} -o yaml shows which.",
                },
            }
        )
    health = [
        {
            "alert": "DaytwoReconcileErrors",
            "expr": 'sum by (kind) (rate(daytwo_reconcile_passes_total{outcome="error"}[10m])) > 0',
            "for": "15m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": "daytwo passes of {{ $labels.kind }} keep failing"},
        },
        {
            "alert": "DaytwoObjectsNotReady",
            "expr": 'sum by (kind) (daytwo_objects{ready="False"}) > 0',
            "for": "30m",
            "labels": {"severity": "info"},
            "annotations": {"summary": "{{ $value }} {{ $labels.kind }} object(s) not Ready"},
        },
    ]
    groups = [{"name": "daytwo-operator", "rules": health}]
    if alerts:
        groups.insert(0, {"name": "daytwo-alertrules", "rules": alerts})
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "daytwo", "app.kubernetes.io/managed-by": "daytwo-api"},
        },
        "spec": {"groups": groups},
    }
