"""The chart's operator metrics (README, Metrics): the operator serves /metrics on its own port; a Service,
a ServiceMonitor and a NetworkPolicy opening only that port come when asked for; a clash with the liveness
port and out-of-range values are refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.helm import CHART, helm, render

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)

METRICS = CHART / "ci" / "operator-metrics-values.yaml"


def operator_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The operator Deployment's container."""
    (deployment,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "daytwo-operator"]
    return dict(deployment["spec"]["template"]["spec"]["containers"][0])


def test_the_operator_serves_metrics_by_default_but_nothing_else_is_rendered() -> None:
    objects = render()
    container = operator_container(objects)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DAYTWO_METRICS_PORT"] == "8081" and env["DAYTWO_METRICS_ADDRESS"] == "0.0.0.0"
    assert {"name": "metrics", "containerPort": 8081, "protocol": "TCP"} in container["ports"]
    assert not [o for o in objects if o["metadata"]["name"] == "daytwo-operator-metrics"]
    assert not [o for o in objects if o["kind"] == "ServiceMonitor"]
    (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "daytwo-operator"]
    assert policy["spec"]["ingress"] == []


def test_service_and_service_monitor_scrape_the_operators_metrics_port() -> None:
    objects = render(values_files=[METRICS])
    (service,) = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "daytwo-operator-metrics"]
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9102, "targetPort": "metrics", "protocol": "TCP"}]
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "operator"
    assert {"name": "metrics", "containerPort": 9102, "protocol": "TCP"} in operator_container(objects)["ports"]
    (monitor,) = [o for o in objects if o["kind"] == "ServiceMonitor"]
    assert (
        monitor["apiVersion"] == "monitoring.coreos.com/v1" and monitor["metadata"]["labels"]["release"] == "prometheus"
    )
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "operator"
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}
    ]
    (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "daytwo-operator"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 9102}]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}


def test_metrics_off_renders_no_port_and_no_service() -> None:
    objects = render(values=["operator.metrics.port=0", "operator.metrics.serviceMonitor.enabled=true"])
    assert "metrics" not in {port["name"] for port in operator_container(objects)["ports"]}
    assert not [o for o in objects if o["kind"] in {"ServiceMonitor"} or o["metadata"]["name"].endswith("-metrics")]


def test_the_liveness_port_is_refused_for_metrics() -> None:
    result = helm("template", "daytwo", str(CHART), "--set", "operator.metrics.port=8080", check=False)
    assert result.returncode != 0 and "operator.metrics.port must differ from operator.livenessPort" in result.stderr


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ("operator:\n  metrics:\n    port: 70000\n", "maximum"),
        ("operator:\n  metrics:\n    serviceMonitor:\n      interval: soon\n", "interval"),
        ("operator:\n  metrics:\n    scrape: true\n", "scrape"),
    ],
)
def test_out_of_range_metrics_values_are_refused(tmp_path: Any, values: str, complaint: str) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(values)
    result = helm("lint", "--strict", str(CHART), "-f", str(path), check=False)
    assert result.returncode != 0 and complaint in result.stdout + result.stderr
