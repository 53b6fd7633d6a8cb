"""SnapshotPolicy on Proxmox guests end to end: the real operator, a ProxmoxNode and fakepve over TLS.

Snapshots are read back through daytwo's own Proxmox client. Every policy is yearly (January 1st), so
only run-now requests start runs, each serving the second it was requested in; older slots are made
by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from daytwo.crds.snapshotpolicy import SnapshotPolicySpec
from daytwo.operator.backends.proxmox import (
    GuestRef,
    ProxmoxClientFactory,
    ProxmoxConnectionParams,
    ProxmoxerBackend,
)
from daytwo.operator.shared.snapshots import guest_snapshot_name, parse_time, policy_view

from tests.e2e.test_snapshotpolicy import YEARLY, events, run_now
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.standins import credential_secret
from tests.standins.proxmox import PveStandin, run_fakepve

from .conftest import condition, wait_for_condition

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

NS = "snap-pve-e2e"
PVE_NODE = "pve-snap"
WAIT = {"timeout": 30.0, "poll_interval": 0.1}


@pytest.fixture(scope="module")
def pve() -> Iterator[PveStandin]:
    """fakepve with 2 nodes x 4 guests; guests 100, 103 (container), 104, 107 (container) carry tag daytwo."""
    with run_fakepve(nodes=2, guests_per_node=4) as standin:
        yield standin


@pytest.fixture(scope="module")
def client(pve: PveStandin) -> Iterator[ProxmoxerBackend]:
    """daytwo's own Proxmox client on the stand-in, to read and prepare snapshots."""
    factory = ProxmoxClientFactory(max_concurrency=4)
    yield factory.get(
        ProxmoxConnectionParams(
            host=pve.host, port=pve.port, token_id=pve.token_id, token_secret=pve.token_secret, ca_bundle_pem=pve.ca_pem
        )
    )
    factory.close()


@pytest.fixture(scope="module")
def node(kubectl: Kubectl, operator: DaytwoProcess, pve: PveStandin) -> Iterator[str]:
    """A namespace with a ProxmoxNode for the stand-in (token and CA in Secrets), connected."""
    kubectl.run("create", "namespace", NS, check=False)
    items = [
        _secret("pve-snap-token", {"tokenId": pve.token_id, "tokenSecret": pve.token_secret}),
        _secret("pve-snap-ca", {"ca.crt": pve.ca_pem}),
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "ProxmoxNode",
            "metadata": {"name": PVE_NODE, "namespace": NS},
            "spec": {
                "host": pve.host,
                "port": pve.port,
                "tokenSecretRef": {"name": "pve-snap-token"},
                "tls": {"caSecretRef": {"name": "pve-snap-ca", "key": "ca.crt"}},
                "timeoutSeconds": 5,
            },
        },
    ]
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    wait_for_condition(kubectl, "ProxmoxNode", PVE_NODE, "Ready", "True", namespace=NS, timeout=90)
    yield PVE_NODE
    kubectl.run("delete", "namespace", NS, "--wait=false")


def _secret(name: str, data: dict[str, str]) -> dict[str, Any]:
    return credential_secret(name, NS, data)


def policy(name: str, targets: dict[str, Any], **spec: Any) -> str:
    """A yearly SnapshotPolicy on guests of the stand-in, keep 5 unless overridden."""
    body = {
        "credentialsRef": {"kind": "ProxmoxNode", "name": PVE_NODE},
        "targets": {"proxmox": targets},
        "schedule": YEARLY,
        "retention": {"keepLast": 5},
        "snapshot": {"namePrefix": "e2e", "includeMemory": True},
        **spec,
    }
    return json.dumps(
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "SnapshotPolicy",
            "metadata": {"name": name, "namespace": NS},
            "spec": body,
        }
    )


def slot_name(name: str, slot: datetime | str) -> str:
    """The snapshot name the policy ``name`` gives a guest in ``slot`` (a time or a run's scheduledAt)."""
    spec = {"schedule": YEARLY, "retention": {"keepLast": 1}, "snapshot": {"namePrefix": "e2e"}}
    targets = {"credentialsRef": {"kind": "ProxmoxNode", "name": "unused"}, "targets": {"proxmox": {"vmids": [1]}}}
    view = policy_view(NS, name, SnapshotPolicySpec.model_validate({**spec, **targets}))
    when = parse_time(slot) if isinstance(slot, str) else slot
    assert when is not None
    return guest_snapshot_name(view, when)


def snapshot_names(client: ProxmoxerBackend, node_name: str, vmid: int, type_: str = "vm") -> list[str]:
    """The guest's snapshot names, oldest first."""
    return [s.name for s in client.list_snapshots(GuestRef(node_name, vmid, type_))]  # type: ignore[arg-type]


TAGGED = [("pve1", 100, "vm"), ("pve1", 103, "lxc"), ("pve2", 104, "vm"), ("pve2", 107, "lxc")]


def test_tagged_guests_are_snapshotted_once_per_slot(kubectl: Kubectl, node: str, client: ProxmoxerBackend) -> None:
    kubectl.apply(policy("pve-tagged", {"tags": ["daytwo"]}))
    first = run_now(kubectl, "pve-tagged", "first", NS)
    expected = slot_name("pve-tagged", first["lastRun"]["scheduledAt"])
    for node_name, vmid, type_ in TAGGED:
        assert snapshot_names(client, node_name, vmid, type_) == [expected], (node_name, vmid)
    assert snapshot_names(client, "pve1", 101) == []
    assert first["matchedTargets"] == 4
    last = first["lastRun"]
    assert (last["state"], last["created"], last["failed"]) == ("Succeeded", 4, 0)
    assert [s["state"] for s in last["steps"]] == ["Succeeded"] * 4
    tenants = {t["tenant"]: (t["total"], t["compliant"], t["percentage"]) for t in first["sla"]["tenants"]}
    assert tenants == {"pve1": (2, 2, 100.0), "pve2": (2, 2, 100.0)}
    resolved = condition(kubectl.get("d2sp", "pve-tagged", NS), "TargetsResolved")
    assert resolved is not None and resolved["message"] == "4 guest(s) match"

    again = run_now(kubectl, "pve-tagged", "second", NS)
    assert (again["lastRun"]["created"], again["lastRun"]["failed"]) == (4, 0), "each run-now snapshots anew"
    second = slot_name("pve-tagged", again["lastRun"]["scheduledAt"])
    assert second != expected and set(snapshot_names(client, "pve1", 100)) == {expected, second}

    targets = kubectl.get("configmap", "pve-tagged-targets", NS)
    listed = json.loads(targets["data"]["targets.json"])
    assert [t["id"] for t in listed] == ["pve1/100", "pve1/103", "pve2/104", "pve2/107"]
    assert {t["kind"] for t in listed} == {"guest"} and targets["metadata"]["ownerReferences"][0][
        "name"
    ] == "pve-tagged"


def test_retention_keeps_the_newest_and_never_touches_foreign_snapshots(
    kubectl: Kubectl, node: str, client: ProxmoxerBackend
) -> None:
    guest = GuestRef("pve1", 101, "vm")
    older = [slot_name("pve-keep2", datetime(year, 1, 1, tzinfo=UTC)) for year in (2023, 2024, 2025)]
    for name in ["manual-before-upgrade", *older]:
        client.wait_task(guest.node, client.create_snapshot(guest, name), **WAIT)
    kubectl.apply(policy("pve-keep2", {"vmids": [101]}, retention={"keepLast": 2}))
    status = run_now(kubectl, "pve-keep2", "keep", NS)
    assert (status["lastRun"]["created"], status["lastRun"]["deleted"]) == (1, 2)
    left = {"manual-before-upgrade", older[2], slot_name("pve-keep2", status["lastRun"]["scheduledAt"])}
    assert set(snapshot_names(client, "pve1", 101)) == left


def test_a_failing_guest_is_named_and_the_others_finish(
    kubectl: Kubectl, node: str, client: ProxmoxerBackend, pve: PveStandin
) -> None:
    pve.fail("POST", "/qemu/105/snapshot", 403, "Permission check failed (/vms/105, VM.Snapshot)")
    try:
        kubectl.apply(policy("pve-node2", {"nodes": ["pve2"]}))
        status = run_now(kubectl, "pve-node2", "partial", NS)
    finally:
        pve.clear_failures()
    last = status["lastRun"]
    assert (last["state"], last["created"], last["failed"]) == ("PartiallyFailed", 3, 1)
    failure = last["failures"][0]
    assert (failure["target"], failure["name"], failure["reason"]) == ("pve2/105", "vm-pve2-1", "PermissionDenied")
    assert "VM.Snapshot" in failure["message"]
    assert snapshot_names(client, "pve2", 106) == [slot_name("pve-node2", last["scheduledAt"])]
    assert "RunFailed" in events(kubectl, "pve-node2", NS)
    out = {e["id"]: e["severity"] for e in status["sla"]["outOfSla"]}
    assert out == {"pve2/105": "critical"}


def test_unknown_proxmoxnode_is_reported(kubectl: Kubectl, node: str) -> None:
    manifest = json.loads(policy("pve-missing", {"vmids": [100]}))
    manifest["spec"]["credentialsRef"]["name"] = "no-such-node"
    kubectl.apply(json.dumps(manifest))
    found = wait_for_condition(kubectl, "SnapshotPolicy", "pve-missing", "Ready", "False", namespace=NS)
    ready = condition(found, "Ready")
    assert ready is not None and "no-such-node" in ready["message"], ready
