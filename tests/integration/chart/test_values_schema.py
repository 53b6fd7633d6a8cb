"""values.schema.json through helm lint: misspelt, mistyped or out-of-range values are refused, shipped ones pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.helm import CHART, helm

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)


def lint(tmp_path: Path, values: str) -> tuple[int, str]:
    """helm lint --strict with one values file; (exit code, output)."""
    path = tmp_path / "values.yaml"
    path.write_text(values)
    result = helm("lint", "--strict", str(CHART), "-f", str(path), check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ("bogus: true\n", "additional properties 'bogus' not allowed"),
        ("operator:\n  standbyReplica: 1\n", "additional properties 'standbyReplica' not allowed"),
        ("operator:\n  standbyReplicas: -1\n", "/operator/standbyReplicas"),
        ("operator:\n  standbyReplicas: one\n", "/operator/standbyReplicas"),
        ("operator:\n  logFormat: xml\n", "/operator/logFormat"),
        ("operator:\n  watchNamespaces: [Team_A]\n", "/operator/watchNamespaces/0"),
        ("image:\n  pullPolicy: Sometimes\n", "/image/pullPolicy"),
        ("image:\n  digest: latest\n", "/image/digest"),
        ("facade:\n  port: 70000\n", "/facade/port"),
        ("facade:\n  ingress:\n    hosts: [{host: x, paths: [{path: api, pathType: Prefix}]}]\n", "/path"),
        ("networkPolicy:\n  apiServer: {cidrs: [], ports: [443]}\n", "/networkPolicy/apiServer/cidrs"),
        ("serviceMonitor:\n  interval: soon\n", "/serviceMonitor/interval"),
        ("builtinDriftRules:\n  enabled: true\n", "/builtinDriftRules/credentialsRef"),
        ("builtinDriftRules:\n  disabled: [server-status]\n", "/builtinDriftRules/disabled/0"),
    ],
)
def test_bad_values_are_refused(tmp_path: Path, values: str, complaint: str) -> None:
    code, output = lint(tmp_path, values)
    assert code != 0, output
    assert complaint in output, output


def test_shipped_values_files_pass(tmp_path: Path) -> None:
    for path in [CHART / "values.yaml", *sorted((CHART / "ci").glob("*-values.yaml"))]:
        code, output = lint(tmp_path, path.read_text())
        assert code == 0, f"{path.name}: {output}"
