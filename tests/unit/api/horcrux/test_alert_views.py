"""horcrux /api/alerts shapes (api/views/horcrux/alerts.py): conditions, rules, active alerts, history, channels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from daytwo.api.views.horcrux import alerts as views
from daytwo.operator.shared.alertchannels import channel_document


def _rule(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "rule-1"},
        "spec": {
            "displayName": "High CPU",
            "metric": "guest_cpu",
            "comparison": ">",
            "threshold": 90.0,
            "forSeconds": 300,
            "severity": "critical",
            "notificationChannels": ["ops"],
            "acknowledgements": [{"target": "pve:100", "by": "bob", "at": "2026-01-01T00:05:00Z"}],
        },
        "status": status,
    }


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("cpu_usage > 90", ("guest_cpu", ">", 90.0)),
        ("node_memory_usage>80.5", ("node_memory", ">", 80.5)),
        ("snapshot_sla < 95", ("snapshot_sla", "<", 95.0)),
        ("guest_disk > 1", ("guest_disk", ">", 1.0)),
    ],
)
def test_conditions_map_onto_the_spec(text: str, parsed: tuple[str, str, float]) -> None:
    assert views.parse_condition(text) == parsed


@pytest.mark.parametrize("text", ["load > 3", "cpu_usage >= 90", "cpu_usage > ninety", ""])
def test_bad_conditions_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="cpu_usage, memory_usage"):
        views.parse_condition(text)


def test_rule_in_horcrux_shape() -> None:
    shaped = views.rule(_rule(firing=2))
    assert shaped["id"] == "rule-1" and shaped["name"] == "High CPU"
    assert shaped["condition"] == "cpu_usage > 90" and shaped["duration"] == 300
    assert shaped["notification_channels"] == ["ops"] and shaped["firing"] == 2


def test_active_lists_firing_not_pending_with_acknowledgement() -> None:
    status = {
        "alerts": [
            {"target": "pve:100", "state": "firing", "since": "x", "triggeredAt": "2026-01-01T00:00:00Z", "value": 97},
            {"target": "pve:101", "state": "pending", "since": "2026-01-01T00:00:00Z", "value": 95},
            {
                "target": "pve:102",
                "state": "clearing",
                "since": "x",
                "triggeredAt": "2026-01-02T00:00:00Z",
                "value": 50,
            },
        ],
        "history": [{"alertId": "alert-abc", "target": "pve:100", "triggeredAt": "2026-01-01T00:00:00Z"}],
    }
    active = views.active_alerts([_rule(**status)])
    assert [a["target"] for a in active] == ["pve:100", "pve:102"]
    assert active[0]["alert_id"] == "alert-abc" and active[0]["acknowledged"] is True
    assert active[0]["acknowledged_by"] == "bob" and active[1]["acknowledged"] is False


def test_history_filters_by_range_and_severity_newest_first() -> None:
    history = [
        {"alertId": "a2", "target": "t", "severity": "critical", "triggeredAt": "2026-01-02T00:00:00Z", "value": 1},
        {"alertId": "a1", "target": "t", "severity": "critical", "triggeredAt": "2026-01-01T00:00:00Z", "value": 1},
    ]
    rules = [_rule(history=history)]
    assert [h["alert_id"] for h in views.alert_history(rules, None, None, None)] == ["a2", "a1"]
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert [h["alert_id"] for h in views.alert_history(rules, start, None, None)] == ["a2"]
    assert views.alert_history(rules, None, None, "info") == []


def test_channel_configmap_round_trip_without_secret() -> None:
    cm = views.channel_configmap(
        "channel-1", {"name": "ops", "type": "webhook", "config": {"url": "https://h/x"}}, True
    )
    assert cm["metadata"]["name"] == "horcrux-channel-1"
    assert cm["metadata"]["labels"][views.CHANNEL_LABEL] == "definition"
    assert channel_document(cm) == {
        "id": "channel-1",
        "name": "ops",
        "type": "webhook",
        "config": {"url": "https://h/x"},
        "enabled": True,
        "has_secret": True,
    }
    assert channel_document({"data": {"channel.json": "{"}}) is None
