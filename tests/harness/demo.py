"""`make demo`: everything up on this machine, examples applied, and what to try printed.

Uses $KUBECONFIG when it points at a reachable cluster, otherwise builds (first time) and starts the
local control plane. Starts the OpenStack and Proxmox stand-ins with demo data, the operator and the
facade as real processes. Ctrl-C stops everything it started: children also die with this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from .controlplane import DEFAULT_STATE, REPO, LocalControlPlane, build_binaries
from .driftrules import builtin_drift_rules
from .facade import PASSWORDS, USERNAMES, Facade
from .kubectl import Kubectl
from .operator import VENV_BIN, DaytwoProcess
from .processes import spawn, stop, wait_until
from .standins import Standin, all_standins

NAMESPACE = "daytwo-examples"


def reachable(kubeconfig: str) -> bool:
    """Whether the cluster in ``kubeconfig`` answers within a few seconds."""
    kubectl = build_binaries() / "kubectl"
    result = subprocess.run(
        [str(kubectl), "--kubeconfig", kubeconfig, "--request-timeout=5s", "version", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and "serverVersion" in result.stdout


def step(message: str) -> None:
    """Say what is happening, at once."""
    print(f"==> {message}", flush=True)


def start_standin(standin: Standin, logs: Path, stack: ExitStack) -> None:
    """Start one stand-in process and wait until it answers."""
    step(f"starting the {standin.name} stand-in on {standin.url}")
    process = spawn([str(VENV_BIN / "python"), "-m", *standin.argv], logs / f"{standin.name}.log", cwd=REPO)
    stack.callback(stop, process)
    wait_until(standin.ready, 60, f"the {standin.name} stand-in ({logs / (standin.name + '.log')})")


def main() -> int:
    """Bring everything up, print what to try, wait for Ctrl-C, tear down."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    state = DEFAULT_STATE
    logs = state / "logs"
    with ExitStack() as stack:
        kubeconfig_env = os.environ.get("KUBECONFIG")
        if kubeconfig_env and reachable(kubeconfig_env):
            step(f"using the cluster in $KUBECONFIG ({kubeconfig_env})")
            kubeconfig = Path(kubeconfig_env)
        else:
            step("building (first run: ~8 minutes on 2 cores) and starting the local control plane")
            plane = LocalControlPlane(state_dir=state)
            stack.callback(plane.stop)
            plane.start()
            kubeconfig = plane.kubeconfig
        kubectl = Kubectl(kubeconfig)
        step("installing the daytwo CRDs")
        kubectl.apply(REPO / "crds" / "generated")
        kubectl.run(
            "wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "app.kubernetes.io/part-of=daytwo"
        )
        standins = all_standins()
        for standin in standins:
            start_standin(standin, logs, stack)
        step("starting daytwo-operator")
        operator = DaytwoProcess("daytwo-operator", kubeconfig, logs / "operator.log").start()
        stack.callback(operator.stop)
        step("starting daytwo-api")
        # self-registration stays off (the facade's default): an anonymous caller gets no account
        facade = Facade.start(kubeconfig, kubectl, NAMESPACE, logs, port=8000, allow_registration=False)
        stack.callback(facade.stop)
        step("applying examples/")
        kubectl.apply(REPO / "examples" / "00-namespace.yaml")
        for standin in standins:
            for secret in standin.secrets(NAMESPACE):
                kubectl.apply(json.dumps(secret))
        kubectl.apply(REPO / "examples")
        step("applying platform9's 22 built-in DriftRules (as the Helm chart installs them)")
        rules = builtin_drift_rules(NAMESPACE, "openstack-prod", 300)
        kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": rules}))
        assert kubectl.binary is not None
        print(
            f"""
daytwo is up. In another shell, try:
  export KUBECONFIG={kubeconfig} PATH={kubectl.binary.parent}:$PATH
  kubectl get daytwo -A                          # every daytwo object with its printer columns
  kubectl explain snapshotpolicy.spec            # every field described
  kubectl annotate d2dr server-flavor-prod -n {NAMESPACE} --overwrite \\
      daytwo.io/reconcile-requested-at=$(date +%s)   # force a reconcile: see status.lastHandledReconcileAt
  kubectl get d2dr,d2de -n {NAMESPACE}            # drift rules; change the stand-in, see DriftEvents
  curl {facade.url}/health                  # the facade: five APIs under /platform9 /horcrux /pmi /spot /multicloud
  TOKEN=$(curl -s {facade.url}/platform9/auth/login -H 'Content-Type: application/json' \
      -d '{{"username": "{USERNAMES["admin"]}", "password": "{PASSWORDS["admin"]}"}}' \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -H "Authorization: Bearer $TOKEN" {facade.url}/platform9/drift/summary
  curl -H "Authorization: Bearer $TOKEN" {facade.url}/pmi/api/proxmox/nodes
  # OpenAPI of each API: {facade.url}/platform9/docs, /horcrux/docs, /pmi/docs, /spot/docs, /multicloud/docs
  # users (password = <role>-e2e-password): viewer, operator, admin; superadmin {USERNAMES["superadmin"]}
Logs: {logs}/  (operator.log is JSON, one line per event)
Ctrl-C stops everything this started.""",
            flush=True,
        )
        try:
            signal.pause()
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
            step("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
