"""A hung cloud does not starve the others (issue 18 item 3): passes run on the operator's bounded pass
pool with a per-endpoint limit, so while one endpoint holds its passes forever, objects of other endpoints
and kinds still reconcile.

The hung endpoint is a TCP listener in this test that accepts connections and never answers: a
CloudCredential points its Keystone URL at it and more DriftRules than the pool has threads use that
credential. Meanwhile a DriftRule on the OpenStack stand-in and a ProxmoxNode on a fakepve must reach
Ready, and the hang must still last when they do (the hung credential has not finished its first pass).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import condition, wait_for_condition
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import Standin, credential_secret, openstack_credential
from tests.standins.proxmox import PveStandin, run_fakepve

# long waits by design (intervals, windows, hung endpoints): above the 120 s default
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NS = "starvation-e2e"
#: More passes on the hung endpoint than the e2e operator's pool has threads (DAYTWO_WORKERS, default 6).
HUNG_RULES = 8


class SilentListener:
    """Accepts TCP connections on loopback and never answers; closing it resets them all."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def hung() -> Iterator[SilentListener]:
    listener = SilentListener()
    yield listener
    listener.close()


@pytest.fixture
def pve() -> Iterator[PveStandin]:
    with run_fakepve(nodes=1, guests_per_node=1) as standin:
        yield standin


def drift_rule(name: str, credential: str) -> dict[str, Any]:
    """A DriftRule listing networks through ``credential``."""
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftRule",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "target": {"credentialsRef": {"kind": "CloudCredential", "name": credential}, "resourceType": "network"},
            "field": "name",
            "intervalSeconds": 3600,
        },
    }


def proxmox_node(pve: PveStandin) -> list[dict[str, Any]]:
    """A ProxmoxNode on ``pve`` with its token and CA Secrets."""
    node = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "ProxmoxNode",
        "metadata": {"name": "pve-meanwhile", "namespace": NS},
        "spec": {
            "host": "127.0.0.1",
            "port": pve.port,
            "tokenSecretRef": {"name": "pve-meanwhile-token"},
            "tls": {"caSecretRef": {"name": "pve-meanwhile-ca", "key": "ca.crt"}},
            "timeoutSeconds": 5,
            "inventoryIntervalSeconds": 3600,
        },
    }
    return [
        credential_secret("pve-meanwhile-token", NS, {"tokenId": pve.token_id, "tokenSecret": pve.token_secret}),
        credential_secret("pve-meanwhile-ca", NS, {"ca.crt": pve.ca_pem}),
        node,
    ]


def test_a_hung_endpoint_does_not_starve_other_endpoints(
    kubectl: Kubectl, operator: DaytwoProcess, standins: list[Standin], hung: SilentListener, pve: PveStandin
) -> None:
    kubectl.run("create", "namespace", NS, check=False)
    try:
        for manifest in openstack_credential(NS, "hung", base=f"http://127.0.0.1:{hung.port}"):
            kubectl.apply(json.dumps(manifest))
        for i in range(HUNG_RULES):
            kubectl.apply(json.dumps(drift_rule(f"hung-{i}", "hung")))

        def hung_passes() -> bool:
            return len(hung.accepted) >= 3

        wait_until(hung_passes, 60, "passes to hang on the silent endpoint")

        for manifest in [*openstack_credential(NS, "healthy"), drift_rule("meanwhile", "healthy"), *proxmox_node(pve)]:
            kubectl.apply(json.dumps(manifest))
        wait_for_condition(kubectl, "d2dr", "meanwhile", "Ready", "True", namespace=NS, timeout=90)
        wait_for_condition(kubectl, "d2pn", "pve-meanwhile", "Ready", "True", namespace=NS, timeout=90)

        still_hung = kubectl.get("d2cc", "hung", NS)
        assert condition(still_hung, "Ready") is None or condition(still_hung, "Ready")["status"] != "True"
        unfinished = [
            f"hung-{i}" for i in range(HUNG_RULES) if condition(kubectl.get("d2dr", f"hung-{i}", NS), "Ready") is None
        ]
        assert unfinished, "the hang still lasts: some rule on the silent endpoint has not finished a pass"
    finally:
        hung.close()  # resets the held connections: the hung passes end now, not after their timeouts
        kubectl.run("delete", "namespace", NS, "--wait=false", check=False)
