"""hack/chart-check.sh (what `make test` runs for the chart) passes on the chart and fails on a broken copy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness.controlplane import REPO
from tests.harness.helm import CHART

#: First run may build helm/kubeconform and read the Kubernetes schemas from a local apiserver.
pytestmark = pytest.mark.timeout(900)


def chart_check(chart: Path) -> subprocess.CompletedProcess[str]:
    """Run hack/chart-check.sh on a chart directory."""
    return subprocess.run(
        ["bash", str(REPO / "hack" / "chart-check.sh"), str(chart)], capture_output=True, text=True, timeout=880
    )


def broken_copy(tmp_path: Path, name: str, template: str) -> Path:
    """The chart with one extra template."""
    chart = tmp_path / "daytwo"
    shutil.copytree(CHART, chart)
    (chart / "templates" / name).write_text(template)
    return chart


def test_the_chart_passes() -> None:
    result = chart_check(CHART)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chart-check: ok" in result.stdout


def test_a_misspelt_field_fails_kubeconform(tmp_path: Path) -> None:
    chart = broken_copy(
        tmp_path,
        "broken.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  prots:\n    - port: 80\n",
    )
    result = chart_check(chart)
    assert result.returncode != 0
    assert "additional properties 'prots' not allowed" in result.stdout


def test_a_wrong_driftrule_fails_against_the_crd_schema(tmp_path: Path) -> None:
    rule = (
        "apiVersion: daytwo.io/v1alpha1\nkind: DriftRule\nmetadata:\n  name: bad\nspec:\n"
        "  target: {credentialsRef: {name: os}, resourceType: server}\n  field: status\n  severity: urgent\n"
    )
    result = chart_check(broken_copy(tmp_path, "rule.yaml", rule))
    assert result.returncode != 0
    assert "/spec/severity" in result.stdout


def test_a_template_error_fails(tmp_path: Path) -> None:
    result = chart_check(broken_copy(tmp_path, "oops.yaml", "{{ .Values.nope.deeper }}\n"))
    assert result.returncode != 0
    assert "helm lint failed" in result.stderr
