"""horcrux /api/alerts shapes from AlertRules and notification-channel ConfigMaps (pure: plain data in).

A horcrux condition ``<metric> <op> <number>`` maps onto an AlertRule's ``metric``/``comparison``/
``threshold``: :data:`METRICS` names the horcrux metrics (``cpu_usage`` is per guest, ``node_cpu_usage`` per
Proxmox cluster node, ``snapshot_sla`` a SnapshotPolicy's percentage within SLA, ``drift_events`` a
DriftRule's unacknowledged DriftEvents); the AlertRule metric names are accepted too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from daytwo.api.views.horcrux.history import parse_range
from daytwo.api.views.platform9.common import parse_time
from daytwo.operator.shared.alertchannels import CHANNEL_LABEL, channel_document, channel_name

__all__ = [
    "CHANNEL_LABEL",
    "METRICS",
    "active_alerts",
    "alert_history",
    "channel_configmap",
    "channel_document",
    "condition_text",
    "parse_condition",
    "parse_range",
    "rule",
]

#: horcrux metric in a condition -> AlertRule spec.metric.
METRICS: dict[str, str] = {
    "cpu_usage": "guest_cpu",
    "memory_usage": "guest_memory",
    "disk_usage": "guest_disk",
    "network_rx": "guest_network_rx",
    "network_tx": "guest_network_tx",
    "node_cpu_usage": "node_cpu",
    "node_memory_usage": "node_memory",
    "node_disk_usage": "node_disk",
    "snapshot_sla": "snapshot_sla",
    "drift_events": "drift_events",
}
_NAMES = {value: key for key, value in METRICS.items()}
_CONDITION = re.compile(r"^\s*([a-z_]+)\s*([<>])\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$")


def parse_condition(text: str) -> tuple[str, str, float]:
    """(spec.metric, comparison, threshold) of ``cpu_usage > 90``; ValueError saying what is accepted."""
    match = _CONDITION.match(text)
    metric = match.group(1) if match else ""
    metric = METRICS.get(metric, metric if metric in _NAMES else "")
    if match is None or not metric:
        raise ValueError(
            f"condition must be '<metric> > <number>' or '<metric> < <number>' with metric one of "
            f"{', '.join(METRICS)}; got {text!r}"
        )
    return metric, match.group(2), float(match.group(3))


def condition_text(spec: Mapping[str, Any]) -> str:
    """The horcrux condition of an AlertRule spec (``cpu_usage > 90``)."""
    metric = str(spec.get("metric", ""))
    return f"{_NAMES.get(metric, metric)} {spec.get('comparison', '>')} {float(spec.get('threshold', 0)):g}"


def rule(obj: Mapping[str, Any]) -> dict[str, Any]:
    """horcrux's alert rule (plus daytwo's hysteresis, scope and the count firing)."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return {
        "id": obj["metadata"]["name"],
        "name": spec.get("displayName", obj["metadata"]["name"]),
        "condition": condition_text(spec),
        "duration": int(spec.get("forSeconds", 0)),
        "severity": spec.get("severity", "warning"),
        "enabled": bool(spec.get("enabled", True)),
        "notification_channels": list(spec.get("notificationChannels") or []),
        "clear_threshold": spec.get("clearThreshold"),
        "clear_duration": int(spec.get("clearForSeconds", 0)),
        "interval": int(spec.get("intervalSeconds", 30)),
        "proxmox_node": spec.get("proxmoxNode"),
        "firing": int(status.get("firing") or 0),
    }


def _acknowledger(spec: Mapping[str, Any], target: str, triggered_at: str | None) -> str | None:
    fired = parse_time(triggered_at)
    for ack in spec.get("acknowledgements") or []:
        at = parse_time(ack.get("at"))
        if ack.get("target") == target and fired is not None and at is not None and at >= fired:
            return str(ack.get("by") or "unknown")
    return None


def active_alerts(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every firing (or clearing) alert of every rule, oldest first, horcrux's shape plus value and state."""
    found = []
    for obj in rules:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        ids = {(r.get("target"), r.get("triggeredAt")): r.get("alertId") for r in status.get("history") or []}
        for alert in status.get("alerts") or []:
            if alert.get("state") == "pending":
                continue
            target, triggered = str(alert.get("target")), alert.get("triggeredAt")
            by = _acknowledger(spec, target, triggered)
            found.append(
                {
                    "alert_id": ids.get((target, triggered)) or f"{obj['metadata']['name']}/{target}",
                    "rule_id": obj["metadata"]["name"],
                    "rule_name": spec.get("displayName", obj["metadata"]["name"]),
                    "target": target,
                    "severity": spec.get("severity", "warning"),
                    "triggered_at": triggered,
                    "acknowledged": by is not None,
                    "acknowledged_by": by,
                    "value": alert.get("value"),
                    "state": alert.get("state"),
                }
            )
    return sorted(found, key=lambda a: (str(a["triggered_at"]), a["rule_id"], a["target"]))


def alert_history(
    rules: Iterable[Mapping[str, Any]], start: datetime | None, end: datetime | None, severity: str | None
) -> list[dict[str, Any]]:
    """Fired alerts (each rule keeps its last 50) triggered in ``[start, end]`` of ``severity``, newest first."""
    found = []
    for obj in rules:
        spec = obj.get("spec") or {}
        for record in (obj.get("status") or {}).get("history") or []:
            triggered = parse_time(record.get("triggeredAt"))
            if triggered is None or (start and triggered < start) or (end and triggered > end):
                continue
            if severity and record.get("severity") != severity:
                continue
            found.append(
                {
                    "alert_id": record.get("alertId"),
                    "rule_id": obj["metadata"]["name"],
                    "rule_name": spec.get("displayName", obj["metadata"]["name"]),
                    "target": record.get("target"),
                    "severity": record.get("severity"),
                    "triggered_at": record.get("triggeredAt"),
                    "resolved_at": record.get("resolvedAt"),
                    "acknowledged": record.get("acknowledgedBy") is not None,
                    "acknowledged_by": record.get("acknowledgedBy"),
                    "value": record.get("value"),
                }
            )
    return sorted(found, key=lambda a: str(a["triggered_at"]), reverse=True)


def channel_configmap(channel_id: str, fields: Mapping[str, Any], has_secret: bool) -> dict[str, Any]:
    """The ConfigMap body of a notification channel (``horcrux-<id>``; never its secret)."""
    document = {**fields, "id": channel_id, "has_secret": has_secret}
    return {
        "metadata": {
            "name": channel_name(channel_id),
            "labels": {
                "app.kubernetes.io/part-of": "daytwo",
                "app.kubernetes.io/managed-by": "daytwo-api",
                CHANNEL_LABEL: "definition",
            },
        },
        "data": {"channel.json": json.dumps(document, sort_keys=True)},
    }
