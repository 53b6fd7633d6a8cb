"""platform9's built-in drift rules, rendered by helm template as DriftRule objects the CRD model accepts."""

from __future__ import annotations

from typing import Any

import pytest
from daytwo.crds.drift import DriftRuleSpec

from tests.harness.helm import render
from tests.unit.chart.driftrule_reference import REFERENCE_SEVERITIES, TABLE

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)


def rules(*values: str) -> list[dict[str, Any]]:
    """The chart's DriftRules with the built-in rules switched on."""
    settings = ["builtinDriftRules.enabled=true", "builtinDriftRules.credentialsRef=openstack-prod", *values]
    return render(namespace="daytwo-system", values=settings, kinds={"DriftRule"})


def test_exactly_the_reference_rules_are_rendered() -> None:
    rendered = rules()
    assert len(rendered) == sum(len(fields) for fields in TABLE.values()) == 22
    pairs = sorted((rule["spec"]["target"]["resourceType"], rule["spec"]["field"]) for rule in rendered)
    assert pairs == sorted((kind, field) for kind, fields in TABLE.items() for field in fields)
    assert len({rule["metadata"]["name"] for rule in rendered}) == 22


def test_every_rule_is_valid_for_the_crd_model() -> None:
    for rule in rules("builtinDriftRules.projects={demo-project-1}"):
        spec = DriftRuleSpec.model_validate(rule["spec"])
        assert spec.target.credentials_ref.kind == "CloudCredential"
        assert spec.target.credentials_ref.name == "openstack-prod"
        assert spec.target.projects == ["demo-project-1"]
        assert spec.description and rule["metadata"]["annotations"]["daytwo.io/rule-name"]
        assert rule["metadata"]["namespace"] == "daytwo-system"
        assert rule["metadata"]["labels"]["daytwo.io/builtin"] == "true"


def test_server_severities_are_the_references() -> None:
    by_pair = {(r["spec"]["target"]["resourceType"], r["spec"]["field"]): r["spec"]["severity"] for r in rules()}
    assert {pair: by_pair[pair] for pair in REFERENCE_SEVERITIES} == REFERENCE_SEVERITIES


def test_disabled_rules_and_namespace() -> None:
    rendered = rules(
        "builtinDriftRules.disabled={builtin-server-hypervisor-hostname,builtin-port-status}",
        "builtinDriftRules.namespace=openstack",
    )
    off = sorted(rule["metadata"]["name"] for rule in rendered if not rule["spec"]["enabled"])
    assert off == ["builtin-port-status", "builtin-server-hypervisor-hostname"]
    assert {rule["metadata"]["namespace"] for rule in rendered} == {"openstack"}


def test_off_by_default() -> None:
    assert render(kinds={"DriftRule"}) == []
