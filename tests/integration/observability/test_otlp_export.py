"""The OTLP/HTTP export set-up (daytwo.operator.observability) against a local receiver decoding
opentelemetry-proto: spans and metrics arrive with the service name and headers configured, a new
configuration applies without restart, and a new export token makes the poller flush."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from daytwo.operator.observability import ConfigPoller, ObservabilityConfig, Telemetry, parse_config

from tests.harness.otlp import OtlpReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    made = Telemetry("operator")
    yield made
    made.shutdown()


def _config(endpoint: str, **fields: object) -> ObservabilityConfig:
    # a long metric interval: anything that arrives came from an explicit flush
    base: dict[str, object] = {"enabled": True, "endpoint": endpoint, "export_interval_seconds": 3600.0}
    return ObservabilityConfig(**{**base, **fields})  # type: ignore[arg-type]


def test_spans_and_metrics_arrive_with_service_name_and_headers(receiver: OtlpReceiver, telemetry: Telemetry) -> None:
    config = _config(receiver.endpoint, service_name="d2-it", header_names=("x-api-key",))
    assert telemetry.apply(config, {"x-api-key": "collector-key-1", "x-not-configured": "dropped"})
    with telemetry.timed("reconcile", "reconcile ProxmoxNode", {"kind": "ProxmoxNode"}):
        pass
    count = telemetry.flush()
    assert count == 2  # daytwo.reconcile.count and daytwo.reconcile.duration
    assert receiver.spans("d2-it-operator") == [("reconcile ProxmoxNode", {"kind": "ProxmoxNode"})]
    assert receiver.metric_names("d2-it-operator") == {"daytwo.reconcile.count", "daytwo.reconcile.duration"}
    assert all(h.get("x-api-key") == "collector-key-1" for h in receiver.headers)
    assert not any("x-not-configured" in h for h in receiver.headers)


def test_reconfiguration_applies_without_restart(receiver: OtlpReceiver, telemetry: Telemetry) -> None:
    telemetry.apply(_config(receiver.endpoint))
    assert not telemetry.apply(_config(receiver.endpoint)), "the same configuration must not rebuild"
    telemetry.apply(_config(receiver.endpoint, enabled=False))
    assert not telemetry.active
    with telemetry.span("while off"):
        pass
    assert telemetry.flush() == 0
    with OtlpReceiver() as other:
        telemetry.apply(_config(other.endpoint, metrics_enabled=False))
        with telemetry.span("after the switch"):
            pass
        assert telemetry.flush() == 0  # no metrics pipeline
        assert [name for name, _ in other.spans("daytwo-operator")] == ["after the switch"]
    assert receiver.spans("daytwo-operator") == []


def test_poller_applies_and_flushes_on_a_new_export_token(receiver: OtlpReceiver, telemetry: Telemetry) -> None:
    data = {"enabled": "true", "endpoint": receiver.endpoint, "export_interval_seconds": "3600"}

    def read() -> tuple[Mapping[str, str] | None, Mapping[str, str]]:
        return dict(data), {}

    poller = ConfigPoller(telemetry, read, 3600)
    poller.poll()
    assert telemetry.active
    telemetry.count("daytwo.test.count", {"k": "v"})
    poller.poll()  # same token: nothing flushed
    assert receiver.metric_names("daytwo-operator") == set()
    data["export_requested_at"] = "2026-01-01T00:00:00Z/1"
    poller.poll()
    assert receiver.metric_names("daytwo-operator") == {"daytwo.test.count"}


def test_poller_keeps_the_configuration_when_the_read_fails(receiver: OtlpReceiver, telemetry: Telemetry) -> None:
    answers: list[Mapping[str, str] | None] = [{"enabled": "true", "endpoint": receiver.endpoint}]

    def read() -> tuple[Mapping[str, str] | None, Mapping[str, str]]:
        if not answers:
            raise ConnectionError("apiserver away")
        return answers.pop(), {}

    poller = ConfigPoller(telemetry, read, 3600)
    poller.poll()
    poller.poll()
    assert telemetry.active
    assert telemetry.config == parse_config({"enabled": "true", "endpoint": receiver.endpoint})
