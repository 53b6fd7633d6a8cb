"""AlertRule evaluation (reconcile.alerts): samples from plain objects, for durations, hysteresis, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.alertrule import AlertAcknowledgement, AlertMetric, AlertRuleSpec
from daytwo.operator.reconcile import alerts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _spec(**fields: Any) -> AlertRuleSpec:
    base: dict[str, Any] = {"displayName": "High CPU", "metric": "guest_cpu", "threshold": 90}
    return AlertRuleSpec.model_validate(base | fields)


def _run(spec: AlertRuleSpec, values: list[float | None], step: int = 10) -> list[alerts.Evaluation]:
    """Evaluate ``values`` of target pve:100 every ``step`` seconds from T0, carrying state along."""
    results: list[alerts.Evaluation] = []
    current, history = [], []  # type: ignore[var-annotated]
    for i, value in enumerate(values):
        samples = {} if value is None else {"pve:100": value}
        result = alerts.evaluate("rule-1", spec, current, history, samples, T0 + timedelta(seconds=i * step))
        current, history = result.alerts, result.history
        results.append(result)
    return results


def _events(results: list[alerts.Evaluation]) -> list[tuple[int, str]]:
    return [(i, t.event) for i, r in enumerate(results) for t in r.transitions]


def test_fires_only_after_the_condition_held_for_its_duration() -> None:
    results = _run(_spec(forSeconds=30), [95, 95, 95, 95])
    assert [r.alerts[0].state for r in results] == ["pending", "pending", "pending", "firing"]
    assert _events(results) == [(3, "alert.triggered")]
    assert results[3].history[0].triggered_at == T0 + timedelta(seconds=30)


def test_a_dip_before_the_duration_resets_pending() -> None:
    results = _run(_spec(forSeconds=20), [95, 80, 95, 95, 95])
    assert _events(results) == [(4, "alert.triggered")]


def test_hysteresis_resolves_only_below_the_clear_threshold_after_clear_duration() -> None:
    spec = _spec(clearThreshold=70, clearForSeconds=20)
    results = _run(spec, [95, 85, 60, 95, 60, 60, 60])
    # 85 is under the threshold but above the clear threshold: still firing; 60 starts clearing, 95 returns
    # to firing without a new notification; 60 for 20 s resolves.
    assert [r.alerts[0].state if r.alerts else None for r in results] == [
        "firing",
        "firing",
        "clearing",
        "firing",
        "clearing",
        "clearing",
        None,
    ]
    assert _events(results) == [(0, "alert.triggered"), (6, "alert.resolved")]
    record = results[-1].history[0]
    assert record.resolved_at == T0 + timedelta(seconds=60)
    assert results[-1].transitions[0].alert_id == record.alert_id


def test_below_comparison_and_disappearing_targets() -> None:
    results = _run(_spec(metric="snapshot_sla", comparison="<", threshold=95), [80, None])
    assert _events(results) == [(0, "alert.triggered"), (1, "alert.resolved")]


def test_disabled_rule_resolves_what_fired() -> None:
    first = alerts.evaluate("r", _spec(), [], [], {"pve:100": 99}, T0)
    second = alerts.evaluate("r", _spec(enabled=False), first.alerts, first.history, {"pve:100": 99}, T0)
    assert [t.event for t in second.transitions] == ["alert.resolved"]
    assert second.alerts == []


def test_acknowledgement_applies_to_the_current_firing_only() -> None:
    first = alerts.evaluate("r", _spec(), [], [], {"pve:100": 99}, T0)
    old_ack = AlertAcknowledgement(target="pve:100", by="alice", at=T0 - timedelta(hours=1))
    acked = alerts.evaluate(
        "r",
        _spec(acknowledgements=[old_ack.model_dump(by_alias=True)]),
        first.alerts,
        first.history,
        {"pve:100": 99},
        T0,
    )
    assert acked.history[0].acknowledged_by is None
    ack = AlertAcknowledgement(target="pve:100", by="bob", at=T0 + timedelta(seconds=5))
    acked = alerts.evaluate(
        "r", _spec(acknowledgements=[ack.model_dump(by_alias=True)]), first.alerts, first.history, {"pve:100": 99}, T0
    )
    assert acked.history[0].acknowledged_by == "bob"


def test_history_is_bounded_newest_first() -> None:
    current, history = [], []  # type: ignore[var-annotated]
    for i in range(alerts.HISTORY_LIMIT + 5):
        now = T0 + timedelta(minutes=i)
        fired = alerts.evaluate("r", _spec(), current, history, {"pve:100": 99}, now)
        cleared = alerts.evaluate("r", _spec(), fired.alerts, fired.history, {"pve:100": 1}, now + timedelta(seconds=1))
        current, history = cleared.alerts, cleared.history
    assert len(history) == alerts.HISTORY_LIMIT
    assert history[0].triggered_at > history[-1].triggered_at
    assert all(record.resolved_at is not None for record in history)


def test_samples_from_inventory_records_nodes_policies_and_drift() -> None:
    records = {
        "pve": [
            {"vmid": 100, "status": "running", "cpu": 0.97, "mem": 512, "maxmem": 1024, "disk": 1, "maxdisk": 4},
            {"vmid": 101, "status": "stopped", "cpu": 0.0, "mem": 0, "maxmem": 1024, "disk": 0, "maxdisk": 0},
        ]
    }
    assert alerts.guest_samples(records, AlertMetric.GUEST_CPU) == {"pve:100": 97.0}
    assert alerts.guest_samples(records, AlertMetric.GUEST_MEMORY) == {"pve:100": 50.0, "pve:101": 0.0}
    assert alerts.guest_samples(records, AlertMetric.GUEST_DISK) == {"pve:100": 25.0}
    node = {
        "metadata": {"name": "pve"},
        "status": {"nodes": [{"name": "n1", "online": True, "cpu": 0.5, "mem": 3, "maxmem": 4}]},
    }
    assert alerts.node_samples([node], AlertMetric.NODE_CPU) == {"pve:n1": 50.0}
    assert alerts.node_samples([node], AlertMetric.NODE_MEMORY) == {"pve:n1": 75.0}
    policy = {
        "metadata": {"name": "p"},
        "status": {"sla": {"tenants": [{"compliant": 3, "warning": 1, "critical": 0}]}},
    }
    assert alerts.sla_samples([policy]) == {"p": 75.0}
    rule = {"metadata": {"name": "d"}, "status": {"unacknowledgedEvents": 2}}
    assert alerts.drift_samples([rule]) == {"d": 2.0}


def test_network_rates_from_counters() -> None:
    rates, kept = alerts.network_rates({}, {"pve:100": 1000.0}, T0)
    assert rates == {}
    rates, kept = alerts.network_rates(kept, {"pve:100": 3000.0}, T0 + timedelta(seconds=10))
    assert rates == {"pve:100": 200.0}
    rates, _ = alerts.network_rates(kept, {"pve:100": 10.0}, T0 + timedelta(seconds=20))
    assert rates == {}  # counter reset
