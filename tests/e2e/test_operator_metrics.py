"""The operator's Prometheus /metrics, scraped from the running process after objects reconciled: passes per
kind and outcome, backend calls per cloud/operation/outcome, objects per kind and Ready, the pass pool, the
last pass times; and no label carries an object's name or namespace (bounded label sets, README Metrics)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import wait_for_condition
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import Standin, openstack_credential

pytestmark = pytest.mark.e2e

NS = "metrics-e2e-5d0c"
CREDENTIAL = "cred-3b9e71"
RULE = "rule-a41f07"
BROKEN_RULE = "rule-c2d858"
#: The labels each daytwo series may carry (README, Metrics); ``le`` is the histograms' bucket bound.
LABELS = {
    "daytwo_reconcile_passes": {"kind", "outcome"},
    "daytwo_reconcile_pass_duration_seconds": {"kind", "outcome", "le"},
    "daytwo_last_pass_timestamp_seconds": {"kind"},
    "daytwo_last_successful_pass_timestamp_seconds": {"kind"},
    "daytwo_backend_calls": {"cloud", "operation", "outcome"},
    "daytwo_backend_call_duration_seconds": {"cloud", "operation", "outcome", "le"},
    "daytwo_backend_retries": {"cloud", "operation"},
    "daytwo_objects": {"kind", "ready"},
    "daytwo_pass_pool_in_flight": set(),
    "daytwo_pass_pool_capacity": set(),
    "daytwo_pass_pool_waiting": set(),
    # the one deliberate exception (README, Metrics): per AlertRule, bounded by the rules people write
    "daytwo_alertrule_firing": {"namespace", "alertrule", "severity"},
}


def drift_rule(name: str, credential: str) -> dict[str, Any]:
    """A DriftRule on volume sizes read through ``credential``."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftRule",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "target": {"credentialsRef": {"kind": "CloudCredential", "name": credential}, "resourceType": "volume"},
            "field": "size",
            "severity": "info",
            "intervalSeconds": 3600,
        },
    }


def scrape(operator: DaytwoProcess) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of the operator's /metrics, by sample name: (labels, value)."""
    with urllib.request.urlopen(operator.metrics_url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(value for found, value in samples.get(name, []) if labels.items() <= found.items())


@pytest.fixture(scope="module")
def reconciled(kubectl: Kubectl, operator: DaytwoProcess, standins: list[Standin]) -> Any:
    """A credential against the OpenStack stand-in, a rule reading through it (Ready) and one whose
    credential does not exist (blocked)."""
    kubectl.run("create", "namespace", NS)
    items = [*openstack_credential(NS, CREDENTIAL), drift_rule(RULE, CREDENTIAL), drift_rule(BROKEN_RULE, "absent")]
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    wait_for_condition(kubectl, "d2cc", CREDENTIAL, "Ready", "True", namespace=NS, timeout=120)
    wait_for_condition(kubectl, "d2dr", RULE, "Ready", "True", namespace=NS, timeout=120)
    wait_for_condition(kubectl, "d2dr", BROKEN_RULE, "Ready", "False", namespace=NS, timeout=120)
    yield
    kubectl.run("delete", "namespace", NS, "--wait=false")


def test_passes_calls_objects_and_pool_are_measured(operator: DaytwoProcess, reconciled: Any) -> None:
    wait_until(
        lambda: total(scrape(operator), "daytwo_objects", kind="DriftRule", ready="False") >= 1,
        60,
        "the broken rule counted as not Ready",
    )
    samples = scrape(operator)
    assert total(samples, "daytwo_reconcile_passes_total", kind="DriftRule", outcome="success") >= 1
    assert total(samples, "daytwo_reconcile_passes_total", kind="DriftRule", outcome="blocked") >= 1
    assert total(samples, "daytwo_reconcile_passes_total", kind="CloudCredential", outcome="success") >= 1
    assert total(samples, "daytwo_reconcile_pass_duration_seconds_count", kind="DriftRule") >= 2
    assert total(samples, "daytwo_last_successful_pass_timestamp_seconds", kind="DriftRule") > 0
    assert total(samples, "daytwo_last_pass_timestamp_seconds", kind="CloudCredential") > 0
    assert total(samples, "daytwo_backend_calls_total", cloud="openstack", outcome="success") >= 1
    listing = total(
        samples, "daytwo_backend_calls_total", cloud="openstack", operation="list volume", outcome="success"
    )
    assert listing >= 1, samples.get("daytwo_backend_calls_total")
    assert total(samples, "daytwo_backend_call_duration_seconds_count", cloud="openstack") >= listing
    assert total(samples, "daytwo_objects", kind="DriftRule", ready="True") >= 1
    assert total(samples, "daytwo_objects", kind="CloudCredential", ready="True") >= 1
    assert total(samples, "daytwo_pass_pool_capacity") >= 1
    assert "daytwo_pass_pool_in_flight" in samples and "process_resident_memory_bytes" in samples


def test_labels_are_the_documented_bounded_sets_without_object_names(operator: DaytwoProcess, reconciled: Any) -> None:
    samples = scrape(operator)
    names = {NS, CREDENTIAL, RULE, BROKEN_RULE, "absent"}
    seen_families = set()
    for sample_name, rows in samples.items():
        family = next(
            (
                f
                for f in LABELS
                if sample_name in (f, f"{f}_total", f"{f}_created", f"{f}_count", f"{f}_sum", f"{f}_bucket")
            ),
            None,
        )
        for labels, _ in rows:
            for value in labels.values():
                assert not any(name in value for name in names), (sample_name, labels)
            if sample_name.startswith("daytwo_"):
                assert family is not None, f"{sample_name} is not documented in README, Metrics"
                assert set(labels) <= LABELS[family], (sample_name, labels)
        if family is not None:
            seen_families.add(family)
    optional = {"daytwo_backend_retries", "daytwo_alertrule_firing"}
    assert seen_families >= set(LABELS) - optional, set(LABELS) - seen_families
