"""helm (and kubeconform) from hack/build-tools.sh, and the daytwo chart rendered as a list of objects."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .controlplane import REPO

__all__ = ["CHART", "helm", "kubeconform", "render", "tools_dir"]

CHART = REPO / "charts" / "daytwo"


@functools.cache
def tools_dir() -> Path:
    """Build (or find cached) helm and kubeconform; returns their directory."""
    result = subprocess.run(
        ["bash", str(REPO / "hack" / "build-tools.sh")], capture_output=True, text=True, timeout=1200
    )
    if result.returncode != 0:
        raise RuntimeError(f"hack/build-tools.sh failed:\n{result.stdout}\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm; raise with its stderr when ``check`` and it fails."""
    result = subprocess.run([str(tools_dir() / "helm"), *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def kubeconform() -> Path:
    """Path of the kubeconform binary."""
    return tools_dir() / "kubeconform"


def render(
    *,
    namespace: str = "daytwo-system",
    values: Iterable[str] = (),
    values_files: Iterable[Path] = (),
    chart: Path = CHART,
    kinds: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """``helm template daytwo`` with CRDs, as objects; ``values`` are ``--set`` pairs, ``kinds`` filters."""
    args = ["template", "daytwo", str(chart), "--namespace", namespace, "--include-crds", "--kube-version", "1.33.13"]
    for pair in values:
        args += ["--set", pair]
    for path in values_files:
        args += ["-f", str(path)]
    objects = [doc for doc in yaml.safe_load_all(helm(*args).stdout) if doc]
    wanted = set(kinds) if kinds is not None else None
    return [obj for obj in objects if wanted is None or obj["kind"] in wanted]
