"""AlertRule evaluation: metric samples from plain objects, and the pending/firing/clearing state machine.

Pure: the handler reads the ProxmoxNodes, their ``<node>-guests`` ConfigMaps, SnapshotPolicies and
DriftRules and passes them in; this module returns the samples (target -> value), the next status and the
transitions to notify.

For each target: a value past the threshold starts ``pending``; it fires once it held ``forSeconds`` (at
once with 0). A firing target resolves once its value is back past ``clearThreshold`` (the hysteresis band;
default the threshold) and stayed there ``clearForSeconds`` (``clearing`` meanwhile; a value back in the band
returns it to ``firing`` without a new notification). A target that disappears resolves. History keeps the
last :data:`HISTORY_LIMIT` firings, newest first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from daytwo.crds.alertrule import (
    AlertAcknowledgement,
    AlertInstance,
    AlertMetric,
    AlertRecord,
    AlertRuleSpec,
    Comparison,
)
from daytwo.crds.base import MAX_STATUS_LIST

__all__ = [
    "HISTORY_LIMIT",
    "Evaluation",
    "Transition",
    "alert_id",
    "drift_samples",
    "evaluate",
    "guest_samples",
    "network_rates",
    "node_samples",
    "sla_samples",
]

HISTORY_LIMIT = MAX_STATUS_LIST
PENDING, FIRING, CLEARING = "pending", "firing", "clearing"

_GUEST_RATIOS = {
    AlertMetric.GUEST_MEMORY: ("mem", "maxmem"),
    AlertMetric.GUEST_DISK: ("disk", "maxdisk"),
}
_NODE_RATIOS = {
    AlertMetric.NODE_MEMORY: ("mem", "maxmem"),
    AlertMetric.NODE_DISK: ("disk", "maxdisk"),
}
_COUNTERS = {AlertMetric.GUEST_NETWORK_RX: "netin", AlertMetric.GUEST_NETWORK_TX: "netout"}


@dataclass(frozen=True)
class Transition:
    """A notification to send: ``fired`` or ``resolved`` for ``target``."""

    event: str  # alert.triggered | alert.resolved
    alert_id: str
    target: str
    value: float
    at: datetime


@dataclass
class Evaluation:
    """The next status fields and the transitions to notify."""

    alerts: list[AlertInstance]
    history: list[AlertRecord]
    transitions: list[Transition] = field(default_factory=list)

    @property
    def firing(self) -> int:
        """Targets firing (or clearing) now."""
        return sum(1 for alert in self.alerts if alert.state != PENDING)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _percent(top: Any, bottom: Any) -> float | None:
    numerator, denominator = _number(top), _number(bottom)
    if numerator is None or not denominator:
        return None
    return round(100.0 * numerator / denominator, 2)


def guest_samples(records: Mapping[str, Sequence[Mapping[str, Any]]], metric: AlertMetric) -> dict[str, float]:
    """Per guest (``<proxmoxnode>:<vmid>``) the metric in percent from the inventory records (records.json
    rows, per ProxmoxNode); CPU only of running guests. Network metrics are counters: see :func:`network_rates`."""
    found: dict[str, float] = {}
    for node, rows in records.items():
        for row in rows:
            target = f"{node}:{row.get('vmid')}"
            if metric == AlertMetric.GUEST_CPU:
                cpu = _number(row.get("cpu"))
                if row.get("status") == "running" and cpu is not None:
                    found[target] = round(100.0 * cpu, 2)
            elif metric in _GUEST_RATIOS:
                top, bottom = _GUEST_RATIOS[metric]
                value = _percent(row.get(top), row.get(bottom))
                if value is not None:
                    found[target] = value
            elif metric in _COUNTERS:
                counter = _number(row.get(_COUNTERS[metric]))
                if counter is not None:
                    found[target] = counter
    return found


def network_rates(
    previous: Mapping[str, tuple[datetime, float]], counters: Mapping[str, float], now: datetime
) -> tuple[dict[str, float], dict[str, tuple[datetime, float]]]:
    """Bytes per second per target from two counter readings (a reset or a first reading gives none), and the
    readings to keep for the next pass."""
    rates: dict[str, float] = {}
    for target, counter in counters.items():
        before = previous.get(target)
        if before is not None:
            seconds = (now - before[0]).total_seconds()
            if seconds > 0 and counter >= before[1]:
                rates[target] = round((counter - before[1]) / seconds, 2)
    return rates, {target: (now, counter) for target, counter in counters.items()}


def node_samples(proxmoxnodes: Iterable[Mapping[str, Any]], metric: AlertMetric) -> dict[str, float]:
    """Per cluster node (``<proxmoxnode>:<node>``) its usage in percent from ProxmoxNode ``status.nodes``."""
    found: dict[str, float] = {}
    for obj in proxmoxnodes:
        name = obj.get("metadata", {}).get("name", "")
        for node in (obj.get("status") or {}).get("nodes") or []:
            if not node.get("online"):
                continue
            if metric == AlertMetric.NODE_CPU:
                cpu = _number(node.get("cpu"))
                value = None if cpu is None else round(100.0 * cpu, 2)
            else:
                top, bottom = _NODE_RATIOS[metric]
                value = _percent(node.get(top), node.get(bottom))
            if value is not None:
                found[f"{name}:{node.get('name')}"] = value
    return found


def sla_samples(policies: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per SnapshotPolicy the percentage of its targets within SLA (``status.sla.tenants``), once evaluated."""
    found: dict[str, float] = {}
    for obj in policies:
        tenants = ((obj.get("status") or {}).get("sla") or {}).get("tenants") or []
        compliant = sum(int(t.get("compliant") or 0) for t in tenants)
        total = compliant + sum(int(t.get("warning") or 0) + int(t.get("critical") or 0) for t in tenants)
        if total:
            found[obj["metadata"]["name"]] = round(100.0 * compliant / total, 2)
    return found


def drift_samples(rules: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per DriftRule its unacknowledged DriftEvents (``status.unacknowledgedEvents``)."""
    found: dict[str, float] = {}
    for obj in rules:
        value = _number((obj.get("status") or {}).get("unacknowledgedEvents"))
        if value is not None:
            found[obj["metadata"]["name"]] = value
    return found


def alert_id(rule: str, target: str, triggered_at: datetime) -> str:
    """A stable id of one firing: ``alert-<12 hex>`` of rule, target and time."""
    digest = hashlib.sha256(json.dumps([rule, target, triggered_at.isoformat()]).encode()).hexdigest()
    return f"alert-{digest[:12]}"


def _breaching(spec: AlertRuleSpec, value: float) -> bool:
    return value > spec.threshold if spec.comparison == Comparison.ABOVE else value < spec.threshold


def _cleared(spec: AlertRuleSpec, value: float) -> bool:
    clear = spec.threshold if spec.clear_threshold is None else spec.clear_threshold
    return value <= clear if spec.comparison == Comparison.ABOVE else value >= clear


def _acknowledger(acks: Sequence[AlertAcknowledgement], target: str, triggered_at: datetime) -> str | None:
    for ack in acks:
        if ack.target == target and ack.at >= triggered_at:
            return ack.by or "unknown"
    return None


def evaluate(
    rule: str,
    spec: AlertRuleSpec,
    alerts: Sequence[AlertInstance],
    history: Sequence[AlertRecord],
    samples: Mapping[str, float],
    now: datetime,
) -> Evaluation:
    """One evaluation of rule ``rule``: the previous ``alerts`` and ``history`` (from status) and this pass's
    ``samples`` give the next alerts and history, and the fired/resolved transitions (see the module doc)."""
    previous = {alert.target: alert for alert in alerts}
    records = [record.model_copy() for record in history]
    by_id = {record.alert_id: record for record in records}
    next_alerts: list[AlertInstance] = []
    transitions: list[Transition] = []

    def resolve(alert: AlertInstance, value: float) -> None:
        fired_at = alert.triggered_at or alert.since
        ident = alert_id(rule, alert.target, fired_at)
        transitions.append(Transition("alert.resolved", ident, alert.target, value, now))
        record = by_id.get(ident)
        if record is not None:
            record.resolved_at = now

    def fire(target: str, value: float) -> AlertInstance:
        ident = alert_id(rule, target, now)
        transitions.append(Transition("alert.triggered", ident, target, value, now))
        record = AlertRecord(alert_id=ident, target=target, severity=spec.severity, triggered_at=now, value=value)
        records.insert(0, record)
        by_id[ident] = record
        return AlertInstance(target=target, state=FIRING, since=now, triggered_at=now, value=value)

    for target in sorted(set(previous) | set(samples)):
        alert, value = previous.get(target), samples.get(target)
        if value is None or not spec.enabled:
            if alert is not None and alert.state != PENDING:
                resolve(alert, alert.value if value is None else value)
            continue
        if alert is None or alert.state == PENDING:
            if not _breaching(spec, value):
                continue
            since = now if alert is None else alert.since
            if (now - since).total_seconds() >= spec.for_seconds:
                next_alerts.append(fire(target, value))
            else:
                next_alerts.append(AlertInstance(target=target, state=PENDING, since=since, value=value))
            continue
        fired_at = alert.triggered_at or alert.since
        if not _cleared(spec, value):
            next_alerts.append(
                AlertInstance(target=target, state=FIRING, since=fired_at, triggered_at=fired_at, value=value)
            )
            continue
        since = now if alert.state == FIRING else alert.since
        if (now - since).total_seconds() >= spec.clear_for_seconds:
            resolve(alert, value)
        else:
            next_alerts.append(
                AlertInstance(target=target, state=CLEARING, since=since, triggered_at=fired_at, value=value)
            )

    acks = spec.acknowledgements or []
    for record in records:
        if record.acknowledged_by is None:
            record.acknowledged_by = _acknowledger(acks, record.target, record.triggered_at)
    return Evaluation(next_alerts[:MAX_STATUS_LIST], records[:HISTORY_LIMIT], transitions)
