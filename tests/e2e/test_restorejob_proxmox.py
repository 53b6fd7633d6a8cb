"""RestoreJob of Proxmox guests end to end: the real operator against fakepve over TLS.

REPLACE rolls a running guest back in place (stopped first, started again); NEW clones a guest from
the snapshot under a fresh vmid and leaves the clone stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from daytwo.operator.backends.proxmox import GuestRef, ProxmoxClientFactory, ProxmoxConnectionParams

from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.standins import CREDENTIAL_LABELS
from tests.standins.proxmox import PveStandin, run_fakepve

from .conftest import condition, wait_for_condition

pytestmark = pytest.mark.e2e

NS = "restore-pve-e2e"


@pytest.fixture(scope="module")
def pve() -> Iterator[PveStandin]:
    """fakepve with one node: vm 100 (stopped), 101 (running), 102 (stopped), ct 103 (running)."""
    with run_fakepve(nodes=1, guests_per_node=4) as standin:
        yield standin


@pytest.fixture(scope="module")
def client(pve: PveStandin) -> Any:
    """daytwo's Proxmox client on the stand-in, to take snapshots and check guests."""
    factory = ProxmoxClientFactory(max_concurrency=2)
    return factory.get(
        ProxmoxConnectionParams(
            host=pve.host, port=pve.port, token_id=pve.token_id, token_secret=pve.token_secret, ca_bundle_pem=pve.ca_pem
        )
    )


@pytest.fixture(scope="module")
def node(kubectl: Kubectl, operator: DaytwoProcess, pve: PveStandin) -> Iterator[str]:
    """A namespace with a ProxmoxNode for the stand-in (token and CA in Secrets)."""
    kubectl.run("create", "namespace", NS)
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": NS, "labels": dict(CREDENTIAL_LABELS)},
            "stringData": data,
        }
        for name, data in (
            ("pve-token", {"tokenId": pve.token_id, "tokenSecret": pve.token_secret}),
            ("pve-ca", {"ca.crt": pve.ca_pem}),
        )
    ]
    items.append(
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "ProxmoxNode",
            "metadata": {"name": "lab", "namespace": NS},
            "spec": {
                "host": pve.host,
                "port": pve.port,
                "tokenSecretRef": {"name": "pve-token"},
                "tls": {"caSecretRef": {"name": "pve-ca", "key": "ca.crt"}},
                "inventoryIntervalSeconds": 600,
            },
        }
    )
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    yield "lab"
    kubectl.run("delete", "namespace", NS, "--wait=false")


def snapshot(client: Any, vmid: int, name: str) -> None:
    """Take a snapshot of guest ``vmid`` on pve1 and wait for its task."""
    upid = client.create_snapshot(GuestRef("pve1", vmid, "vm"), name)
    client.wait_task("pve1", upid, timeout=30)


def restore(kubectl: Kubectl, name: str, vmid: int, snap: str, **spec: Any) -> None:
    """Apply an executing RestoreJob of a Proxmox guest."""
    body = {
        "credentialsRef": {"kind": "ProxmoxNode", "name": "lab"},
        "source": {"proxmox": {"node": "pve1", "vmid": vmid, "snapshot": snap}},
        "execute": True,
        **spec,
    }
    manifest = {"apiVersion": "daytwo.io/v1alpha1", "kind": "RestoreJob", "metadata": {"name": name, "namespace": NS}}
    kubectl.apply(json.dumps({**manifest, "spec": body}))


def config(pve: PveStandin, vmid: int) -> dict[str, Any]:
    """A guest's current configuration in the fake."""
    return dict(pve.call(lambda p: dict(p.guest(vmid).config)))


def test_replace_rolls_a_running_guest_back_and_starts_it_again(
    kubectl: Kubectl, node: str, pve: PveStandin, client: Any
) -> None:
    assert next(g for g in client.guests("pve1") if g.vmid == 101).status == "running"
    snapshot(client, 101, "before-upgrade")
    pve.call(lambda p: p.guest(101).config.update(memory=8192))  # what changed since the snapshot
    restore(kubectl, "pve-replace", 101, "before-upgrade", mode="REPLACE", confirm="DELETE AND RESTORE vm-pve1-1")
    obj = wait_for_condition(kubectl, "d2rj", "pve-replace", "Succeeded", "True", namespace=NS, timeout=120)
    states = {s["name"]: s["state"] for s in obj["status"]["steps"]}
    assert states == {
        "VALIDATE_LIVE_STATE": "Succeeded",
        "STOP_GUEST": "Succeeded",
        "ROLLBACK_SNAPSHOT": "Succeeded",
        "START_GUEST": "Succeeded",
        "FINALIZE": "Succeeded",
    }
    assert all((s.get("externalIds") or {}).get("upid", "UPID:").startswith("UPID:") for s in obj["status"]["steps"])
    assert int(config(pve, 101)["memory"]) == 2048, "rolled back"
    assert next(g for g in client.guests("pve1") if g.vmid == 101).status == "running"
    assert obj["status"]["phase"] == "COMPLETED" and obj["status"]["result"]["vmId"] == "101"
    assert obj["status"]["plan"]["restorePoints"][0]["name"] == "before-upgrade"


def test_new_clones_from_the_snapshot_and_leaves_the_clone_stopped(
    kubectl: Kubectl, node: str, pve: PveStandin, client: Any
) -> None:
    snapshot(client, 102, "golden")
    pve.call(lambda p: p.guest(102).config.update(cores=8))
    restore(kubectl, "pve-new", 102, "golden", newVmName="vm-pve1-2-golden")
    obj = wait_for_condition(kubectl, "d2rj", "pve-new", "Succeeded", "True", namespace=NS, timeout=120)
    [clone] = obj["status"]["createdResources"]
    newid = int(clone["id"])
    guest = next(g for g in client.guests("pve1") if g.vmid == newid)
    assert (guest.name, guest.status) == ("vm-pve1-2-golden", "stopped")
    assert int(config(pve, newid)["cores"]) == 2, "cloned from the snapshot, not from the current state"
    assert int(config(pve, 102)["cores"]) == 8, "the source is untouched"
    assert obj["status"]["result"]["vmId"] == str(newid)


def test_replace_with_another_guests_name_is_refused(kubectl: Kubectl, node: str, client: Any) -> None:
    snapshot(client, 100, "s1")
    restore(kubectl, "pve-wrong", 100, "s1", mode="REPLACE", confirm="DELETE AND RESTORE vm-pve1-1")
    obj = wait_for_condition(kubectl, "d2rj", "pve-wrong", "Succeeded", "False", namespace=NS, timeout=60)
    assert condition(obj, "Succeeded")["reason"] == "ConfirmationMismatch"
    assert {s["name"]: s["state"] for s in obj["status"]["steps"]}["STOP_GUEST"] == "Pending"
