"""The chart's pass pool and back-off settings (README, the pass pool): operator.endpointWorkers,
referenceBackoffSeconds and statusHeartbeatSeconds reach the operator as the environment its settings read,
and out-of-range values are refused."""

from __future__ import annotations

from typing import Any

import pytest
from daytwo.operator.settings import OperatorSettings

from tests.harness.helm import CHART, helm, render

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)

POOL_ENV = (
    "DAYTWO_WORKERS",
    "DAYTWO_ENDPOINT_WORKERS",
    "DAYTWO_REFERENCE_BACKOFF_SECONDS",
    "DAYTWO_STATUS_HEARTBEAT_SECONDS",
)


def operator_env(objects: list[dict[str, Any]]) -> dict[str, str]:
    """The operator Deployment's environment (plain values)."""
    (deployment,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "daytwo-operator"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> OperatorSettings:
    """The operator's settings as the pod's environment gives them."""
    for name in POOL_ENV:
        monkeypatch.setenv(name, env[name])
    return OperatorSettings()


def test_the_defaults_match_the_operators_own(monkeypatch: pytest.MonkeyPatch) -> None:
    env = operator_env(render())
    assert {name: env[name] for name in POOL_ENV} == {
        "DAYTWO_WORKERS": "6",
        "DAYTWO_ENDPOINT_WORKERS": "3",
        "DAYTWO_REFERENCE_BACKOFF_SECONDS": "2",
        "DAYTWO_STATUS_HEARTBEAT_SECONDS": "3600",
    }
    defaults = OperatorSettings.model_fields
    settings = settings_from(env, monkeypatch)
    assert settings.endpoint_workers == defaults["endpoint_workers"].default
    assert settings.reference_backoff_seconds == defaults["reference_backoff_seconds"].default
    assert settings.status_heartbeat_seconds == defaults["status_heartbeat_seconds"].default


def test_values_reach_the_operator(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "values.yaml"  # a file: --set would give 0.5 as a string
    path.write_text(
        "operator:\n  workers: 12\n  endpointWorkers: 4\n  referenceBackoffSeconds: 0.5\n"
        "  statusHeartbeatSeconds: 600\n"
    )
    settings = settings_from(operator_env(render(values_files=[path])), monkeypatch)
    assert (settings.workers, settings.endpoint_workers) == (12, 4)
    assert (settings.reference_backoff_seconds, settings.status_heartbeat_seconds) == (0.5, 600.0)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ("operator:\n  endpointWorkers: 0\n", "endpointWorkers"),
        ("operator:\n  referenceBackoffSeconds: 0\n", "referenceBackoffSeconds"),
        ("operator:\n  statusHeartbeatSeconds: soon\n", "statusHeartbeatSeconds"),
    ],
)
def test_out_of_range_values_are_refused(tmp_path: Any, values: str, complaint: str) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(values)
    result = helm("lint", "--strict", str(CHART), "-f", str(path), check=False)
    assert result.returncode != 0 and complaint in result.stdout + result.stderr
