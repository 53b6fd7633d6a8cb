"""horcrux /api/observability over HTTP: the admin points the OTLP export at a local receiver (decoding
opentelemetry-proto), requests are made, export-now flushes, and the receiver holds spans from the facade
and from the operator (its reconcile passes over examples/) and both processes' metrics, without a restart.
The collector header's value reaches the receiver but never an answer or the ConfigMap."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.otlp import OtlpReceiver
from tests.harness.processes import wait_until

from .conftest import NAMESPACE

# long waits by design (intervals, windows, hung endpoints): above the 120 s default
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

CONFIG = "/horcrux/api/observability/config"
EXPORT = "/horcrux/api/observability/export/metrics"


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
def configured(
    facade: Facade, examples: dict[str, Any], receiver: OtlpReceiver, kubectl: Kubectl
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The export on (a fresh service name, a collector key); switched off again afterwards."""
    service, key = f"e2e-{uuid.uuid4().hex[:8]}", f"key-{uuid.uuid4().hex}"
    body = {
        "enabled": True,
        "endpoint": receiver.endpoint,
        "service_name": service,
        "headers": {"X-Api-Key": key},
        "export_interval_seconds": 3600,  # what arrives, arrives because of export-now
    }
    with facade.client("admin") as admin:
        answer = admin.post(CONFIG, json=body)
    assert answer.status_code == 200, answer.text
    yield service, key, answer.json()
    with facade.client("admin") as admin:
        off = admin.post(CONFIG, json={"enabled": False, "headers": {}})
    assert off.status_code == 200 and off.json()["headers"] == {}
    secrets = kubectl.run("get", "secrets", "-n", NAMESPACE, "-o", "name").stdout.split()
    assert "secret/daytwo-observability-headers" not in secrets  # no headers: their values are gone too


def test_export_reaches_the_receiver_from_facade_and_operator(
    facade: Facade, kubectl: Kubectl, receiver: OtlpReceiver, configured: tuple[str, str, dict[str, Any]]
) -> None:
    service, key, answer = configured
    assert answer["enabled"] and answer["active"] and answer["headers"] == {"x-api-key": "********"}
    assert key not in json.dumps(answer)
    with facade.client("viewer") as viewer:
        shown = viewer.get(CONFIG)
        assert shown.status_code == 200 and shown.json()["service_name"] == service
        assert key not in shown.text
        assert viewer.get("/horcrux/api/vms").status_code == 200
        refused = viewer.post(EXPORT)
        assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN"
    configmap = kubectl.run("get", "configmap", "daytwo-observability", "-n", NAMESPACE, "-o", "json").stdout
    assert key not in configmap and json.loads(configmap)["data"]["header_names"] == "x-api-key"
    headers = kubectl.get("secret", "daytwo-observability-headers", NAMESPACE)["metadata"]["labels"]
    assert headers["daytwo.io/credential"] == "true" and headers["app.kubernetes.io/managed-by"] == "daytwo-api"

    def operator_exported() -> bool:
        # export-now again each time: the operator flushes on a new token, after a pass ran with the export on
        with facade.client("admin") as admin:
            exported = admin.post(EXPORT)
        assert exported.status_code == 200, exported.text
        spans = receiver.spans(f"{service}-operator")
        return bool(spans) and "daytwo.reconcile.count" in receiver.metric_names(f"{service}-operator")

    wait_until(operator_exported, 60, "the operator's spans and metrics at the receiver")
    api_spans = receiver.spans(f"{service}-api")
    vms_spans = [attrs for name, attrs in api_spans if name == "GET /horcrux/api/vms"]
    assert any(attrs["http.response.status_code"] == 200 for attrs in vms_spans), api_spans
    assert {"daytwo.api.requests", "daytwo.api.request.duration"} <= receiver.metric_names(f"{service}-api")
    operator_spans = {name for name, _ in receiver.spans(f"{service}-operator")}
    assert any(name.startswith("reconcile ") for name in operator_spans), operator_spans
    assert {h.get("x-api-key") for h in receiver.headers if h.get("x-api-key")} == {key}


def test_export_now_while_off_is_a_conflict_and_bad_input_is_refused(facade: Facade) -> None:
    with facade.client("admin") as admin:
        assert admin.post(CONFIG, json={"enabled": False}).status_code == 200
        off = admin.post(EXPORT)
        assert off.status_code == 409 and "enable it" in off.json()["message"]
        bad = admin.post(CONFIG, json={"endpoint": "ftp://collector"})
        assert bad.status_code == 422 and bad.json()["details"] == {"field": "endpoint"}
        logs = admin.post(CONFIG, json={"logs_enabled": True})
        assert logs.status_code == 422 and "not offered" in logs.json()["message"]
    with facade.client("operator") as operator:
        assert operator.post(CONFIG, json={"enabled": True}).status_code == 403
