"""AlertRule: one polling daemon per rule evaluates it every ``spec.intervalSeconds`` (no busy polling).

A pass reads what the metric needs with the operator's identity (ProxmoxNodes and their ``<node>-guests``
ConfigMaps, SnapshotPolicies or DriftRules in the rule's namespace), lets ``reconcile.alerts`` decide what
is pending, firing and resolved, notifies the rule's channels of each fired and resolved alert
(``alerts_notify``; at least once) and writes status (alerts, bounded history, a ``Notified`` condition
with what failed). A change of the rule (an
acknowledgement, a new threshold) wakes its daemon at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from daytwo.crds.alertrule import AlertMetric, AlertRuleSpec, AlertRuleStatus
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from ..kube import KubeClient, kube_client
from ..metrics import REGISTRY
from ..reconcile import alerts
from ..reconcile.conditions import ConditionUpdate
from ..settings import OperatorSettings
from ..shared.prometheusrule import FIRING_METRIC
from ..shared.times import format_time
from .alerts_notify import deliver
from .polling import current_object, finish_status, register_polling

__all__ = ["register"]

KIND = "AlertRule"
_GUESTS_LABEL = "daytwo.io/proxmoxnode"
#: Memo key: the last network counters per target (for rates).
_COUNTERS = "alert_counters"


class _Firing:
    """``daytwo_alertrule_firing{namespace, alertrule, severity}``: targets firing per AlertRule (what the
    PrometheusRule of ``shared.prometheusrule`` alerts on). Labelled by the rule's name, unlike the operator's
    other series: AlertRules are few and made by admins, and Alertmanager needs to tell them apart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._firing: dict[tuple[str, str], tuple[str, int]] = {}

    def set(self, namespace: str, name: str, severity: str, firing: int) -> None:
        with self._lock:
            self._firing[(namespace, name)] = (severity, firing)

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._firing.pop((namespace, name), None)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            FIRING_METRIC, "Targets an AlertRule fires on now.", labels=["namespace", "alertrule", "severity"]
        )
        with self._lock:
            for (namespace, name), (severity, firing) in sorted(self._firing.items()):
                family.add_metric([namespace, name, severity], firing)
        yield family


FIRING = _Firing()
REGISTRY.register(FIRING)


def _guest_records(client: KubeClient, namespace: str, node: str | None) -> dict[str, list[dict[str, Any]]]:
    selector = f"{_GUESTS_LABEL}={node}" if node else _GUESTS_LABEL
    records: dict[str, list[dict[str, Any]]] = {}
    for item in client.core.list_namespaced_config_map(namespace, label_selector=selector).items:
        owner = (item.metadata.labels or {}).get(_GUESTS_LABEL, "")
        try:
            rows = json.loads((item.data or {}).get("records.json") or "[]")
        except ValueError:
            continue
        records.setdefault(owner, []).extend(row for row in rows if isinstance(row, dict))
    return records


def samples(client: KubeClient, namespace: str, spec: AlertRuleSpec, memo: Any, now: datetime) -> dict[str, float]:
    """The rule's metric per target, read now."""
    metric = AlertMetric(spec.metric)
    if str(metric).startswith("guest_"):
        found = alerts.guest_samples(_guest_records(client, namespace, spec.proxmox_node), metric)
        if metric in (AlertMetric.GUEST_NETWORK_RX, AlertMetric.GUEST_NETWORK_TX):
            found, memo[_COUNTERS] = alerts.network_rates(memo.get(_COUNTERS, {}), found, now)
        return found
    if str(metric).startswith("node_"):
        nodes = client.list_objects("ProxmoxNode", namespace)
        if spec.proxmox_node:
            nodes = [n for n in nodes if n["metadata"]["name"] == spec.proxmox_node]
        return alerts.node_samples(nodes, metric)
    if metric == AlertMetric.SNAPSHOT_SLA:
        return alerts.sla_samples(client.list_objects("SnapshotPolicy", namespace))
    return alerts.drift_samples(client.list_objects("DriftRule", namespace))


def notification(name: str, spec: AlertRuleSpec, transition: alerts.Transition) -> dict[str, Any]:
    """The event data of a fired or resolved alert (horcrux's active-alert fields plus value and condition)."""
    at = format_time(transition.at)
    return {
        "alert_id": transition.alert_id,
        "rule_id": name,
        "rule_name": spec.display_name,
        "target": transition.target,
        "severity": str(spec.severity),
        "condition": f"{spec.metric} {spec.comparison} {spec.threshold:g}",
        "value": transition.value,
        "state": "firing" if transition.event == "alert.triggered" else "resolved",
        "triggered_at" if transition.event == "alert.triggered" else "resolved_at": at,
    }


def _phase(conditions: list[dict[str, Any]]) -> str:
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return "Evaluating" if ready else "Failing"


def run_pass(kwargs: dict[str, Any], settings: OperatorSettings) -> float:
    """One evaluation of one AlertRule; returns the seconds until the next."""
    client = kube_client()
    namespace, name = str(kwargs["namespace"]), str(kwargs["name"])
    # the object as the watch delivered it (a GET only while the watch lags behind this pass's own last write)
    obj = current_object(client, KIND, namespace, name, kwargs.get("watched"))
    if obj is None:
        return settings.resync_seconds
    obj.setdefault("kind", KIND)
    spec = AlertRuleSpec.model_validate(obj["spec"])
    raw_status = dict(obj.get("status") or {})
    status = AlertRuleStatus.model_validate(raw_status)
    now = datetime.now(UTC).replace(microsecond=0)
    found = samples(client, namespace, spec, kwargs["memo"], now) if spec.enabled else {}
    result = alerts.evaluate(name, spec, status.alerts or [], status.history or [], found, now)
    updated = status.model_copy(
        update={
            "alerts": result.alerts or None,
            "history": result.history or None,
            "firing": result.firing,
            "last_evaluation_time": now,
        }
    )
    fields = updated.patch_of("alerts", "history", "firing")
    # lastEvaluationTime is coarse: written with another change or every status heartbeat, so a quiet rule
    # evaluated every few seconds writes nothing (no churn for GitOps, no load on the apiserver)
    coarse = updated.patch_of("last_evaluation_time")
    last = status.last_evaluation_time
    coarse_due = last is None or (now - last).total_seconds() >= settings.status_heartbeat_seconds
    summary = (
        f"{result.firing} firing over {len(found)} targets" if spec.enabled else "spec.enabled is false: not evaluated"
    )
    problems = deliver(
        client,
        namespace,
        spec.notification_channels,
        [(t.event, notification(name, spec, t)) for t in result.transitions],
    )
    updates = [ConditionUpdate("Ready", True, "Evaluated" if spec.enabled else "Disabled", summary)]
    if result.transitions or problems:
        updates.append(
            ConditionUpdate(
                "Notified",
                not problems,
                "NotificationFailed" if problems else "Delivered",
                "; ".join(problems)[:1024] or "every channel accepted",
            )
        )
    finish_status(
        client, kwargs["body"], obj, raw_status, fields, updates, now, _phase, coarse=coarse, coarse_due=coarse_due
    )
    FIRING.set(namespace, name, str(spec.severity), result.firing)
    return float(spec.interval_seconds)


def register(settings: OperatorSettings) -> None:
    """Register the AlertRule daemon and its wake handler."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        return lambda: run_pass(kwargs, settings)

    def forget(kwargs: dict[str, Any]) -> None:
        FIRING.forget(str(kwargs["namespace"]), str(kwargs["name"]))

    register_polling(KIND, "alertrules", "evaluate", settings, make_pass, on_stop=forget)
