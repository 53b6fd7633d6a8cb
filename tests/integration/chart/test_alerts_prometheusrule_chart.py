"""The chart's PrometheusRule (README, Alerts): off by default; when enabled, a valid monitoring.coreos.com/v1
PrometheusRule over the series the operator exports (daytwo_alertrule_firing and its health series)."""

from __future__ import annotations

import jsonschema
import pytest
from daytwo.operator.shared.prometheusrule import FIRING_METRIC

from tests.harness.helm import render
from tests.unit.operator.test_alerts_prometheusrule import SCHEMA

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)


def test_no_prometheusrule_by_default() -> None:
    assert not [o for o in render() if o["kind"] == "PrometheusRule"]


def test_enabled_prometheusrule_is_valid_and_alerts_on_the_operator_series() -> None:
    (rule,) = [
        o
        for o in render(values=["prometheusRule.enabled=true", "prometheusRule.labels.release=kube-prometheus"])
        if o["kind"] == "PrometheusRule"
    ]
    jsonschema.validate(rule, SCHEMA)
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus"
    rules = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert rules["DaytwoAlertRuleFiring"]["expr"] == f"{FIRING_METRIC} > 0"
    assert "{{ $labels.alertrule }}" in rules["DaytwoAlertRuleFiring"]["annotations"]["summary"]
    assert {"DaytwoReconcileErrors", "DaytwoObjectsNotReady"} <= set(rules)
