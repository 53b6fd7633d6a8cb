"""AlertRules rendered as a PrometheusRule: the object validates against the PrometheusRule spec shape."""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml
from daytwo.operator.shared.prometheusrule import FIRING_METRIC, prometheus_rule

#: The monitoring.coreos.com/v1 PrometheusRule shape (from the Prometheus operator's CRD: spec.groups[].rules[]
#: with alert|record, expr, for, labels, annotations), written out since no CRD schema is available offline.
_DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PrometheusRule"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "labels": _STRINGS,
            },
        },
        "spec": {
            "type": "object",
            "required": ["groups"],
            "additionalProperties": False,
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "rules"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "interval": _DURATION,
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["expr"],
                                    "additionalProperties": False,
                                    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                                    "properties": {
                                        "alert": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                                        "record": {"type": "string"},
                                        "expr": {"type": "string", "minLength": 1},
                                        "for": _DURATION,
                                        "keep_firing_for": _DURATION,
                                        "labels": _STRINGS,
                                        "annotations": _STRINGS,
                                    },
                                },
                            },
                        },
                    },
                }
            },
        },
    },
}


def _rule(name: str, display: str, **spec: Any) -> dict[str, Any]:
    base = {"displayName": display, "metric": "guest_cpu", "comparison": ">", "threshold": 90, "severity": "critical"}
    return {"metadata": {"name": name}, "spec": base | spec}


def test_rendered_rule_is_a_valid_prometheusrule() -> None:
    rendered = prometheus_rule(
        [_rule("rule-b", "High guest CPU"), _rule("rule-a", 'Odd "name" / 100%'), _rule("off", "x", enabled=False)],
        "daytwo-examples",
    )
    jsonschema.validate(rendered, SCHEMA)
    jsonschema.validate(yaml.safe_load(yaml.safe_dump(rendered)), SCHEMA)  # as kubectl apply would read it
    groups = {g["name"]: g["rules"] for g in rendered["spec"]["groups"]}
    alerts = groups["daytwo-alertrules"]
    assert [a["alert"] for a in alerts] == ["DaytwoOddName100", "DaytwoHighGuestCpu"]
    assert alerts[1]["expr"] == f'{FIRING_METRIC}{{namespace="daytwo-examples",alertrule="rule-b"}} > 0'
    assert alerts[1]["labels"] == {"severity": "critical", "alertrule": "rule-b"}
    assert "guest_cpu > 90" in alerts[1]["annotations"]["summary"]
    assert {a["alert"] for a in groups["daytwo-operator"]} == {"DaytwoReconcileErrors", "DaytwoObjectsNotReady"}


def test_without_rules_only_the_operator_health_group() -> None:
    rendered = prometheus_rule([], "ns")
    jsonschema.validate(rendered, SCHEMA)
    assert [g["name"] for g in rendered["spec"]["groups"]] == ["daytwo-operator"]


def test_the_schema_refuses_a_malformed_rule() -> None:
    rendered = prometheus_rule([_rule("r", "High")], "ns")
    rendered["spec"]["groups"][0]["rules"][0]["for"] = "five minutes"
    try:
        jsonschema.validate(rendered, SCHEMA)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a bad duration passed the schema")
