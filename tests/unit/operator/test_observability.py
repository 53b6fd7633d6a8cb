"""The OpenTelemetry configuration as the ConfigMap holds it (daytwo.operator.observability): parsing, defaults,
the round trip, and what counts as active."""

from __future__ import annotations

from daytwo.operator.observability import (
    ObservabilityConfig,
    Telemetry,
    config_data,
    headers_secret_name,
    parse_config,
    redacted,
)


def test_defaults_when_absent_or_malformed() -> None:
    assert parse_config(None) == ObservabilityConfig()
    config = parse_config({"enabled": "yes", "sampling_ratio": "lots", "export_interval_seconds": "0", "endpoint": " "})
    assert config.enabled and config.sampling_ratio == 1.0 and config.export_interval_seconds == 1.0
    assert not config.active  # enabled without an endpoint exports nothing


def test_round_trip_and_header_names_sorted_unique() -> None:
    config = ObservabilityConfig(
        enabled=True,
        endpoint="http://collector:4318",
        service_name="edge",
        trace_enabled=False,
        sampling_ratio=0.25,
        export_interval_seconds=15.0,
        header_names=("authorization", "x-api-key"),
        export_requested_at="t1",
    )
    assert parse_config(config_data(config)) == config
    assert parse_config({"header_names": "x-b, x-a,,x-b"}).header_names == ("x-a", "x-b")
    assert parse_config({"endpoint": "http://c:4318/"}).endpoint == "http://c:4318"


def test_export_token_is_not_part_of_the_setup() -> None:
    assert ObservabilityConfig(export_requested_at="a") == ObservabilityConfig(export_requested_at="b")


def test_active_needs_enabled_endpoint_and_a_signal() -> None:
    on = {"enabled": "true", "endpoint": "http://c:4318"}
    assert parse_config(on).active
    assert not parse_config({**on, "trace_enabled": "false", "metrics_enabled": "false"}).active
    assert not parse_config({**on, "enabled": "false"}).active


def test_header_values_are_hidden_and_their_secret_named_after_the_configmap() -> None:
    assert redacted(("x-api-key",)) == {"x-api-key": "********"}
    assert headers_secret_name("daytwo-observability") == "daytwo-observability-headers"


def test_disabled_telemetry_records_nothing() -> None:
    telemetry = Telemetry("api")
    with telemetry.timed("reconcile", "pass", {"kind": "X"}):
        pass
    telemetry.record_span("GET /x", 1, 2, {})
    assert not telemetry.active and telemetry.flush() == 0
    assert telemetry.service_name == "daytwo-api"
