"""A real local Kubernetes control plane: etcd + kube-apiserver + kube-controller-manager on 127.0.0.1.

Binaries come from ``hack/build-controlplane.sh`` (built from Go modules, cached under
~/.cache/daytwo). Token authentication, RBAC authorisation, service-account keys; the admin
kubeconfig is written to ``<state>/kubeconfig``. Run in the foreground with
``python -m tests.harness.controlplane`` (``make cluster``); pytest and ``make demo`` use
:class:`LocalControlPlane` directly.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import yaml

from .pki import write_pki
from .processes import spawn, stop, wait_until

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STATE = REPO / ".daytwo"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_binaries() -> Path:
    """Build (or find cached) the control-plane binaries, streaming progress; returns their directory."""
    process = subprocess.Popen(
        ["bash", str(REPO / "hack" / "build-controlplane.sh")], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        if last and " cached at " not in last:
            print(last, flush=True)
        last = line.rstrip("\n")
    if process.wait() != 0:
        raise RuntimeError("hack/build-controlplane.sh failed; see its output above")
    return Path(last)


@dataclass
class User:
    """A static-token user of the local apiserver."""

    name: str
    groups: tuple[str, ...] = ()
    token: str = field(default_factory=lambda: secrets.token_hex(24))


@dataclass
class LocalControlPlane:
    """etcd, kube-apiserver and kube-controller-manager as child processes of this one."""

    state_dir: Path = DEFAULT_STATE
    extra_users: tuple[str, ...] = ("alice", "bob")
    bin_dir: Path | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    api_port: int = 0

    @property
    def kubeconfig(self) -> Path:
        """Admin kubeconfig (system:masters)."""
        return self.state_dir / "kubeconfig"

    @property
    def server(self) -> str:
        """The apiserver URL."""
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def ca_file(self) -> Path:
        """CA that signed the apiserver's serving certificate."""
        return self.state_dir / "pki" / "ca.crt"

    def kubeconfig_for(self, user: str) -> Path:
        """A kubeconfig for one of the static users (``admin``, ``alice``, ...)."""
        path = self.state_dir / f"kubeconfig-{user}"
        self._write_kubeconfig(path, self.users[user].token, user)
        return path

    def start(self, timeout: float = 120.0) -> LocalControlPlane:
        """Start everything and wait for /readyz; returns self."""
        bin_dir = self.bin_dir or build_binaries()
        data = self.state_dir / "etcd"
        shutil.rmtree(data, ignore_errors=True)
        logs = self.state_dir / "logs"
        pki = write_pki(self.state_dir / "pki")
        etcd_port, peer_port = free_port(), free_port()
        self.api_port = free_port()
        self.users = {
            "admin": User("admin", ("system:masters",)),
            "controller-manager": User("system:kube-controller-manager"),
        }
        self.users.update({name: User(name, ("system:authenticated",)) for name in self.extra_users})
        tokens = self.state_dir / "tokens.csv"
        tokens.write_text("".join(f'{u.token},{u.name},{u.name},"{",".join(u.groups)}"\n' for u in self.users.values()))
        tokens.chmod(0o600)
        self.processes.append(
            spawn(
                [
                    str(bin_dir / "etcd"),
                    "--name",
                    "daytwo",
                    "--data-dir",
                    str(data),
                    "--listen-client-urls",
                    f"http://127.0.0.1:{etcd_port}",
                    "--advertise-client-urls",
                    f"http://127.0.0.1:{etcd_port}",
                    "--listen-peer-urls",
                    f"http://127.0.0.1:{peer_port}",
                    "--initial-advertise-peer-urls",
                    f"http://127.0.0.1:{peer_port}",
                    "--initial-cluster",
                    f"daytwo=http://127.0.0.1:{peer_port}",
                    "--unsafe-no-fsync",
                    "--quota-backend-bytes",
                    str(4 * 1024**3),
                    "--log-level",
                    "warn",
                ],
                logs / "etcd.log",
            )
        )
        self.processes.append(
            spawn(
                [
                    str(bin_dir / "kube-apiserver"),
                    "--etcd-servers",
                    f"http://127.0.0.1:{etcd_port}",
                    "--bind-address",
                    "127.0.0.1",
                    "--advertise-address",
                    "127.0.0.1",
                    "--secure-port",
                    str(self.api_port),
                    "--tls-cert-file",
                    str(pki["apiserver.crt"]),
                    "--tls-private-key-file",
                    str(pki["apiserver.key"]),
                    "--client-ca-file",
                    str(pki["ca.crt"]),
                    "--token-auth-file",
                    str(tokens),
                    "--authorization-mode",
                    "RBAC",
                    "--service-account-issuer",
                    "https://kubernetes.default.svc.cluster.local",
                    "--service-account-key-file",
                    str(pki["sa.pub"]),
                    "--service-account-signing-key-file",
                    str(pki["sa.key"]),
                    "--api-audiences",
                    "https://kubernetes.default.svc.cluster.local",
                    "--service-cluster-ip-range",
                    "10.96.0.0/24",
                    "--allow-privileged",
                    "--event-ttl",
                    "1h",
                    "--v",
                    "1",
                ],
                logs / "kube-apiserver.log",
            )
        )
        self._write_kubeconfig(self.kubeconfig, self.users["admin"].token, "admin")
        wait_until(self._ready, timeout, f"kube-apiserver /readyz (log: {logs / 'kube-apiserver.log'})")
        kcm_kubeconfig = self.state_dir / "kubeconfig-controller-manager"
        self._write_kubeconfig(kcm_kubeconfig, self.users["controller-manager"].token, "controller-manager")
        self.processes.append(
            spawn(
                [
                    str(bin_dir / "kube-controller-manager"),
                    "--kubeconfig",
                    str(kcm_kubeconfig),
                    "--authentication-kubeconfig",
                    str(kcm_kubeconfig),
                    "--authorization-kubeconfig",
                    str(kcm_kubeconfig),
                    "--service-account-private-key-file",
                    str(pki["sa.key"]),
                    "--root-ca-file",
                    str(pki["ca.crt"]),
                    "--use-service-account-credentials",
                    "--leader-elect=false",
                    "--secure-port",
                    "0",
                    "--controllers",
                    "*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-cloud-node-lifecycle",
                    "--v",
                    "1",
                ],
                logs / "kube-controller-manager.log",
            )
        )
        return self

    def _ready(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        request = urllib.request.Request(
            f"{self.server}/readyz", headers={"Authorization": f"Bearer {self.users['admin'].token}"}
        )
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        with urllib.request.urlopen(request, context=context, timeout=2) as response:
            return bool(response.status == 200)

    def _write_kubeconfig(self, path: Path, token: str, user: str) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "daytwo-local", "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)}}
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": f"{user}@daytwo-local", "context": {"cluster": "daytwo-local", "user": user}}],
            "current-context": f"{user}@daytwo-local",
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(config, handle)
        os.replace(tmp, path)
        path.chmod(0o600)

    def stop(self) -> None:
        """Stop the controller-manager, apiserver and etcd, newest first."""
        for process in reversed(self.processes):
            stop(process)
        self.processes.clear()

    def __enter__(self) -> LocalControlPlane:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main() -> int:
    """`make cluster`: run the local control plane in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE)
    args = parser.parse_args()
    plane = LocalControlPlane(state_dir=args.state_dir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        plane.start()
        print(
            f"kube-apiserver {plane.server} is ready.\n  export KUBECONFIG={plane.kubeconfig}\nCtrl-C stops it.",
            flush=True,
        )
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        plane.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
