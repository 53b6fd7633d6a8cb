"""ProxmoxNode end to end: the real operator against fakepve over TLS, through the real apiserver."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import credential_secret
from tests.standins.proxmox import PveStandin, run_fakepve
from tests.standins.proxmox.fixtures import closed_port

from .conftest import condition, wait_for_condition

NS = "pve-e2e"


@pytest.fixture(scope="module")
def pve() -> Iterator[PveStandin]:
    """fakepve with 2 nodes x 4 guests (3 VMs + 1 container each) over TLS (its own CA)."""
    with run_fakepve(nodes=2, guests_per_node=4) as standin:
        yield standin


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl, operator: DaytwoProcess, pve: PveStandin) -> str:
    """A namespace with the stand-in's token and CA as Secrets."""
    kubectl.run("create", "namespace", NS)
    secrets = [
        ("pve-token", {"tokenId": pve.token_id, "tokenSecret": pve.token_secret}),
        ("pve-nopower", {"tokenId": pve.nopower_token_id, "tokenSecret": pve.nopower_token_secret}),
        ("pve-wrong", {"tokenId": pve.token_id, "tokenSecret": str(uuid.uuid4())}),
        ("pve-ca", {"ca.crt": pve.ca_pem}),
    ]
    # A token Secret version goes to one endpoint (README, Security): nodes elsewhere get their own copy.
    secrets += [(f"pve-token-{case}", dict(secrets[0][1])) for case in ("dead-host", "bad-cert", "insecure")]
    for name, data in secrets:
        kubectl.apply(json.dumps(credential_secret(name, NS, data)))
    return NS


def node(name: str, port: int, token: str = "pve-token", **spec: Any) -> str:
    """A ProxmoxNode manifest trusting the stand-in's CA."""
    body = {
        "host": "127.0.0.1",
        "port": port,
        "tokenSecretRef": {"name": token},
        "tls": {"caSecretRef": {"name": "pve-ca", "key": "ca.crt"}},
        "timeoutSeconds": 3,
        "inventoryIntervalSeconds": 10,
        **spec,
    }
    return json.dumps(
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "ProxmoxNode",
            "metadata": {"name": name, "namespace": NS},
            "spec": body,
        }
    )


def live_guests(kubectl: Kubectl, name: str) -> dict[int, dict[str, Any]]:
    """Guests as the ProxmoxNode's status shows them now (fakepve's state changes as tests run)."""
    return {guest["vmid"]: guest for guest in kubectl.get("d2pn", name, NS)["status"]["guests"]}


def pick(kubectl: Kubectl, name: str, kind: str, status: str, skip: int = 0) -> dict[str, Any]:
    """A guest of this kind in this power state, per the live status."""
    return [g for g in live_guests(kubectl, name).values() if g["kind"] == kind and g["status"] == status][skip]


def history(kubectl: Kubectl, name: str) -> list[dict[str, Any]]:
    """status.history of a ProxmoxNode (newest first)."""
    return list(kubectl.get("d2pn", name, NS).get("status", {}).get("history") or [])


def test_connected_with_inventory(kubectl: Kubectl, namespace: str, pve: PveStandin) -> None:
    kubectl.apply(node("lab", pve.port))
    ready = wait_for_condition(kubectl, "d2pn", "lab", "Ready", "True", namespace=NS)
    status = ready["status"]
    assert condition(ready, "Connected")["reason"] == "Connected"
    assert condition(ready, "InventorySynced")["status"] == "True"
    assert condition(ready, "TLSVerified")["status"] == "True"
    vms = sum(1 for guest in pve.guests if guest.type == "vm")
    containers = sum(1 for guest in pve.guests if guest.type == "lxc")
    running = sum(1 for guest in pve.guests if guest.status == "running")
    assert status["guestCounts"] == {"vms": vms, "containers": containers, "running": running}
    assert sorted(g["vmid"] for g in status["guests"]) == sorted(g.vmid for g in pve.guests)
    assert {n["name"] for n in status["nodes"]} == set(pve.nodes)
    assert status["version"] and status["observedGeneration"] == ready["metadata"]["generation"]
    printed = kubectl.run("get", "d2pn", "lab", "-n", NS).stdout
    assert "True" in printed and str(vms) in printed


def test_reconcile_request_refreshes_at_once(kubectl: Kubectl, namespace: str, pve: PveStandin) -> None:
    """With an hour between inventory passes, the reconcile annotation (as `flux reconcile` sets one)
    still wakes the node: its token is echoed in status.lastHandledReconcileAt within seconds."""
    kubectl.apply(node("hourly", pve.port, inventoryIntervalSeconds=3600))
    wait_for_condition(kubectl, "d2pn", "hourly", "Ready", "True", namespace=NS)
    kubectl.run("annotate", "--overwrite", "d2pn", "hourly", "-n", NS, "daytwo.io/reconcile-requested-at=now-1")
    wait_until(
        lambda: kubectl.get("d2pn", "hourly", NS)["status"].get("lastHandledReconcileAt") == "now-1",
        20,
        "the reconcile request to be handled before the next hourly pass",
    )
    annotations = kubectl.get("d2pn", "hourly", NS)["metadata"]["annotations"]
    assert not [key for key in annotations if key.startswith("daytwo.io/") and "reconcile" not in key], annotations


def _act(kubectl: Kubectl, name: str, actions: list[dict[str, Any]]) -> None:
    kubectl.run("patch", "d2pn", name, "-n", NS, "--type=merge", "-p", json.dumps({"spec": {"actions": actions}}))


def test_one_off_actions_run_once_and_are_recorded(kubectl: Kubectl, namespace: str, pve: PveStandin) -> None:
    kubectl.apply(node("ops", pve.port))
    wait_for_condition(kubectl, "d2pn", "ops", "Ready", "True", namespace=NS)
    running_vm = pick(kubectl, "ops", "vm", "running")
    stopped_vm = pick(kubectl, "ops", "vm", "stopped")
    actions = [
        {"id": "start-1", "vmid": stopped_vm["vmid"], "operation": "start", "requestedBy": "alice"},
        {"id": "reboot-1", "vmid": running_vm["vmid"], "operation": "reboot"},
    ]
    _act(kubectl, "ops", actions)
    wait_until(
        lambda: {"start-1", "reboot-1"} <= set(kubectl.get("d2pn", "ops", NS)["status"].get("handledActions") or []),
        60,
        "both actions handled",
    )
    records = {record["id"]: record for record in history(kubectl, "ops")}
    assert records["start-1"]["status"] == "success" and records["start-1"]["operation"] == "start"
    assert records["start-1"]["user"] == "alice" and records["start-1"]["upid"].startswith("UPID:")
    assert records["reboot-1"]["status"] == "success"
    wait_until(
        lambda: (
            next(g for g in kubectl.get("d2pn", "ops", NS)["status"]["guests"] if g["vmid"] == stopped_vm["vmid"])[
                "status"
            ]
            == "running"
        ),
        30,
        "the started guest running",
    )
    actions += [
        {"id": "shutdown-1", "vmid": stopped_vm["vmid"], "operation": "shutdown", "force": True},
        {"id": "stop-1", "vmid": running_vm["vmid"], "operation": "stop"},
    ]
    _act(kubectl, "ops", actions)
    wait_until(lambda: len(history(kubectl, "ops")) == 4, 60, "four operations in history")
    assert {r["id"]: r["status"] for r in history(kubectl, "ops")} == {
        "start-1": "success",
        "reboot-1": "success",
        "shutdown-1": "success",
        "stop-1": "success",
    }
    # Re-applying the same actions (GitOps re-sync) runs nothing again.
    kubectl.run("annotate", "--overwrite", "d2pn", "ops", "-n", NS, "daytwo.io/reconcile-requested-at=again")
    wait_until(
        lambda: kubectl.get("d2pn", "ops", NS)["status"].get("lastHandledReconcileAt") == "again",
        30,
        "the reconcile request handled",
    )
    assert len(history(kubectl, "ops")) == 4


def test_desired_power_state_is_kept(kubectl: Kubectl, namespace: str, pve: PveStandin) -> None:
    kubectl.apply(node("desired", pve.port))
    wait_for_condition(kubectl, "d2pn", "desired", "Ready", "True", namespace=NS)
    vmid = pick(kubectl, "desired", "vm", "stopped")["vmid"]
    kubectl.run(
        "patch",
        "d2pn",
        "desired",
        "-n",
        NS,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"guestPower": [{"vmid": vmid, "state": "running"}]}}),
    )
    wait_until(
        lambda: any(
            r["id"] == f"power-{vmid}-running" and r["status"] == "success" for r in history(kubectl, "desired")
        ),
        60,
        "the desired start recorded",
    )
    wait_until(
        lambda: (
            next(g for g in kubectl.get("d2pn", "desired", NS)["status"]["guests"] if g["vmid"] == vmid)["status"]
            == "running"
        ),
        30,
        "the guest running",
    )


def test_task_ending_in_error_is_reported(kubectl: Kubectl, namespace: str, pve: PveStandin) -> None:
    kubectl.apply(node("failing", pve.port))
    wait_for_condition(kubectl, "d2pn", "failing", "Ready", "True", namespace=NS)
    vmid = pick(kubectl, "failing", "vm", "stopped")["vmid"]
    pve.fail_start(vmid, "start failed: storage 'local-lvm' is not online")
    _act(kubectl, "failing", [{"id": "doomed", "vmid": vmid, "operation": "start"}])
    wait_until(lambda: any(r["id"] == "doomed" for r in history(kubectl, "failing")), 60, "the failed start recorded")
    record = next(r for r in history(kubectl, "failing") if r["id"] == "doomed")
    assert record["status"] == "error" and "storage 'local-lvm' is not online" in record["error"]
    events = kubectl.run(
        "get", "events", "-n", NS, "--field-selector", "involvedObject.name=failing", "-o", "json"
    ).stdout
    assert "PowerOperationFailed" in events
    pve.call(lambda p: setattr(p.guest(vmid), "start_error", None))  # later tests start this guest


def test_token_without_power_privilege(kubectl: Kubectl, namespace: str, pve: PveStandin) -> None:
    kubectl.apply(node("audit", pve.port, token="pve-nopower"))
    wait_for_condition(kubectl, "d2pn", "audit", "Ready", "True", namespace=NS)
    vmid = pick(kubectl, "audit", "vm", "running")["vmid"]
    _act(kubectl, "audit", [{"id": "no-rights", "vmid": vmid, "operation": "stop"}])
    wait_until(lambda: any(r["id"] == "no-rights" for r in history(kubectl, "audit")), 60, "the refusal recorded")
    record = next(r for r in history(kubectl, "audit") if r["id"] == "no-rights")
    assert record["status"] == "error" and "PermissionDenied" in record["error"] and "VM.PowerMgmt" in record["error"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong-token", "AuthenticationFailed"),
        ("dead-host", "Unreachable"),
        ("bad-cert", "TLSVerificationFailed"),
        ("missing-secret", "CredentialsNotFound"),
    ],
)
def test_connection_failures_have_reasons(
    kubectl: Kubectl, namespace: str, pve: PveStandin, case: str, reason: str
) -> None:
    if case == "wrong-token":
        manifest = node(case, pve.port, token="pve-wrong")
    elif case == "dead-host":
        manifest = node(case, closed_port(), token=f"pve-token-{case}")
    elif case == "missing-secret":
        manifest = node(case, pve.port, token="no-such-secret")
    else:
        with run_fakepve(nodes=1, guests_per_node=1, cert="foreign-ca") as other:
            kubectl.apply(node(case, other.port, token=f"pve-token-{case}"))
            failed = wait_for_condition(kubectl, "d2pn", case, "Connected", "False", reason=reason, namespace=NS)
            assert condition(failed, "Ready")["reason"] == reason
            assert condition(failed, "Stalled")["status"] == "True"
            return
    kubectl.apply(manifest)
    failed = wait_for_condition(kubectl, "d2pn", case, "Connected", "False", reason=reason, namespace=NS)
    assert condition(failed, "Ready")["status"] == "False" and condition(failed, "Ready")["reason"] == reason


def test_insecure_skip_verify_is_a_warning(kubectl: Kubectl, namespace: str, pve: PveStandin) -> None:
    manifest = json.loads(node("insecure", pve.port, token="pve-token-insecure"))
    manifest["spec"]["tls"] = {"insecureSkipVerify": True}
    kubectl.apply(json.dumps(manifest))
    ready = wait_for_condition(kubectl, "d2pn", "insecure", "Ready", "True", namespace=NS)
    assert condition(ready, "TLSVerified")["reason"] == "InsecureSkipVerify"


def test_interrupted_operation_finishes_exactly_once(
    kubectl: Kubectl, namespace: str, operator: DaytwoProcess, pve: PveStandin
) -> None:
    """An operation recorded in inFlight without a UPID (operator killed around the submit) is not re-run
    when the guest already shows its effect, and is submitted once when it does not."""
    kubectl.apply(node("crash", pve.port))
    wait_for_condition(kubectl, "d2pn", "crash", "Ready", "True", namespace=NS)
    running = pick(kubectl, "crash", "vm", "running")
    stopped = pick(kubectl, "crash", "vm", "stopped")
    operator.kill()
    in_flight = [
        {
            "id": "done-before-crash",
            "vmid": running["vmid"],
            "node": running["node"],
            "kind": "vm",
            "operation": "start",
            "force": False,
            "origin": "action",
            "submittedAt": "2026-01-01T00:00:00Z",
        },
        {
            "id": "never-sent",
            "vmid": stopped["vmid"],
            "node": stopped["node"],
            "kind": "vm",
            "operation": "start",
            "force": False,
            "origin": "action",
            "submittedAt": "2026-01-01T00:00:00Z",
        },
    ]
    actions = [{"id": entry["id"], "vmid": entry["vmid"], "operation": "start"} for entry in in_flight]
    _act(kubectl, "crash", actions)
    kubectl.run(
        "patch",
        "d2pn",
        "crash",
        "-n",
        NS,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"inFlight": in_flight}}),
    )
    before = pve.request_count()
    operator.start()
    wait_until(
        lambda: (
            {"done-before-crash", "never-sent"}
            <= set(kubectl.get("d2pn", "crash", NS)["status"].get("handledActions") or [])
        ),
        60,
        "both recovered",
    )
    records = {r["id"]: r for r in history(kubectl, "crash")}
    assert records["done-before-crash"]["status"] == "success" and "upid" not in records["done-before-crash"]
    assert records["never-sent"]["status"] == "success", records["never-sent"]
    assert records["never-sent"]["upid"].startswith("UPID:")
    assert len(records) == 2 and pve.request_count() > before


def guest_inventory(kubectl: Kubectl, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The head ConfigMap of a ProxmoxNode's guest inventory and every record of the chunks its manifest lists."""
    head = kubectl.get("configmap", f"{name}-guests", NS)
    records: list[dict[str, Any]] = []
    for chunk in json.loads(head["data"]["manifest.json"])["chunks"]:
        records.extend(json.loads(kubectl.get("configmap", chunk["name"], NS)["data"]["records.json"]))
    return head, records


def samples(kubectl: Kubectl, name: str) -> list[dict[str, Any]]:
    """history.json samples of a ProxmoxNode's guest inventory (oldest first)."""
    found = kubectl.run("get", "configmap", f"{name}-guests", "-n", NS, "-o", "json", check=False)
    if found.returncode != 0:
        return []
    samples: list[dict[str, Any]] = json.loads(json.loads(found.stdout)["data"]["history.json"])["samples"]
    return samples


def test_guest_inventory_configmaps_hold_every_guest_and_keep_history(
    kubectl: Kubectl, namespace: str, operator: DaytwoProcess, pve: PveStandin
) -> None:
    """With more guests than status keeps (50), ``<node>-guests`` holds every one with usage, is owned by
    the node, and history.json gains a sample per pass, carried over an operator restart."""
    bulk = list(range(900, 952))

    def add(p: Any) -> None:
        for vmid in bulk:
            config = {"memory": 1024, "cores": 1, "scsi0": f"local-lvm:vm-{vmid}-disk-0,size=8G", "tags": "bulk"}
            vm = p.add_vm(vmid, f"bulk-{vmid}", node="pve2", status="running", config=config)
            vm.stats.update(netin=1000 * vmid, netout=vmid)

    pve.call(add)
    try:
        kubectl.apply(node("inventory", pve.port))
        ready = wait_for_condition(kubectl, "d2pn", "inventory", "Ready", "True", namespace=NS)
        expected = sorted([g.vmid for g in pve.guests] + bulk)
        assert len(expected) > 50 and len(ready["status"]["guests"]) == 50  # status is bounded
        head, records = guest_inventory(kubectl, "inventory")
        assert head["metadata"]["labels"]["daytwo.io/proxmoxnode"] == "inventory"
        assert head["metadata"]["labels"]["app.kubernetes.io/part-of"] == "daytwo"
        (owner,) = head["metadata"]["ownerReferences"]
        assert owner["kind"] == "ProxmoxNode" and owner["uid"] == ready["metadata"]["uid"] and owner["controller"]
        manifest = json.loads(head["data"]["manifest.json"])
        lxc = sum(1 for g in pve.guests if g.type == "lxc")
        assert manifest["provider"] == "proxmox" and manifest["records"] == len(expected)
        assert manifest["counts"] == {"vm": len(expected) - lxc, "lxc": lxc}
        assert [r["vmid"] for r in records] == expected
        bulky = next(r for r in records if r["vmid"] == 951)
        assert bulky["netin"] == 951_000 and bulky["netout"] == 951 and bulky["tags"] == ["bulk"]
        assert bulky["maxmem"] == 1024 * 2**20 and bulky["cpus"] == 1 and bulky["maxdisk"] == 8 * 2**30
        assert bulky["status"] == "running" and bulky["mem"] > 0 and bulky["kind"] == "vm"
        assert all({"cpu", "mem", "disk", "netin", "netout", "uptime", "template"} <= set(r) for r in records)
        wait_until(lambda: len(samples(kubectl, "inventory")) >= 2, 60, "a second history sample")
        sample = samples(kubectl, "inventory")[-1]
        assert sample["cpus"] == 8 and sample["netin"] >= sum(1000 * vmid for vmid in bulk)
        assert sample["running"] >= len(bulk) and 0 < sample["mem"] <= sample["maxmem"]
        before = samples(kubectl, "inventory")
        operator.kill()
        operator.start()
        wait_until(lambda: len(samples(kubectl, "inventory")) > len(before), 60, "a sample after the restart")
        # Carried over, not restarted (a pass within half an interval of the last sample replaces it).
        assert samples(kubectl, "inventory")[: len(before) - 1] == before[:-1] and len(before) >= 2
    finally:
        pve.call(lambda p: setattr(p, "vms", [vm for vm in p.vms if vm.vmid not in bulk]))


def test_guest_inventory_write_failure_is_a_condition_and_retried(
    kubectl: Kubectl, namespace: str, pve: PveStandin
) -> None:
    """An immutable ConfigMap squatting on ``<node>-guests`` makes the write fail: InventorySynced=False
    with a reason, no crash; once it is gone the next pass writes the inventory."""
    squatter = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "blocked-guests", "namespace": NS},
        "immutable": True,
        "data": {"note": "in the way"},
    }
    kubectl.apply(json.dumps(squatter))
    kubectl.apply(node("blocked", pve.port))
    failed = wait_for_condition(
        kubectl, "d2pn", "blocked", "InventorySynced", "False", reason="InventoryWriteFailed", namespace=NS
    )
    assert "blocked-guests" in condition(failed, "InventorySynced")["message"]
    assert condition(failed, "Connected")["status"] == "True" and condition(failed, "Ready")["status"] == "False"
    kubectl.run("delete", "configmap", "blocked-guests", "-n", NS)
    wait_for_condition(kubectl, "d2pn", "blocked", "Ready", "True", namespace=NS)
    head, records = guest_inventory(kubectl, "blocked")
    assert head["metadata"]["ownerReferences"][0]["name"] == "blocked" and len(records) == len(pve.guests)


def test_token_never_leaves_the_secret(
    kubectl: Kubectl, namespace: str, operator: DaytwoProcess, pve: PveStandin
) -> None:
    everything = [
        kubectl.run("get", "d2pn", "-n", NS, "-o", "json").stdout,
        kubectl.run("get", "events", "-n", NS, "-o", "json").stdout,
        operator.log(),
        subprocess.run(["cat", str(operator.log_path)], capture_output=True, text=True, check=False).stdout,
    ]
    for text in everything:
        assert pve.token_secret not in text
        assert pve.nopower_token_secret not in text


def test_status_is_quiet_at_rest(kubectl: Kubectl, namespace: str) -> None:
    """Once Ready, an unchanged estate writes no status: over two full inventory passes (each adds a
    history.json sample to the guest inventory ConfigMap) the object's resourceVersion stays the same,
    although the nodes' uptime grows as on a real cluster. A stand-in of its own: the other tests change
    the shared one's guests."""
    with run_fakepve(nodes=2, guests_per_node=3) as quiet:
        secrets = [
            ("quiet-token", {"tokenId": quiet.token_id, "tokenSecret": quiet.token_secret}),
            ("quiet-ca", {"ca.crt": quiet.ca_pem}),
        ]
        for name, data in secrets:
            kubectl.apply(json.dumps(credential_secret(name, NS, data)))
        manifest = json.loads(node("quiet", quiet.port, token="quiet-token"))
        manifest["spec"]["tls"]["caSecretRef"]["name"] = "quiet-ca"
        kubectl.apply(json.dumps(manifest))
        try:
            wait_for_condition(kubectl, "d2pn", "quiet", "Ready", "True", namespace=NS)
            wait_until(lambda: len(samples(kubectl, "quiet")) >= 2, 60, "a second inventory pass")
            settled = kubectl.get("d2pn", "quiet", NS)
            version, seen = settled["metadata"]["resourceVersion"], len(samples(kubectl, "quiet"))
            uptime = quiet.node_uptime()
            wait_until(lambda: len(samples(kubectl, "quiet")) >= seen + 2, 90, "two more inventory passes")
            after = kubectl.get("d2pn", "quiet", NS)
            assert after["metadata"]["resourceVersion"] == version, (settled["status"], after["status"])
            assert quiet.node_uptime() > uptime, "the nodes' uptime grew meanwhile"
            assert all(n.get("bootedAt") for n in after["status"]["nodes"])
        finally:
            kubectl.run("delete", "d2pn", "quiet", "-n", NS, "--wait=true", check=False)
