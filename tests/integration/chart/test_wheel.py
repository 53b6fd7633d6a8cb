"""The wheel the Dockerfile builds (pip wheel, a subprocess) holds every source package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.harness.controlplane import REPO


@pytest.mark.timeout(300)
def test_wheel_contains_every_package(tmp_path: Path) -> None:
    """The wheel the image installs has every source package, not only the three mapped top-level ones."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for top in ("operator", "api", "crds"):
        shutil.copytree(REPO / top, source / top, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("daytwo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for top in ("operator", "api", "crds"):
        for module in (source / top).rglob("*.py"):
            inside = f"daytwo/{top}/{module.relative_to(source / top).as_posix()}"
            assert inside in names, f"{inside} is missing from the wheel: list its package in pyproject.toml"
    assert "daytwo/crds/generated/daytwo.io_driftrules.yaml" in names
