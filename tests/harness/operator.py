"""The operator and the facade as real processes, as a person runs them (`daytwo-operator`, `daytwo-api`)."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .controlplane import free_port
from .processes import kill, spawn, stop, wait_until

VENV_BIN = Path(sys.executable).parent


def _get(url: str) -> int:
    # an HTTPS facade (DAYTWO_API_TLS_SECRET) serves a certificate the tests inspect rather than trust
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    with urllib.request.urlopen(url, timeout=2, context=context) as response:
        return int(response.status)


@dataclass
class DaytwoProcess:
    """One daytwo process with its log file; restartable for crash tests."""

    command: str
    kubeconfig: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    #: The operator's Prometheus /metrics port (a free one unless given; the facade serves /metrics on ``port``).
    metrics_port: int = 0
    #: ``https`` for a facade serving TLS (DAYTWO_API_TLS_SECRET).
    scheme: str = "http"

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        if self.command == "daytwo-operator":
            self.metrics_port = self.metrics_port or free_port()

    @property
    def metrics_url(self) -> str:
        """Where the process serves Prometheus metrics."""
        if self.command == "daytwo-operator":
            return f"http://127.0.0.1:{self.metrics_port}/metrics"
        return f"{self.url}/metrics"

    @property
    def url(self) -> str:
        """Base URL of the process's HTTP endpoint (liveness for the operator, the API for the facade)."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> DaytwoProcess:
        """Start the process and wait until its HTTP endpoint answers."""
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), **self.env}
        if self.command == "daytwo-operator":
            env["DAYTWO_LIVENESS_ENDPOINT"] = f"{self.url}/healthz"
            env.setdefault("DAYTWO_METRICS_PORT", str(self.metrics_port))
            probe = f"{self.url}/healthz"
        else:
            env["DAYTWO_API_PORT"] = str(self.port)
            probe = f"{self.url}/health"
        self.process = spawn([str(VENV_BIN / self.command)], self.log_path, env=env)
        wait_until(
            lambda: self._alive() and _get(probe) == 200, timeout, f"{self.command} on {probe} ({self.log_path})"
        )
        return self

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.command} exited with {self.process.returncode}; see {self.log_path}")
        return True

    def stop(self) -> None:
        """Graceful stop (SIGTERM)."""
        if self.process is not None:
            stop(self.process)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None:
            kill(self.process)

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def shard_operator(
    kubeconfig: Path, log_path: Path, shard: int, shards: int, env: dict[str, str] | None = None
) -> DaytwoProcess:
    """`daytwo-operator` as shard ``shard`` of ``shards`` (README, Sharding): its own shard id, no metrics port
    (several run on one host), Leases in ``default`` unless ``env`` says otherwise. Not started yet."""
    return DaytwoProcess(
        "daytwo-operator",
        kubeconfig,
        log_path,
        env={
            "DAYTWO_SHARDS": str(shards),
            "DAYTWO_SHARD_ID": str(shard),
            "DAYTWO_SHARD_NAMESPACE": "default",
            "DAYTWO_METRICS_PORT": "0",
            **(env or {}),
        },
    )
