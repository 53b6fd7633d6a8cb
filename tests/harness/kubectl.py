"""kubectl from the hack/ build, bound to one kubeconfig: the same tool a person uses."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .controlplane import build_binaries


@dataclass
class Kubectl:
    """Runs kubectl against one cluster."""

    kubeconfig: Path
    binary: Path | None = None

    def __post_init__(self) -> None:
        if self.binary is None:
            self.binary = build_binaries() / "kubectl"

    def run(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run kubectl; raise with its stderr when ``check`` and it fails."""
        result = subprocess.run(
            [str(self.binary), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def apply(self, manifest: str | Path) -> subprocess.CompletedProcess[str]:
        """``kubectl apply`` a file/folder path or a YAML string."""
        if isinstance(manifest, Path):
            return self.run("apply", "-f", str(manifest))
        return self.run("apply", "-f", "-", input=manifest)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One object as JSON."""
        args = ["get", kind, name, "-o", "json"] + (["-n", namespace] if namespace else [])
        result: dict[str, Any] = json.loads(self.run(*args).stdout)
        return result
