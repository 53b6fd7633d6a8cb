"""The e2e world: one real control plane per session, daytwo's CRDs, the operator and the facade."""

from __future__ import annotations

import fcntl
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

import pytest

from tests.harness.controlplane import REPO, LocalControlPlane
from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import spawn, stop, wait_until
from tests.harness.standins import Standin, all_standins

EXAMPLES = REPO / "examples"
NAMESPACE = "daytwo-examples"
FIXED_PORTS_LOCK = "/tmp/daytwo-e2e.lock"


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalControlPlane]:
    """A real kube-apiserver + etcd + kube-controller-manager from hack/, started once per session."""
    with LocalControlPlane(state_dir=tmp_path_factory.mktemp("cluster")) as plane:
        yield plane


@pytest.fixture(scope="session")
def kubectl(cluster: LocalControlPlane) -> Kubectl:
    """kubectl as the cluster admin, with daytwo's CRDs installed and established."""
    admin = Kubectl(cluster.kubeconfig)
    admin.apply(REPO / "crds" / "generated")
    admin.run("wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "app.kubernetes.io/part-of=daytwo")
    return admin


@pytest.fixture(scope="session")
def operator(
    cluster: LocalControlPlane, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DaytwoProcess]:
    """`daytwo-operator` as a real process against the cluster."""
    process = DaytwoProcess(
        "daytwo-operator",
        cluster.kubeconfig,
        tmp_path_factory.mktemp("logs") / "operator.log",
        env={
            "DAYTWO_RESYNC_SECONDS": "5",
            "DAYTWO_RETRY_DELAY_SECONDS": "2",
            "DAYTWO_RESTORE_POLL_SECONDS": "0.5",
            # OpenTelemetry as the facade configures it (test_horcrux_observability); off until then
            "DAYTWO_OBSERVABILITY_CONFIGMAP": f"{NAMESPACE}/daytwo-observability",
            "DAYTWO_OBSERVABILITY_RELOAD_SECONDS": "2",
        },
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def facade(cluster: LocalControlPlane, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Facade]:
    """`daytwo-api` as a real process serving NAMESPACE over HTTP, with one user per role (tests/harness/facade.py)."""
    running = Facade.start(  # registration on: the e2e tests exercise it (its default is off)
        cluster.kubeconfig, kubectl, NAMESPACE, tmp_path_factory.mktemp("facade-logs"), allow_registration=True
    )
    yield running
    running.stop()


def stack_lock() -> IO[bytes]:
    """An exclusive lock on the fixed stand-in ports (held until the returned file is closed)."""
    handle = open(FIXED_PORTS_LOCK, "wb")  # noqa: SIM115 - held for the whole session
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


@pytest.fixture(scope="session")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Standin]]:
    """The stand-ins examples/ point at, on the same fixed ports `make demo` uses.

    The ports are fixed, so two e2e sessions on one machine take turns: the second waits on a lock.
    """
    lock = stack_lock()
    logs = tmp_path_factory.mktemp("standin-logs")
    started = all_standins()
    processes = []
    try:
        for standin in started:
            processes.append(spawn([sys.executable, "-m", *standin.argv], logs / f"{standin.name}.log", cwd=REPO))
            wait_until(standin.ready, 60, f"the {standin.name} stand-in")
        yield started
    finally:
        for process in processes:
            stop(process)
        lock.close()


@pytest.fixture(scope="session")
def examples(kubectl: Kubectl, operator: DaytwoProcess, standins: list[Standin]) -> dict[str, dict[str, Any]]:
    """Apply examples/ exactly as a person would (plus the run-time Secrets the stand-ins provide)."""
    kubectl.apply(EXAMPLES / "00-namespace.yaml")
    for standin in standins:
        for secret in standin.secrets(NAMESPACE):
            kubectl.apply(json.dumps(secret))
    kubectl.apply(EXAMPLES)
    listed = json.loads(kubectl.run("get", "daytwo", "-n", NAMESPACE, "-o", "json").stdout)["items"]
    return {item["kind"]: item for item in listed}


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    """The condition of ``type_`` in an object's status, if present."""
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == type_), None)


def wait_for_condition(
    kubectl: Kubectl,
    kind: str,
    name: str,
    type_: str,
    status: str,
    reason: str | None = None,
    namespace: str = NAMESPACE,
    timeout: float = 60,
) -> dict[str, Any]:
    """Poll through the apiserver until the condition has the status (and reason); returns the object."""
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen["obj"] = kubectl.get(kind, name, namespace)
        found = condition(seen["obj"], type_)
        return bool(found and found["status"] == status and (reason is None or found["reason"] == reason))

    wait_until(check, timeout, f"{kind}/{name} condition {type_}={status} {reason or ''}")
    return seen["obj"]
