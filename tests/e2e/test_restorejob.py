"""RestoreJob end to end: the real operator restores boot-from-volume VMs in the OpenStack stand-in (seed demo).

Each test boots its own VM (a volume from an image, a pre-created port, a snapshot of the volume) in
project globex-proj-1, which no other e2e test touches, and restores it through a RestoreJob in its
own namespace. What the job made is counted in the stand-in by the job's uid (Cinder/Nova metadata,
Neutron tags); failures are injected through the stand-in's fault API.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from daytwo.operator.backends.openstack import OpenStackConnectionParams, SdkOpenStackBackend, ServerSpec, connect
from daytwo.operator.errors import NotFound

from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until
from tests.harness.standins import OPENSTACK_PORT, example_secret, openstack_credential

from .conftest import NAMESPACE, condition, wait_for_condition

pytestmark = pytest.mark.e2e

NS = "restore-e2e"
PROJECT = "globex-proj-1"
STANDIN = f"http://127.0.0.1:{OPENSTACK_PORT}"
UID_KEY = "daytwo.io/job-uid"


def standin(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the stand-in's /_standin control API."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{STANDIN}/_standin/{path}", data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def hang(method: str, path: str, skip: int = 0) -> None:
    """The next matching call (after ``skip`` of them) gets no answer until the faults are cleared."""
    standin("POST", "faults", {"path": path, "method": method, "hang": 120, "times": 1, "skip": skip})


def wait_for_hit(timeout: float = 60) -> None:
    """Until the armed fault has caught a call."""
    wait_until(lambda: any(f["hits"] for f in standin("GET", "faults")["faults"]), timeout, "the hung call")


def posts(path: str) -> list[int]:
    """Statuses of every POST to paths matching ``path`` the stand-in answered, oldest first."""
    found = standin("GET", f"journal?path={path}&limit=50000")
    return [entry["status"] for entry in found.get("entries", []) if entry["method"] == "POST"]


def cloud(project: str = "admin") -> SdkOpenStackBackend:
    """daytwo's OpenStack client on the stand-in as the admin (scoped to ``project``: creates land there)."""
    password = example_secret("cloudcredential-openstack.yaml", "openstack-admin")["password"]
    admin = OpenStackConnectionParams(
        auth_url=f"{STANDIN}/identity/v3", username="admin", password=password, project_name="admin"
    )
    if project == "admin":
        return connect(admin)
    return connect(replace(admin, project_name=None, project_id=project_id(project)))


def project_id(name: str) -> str:
    """A project's id."""
    return next(p.id for p in cloud().list_projects() if p.name == name)


@dataclass(frozen=True)
class Vm:
    """A boot-from-volume VM made for one test."""

    id: str
    name: str
    volume_id: str
    snapshot_id: str
    port_id: str
    network_id: str
    ip: str


def make_vm(name: str, project: str = PROJECT) -> Vm:
    """Boot ``name`` from a new volume with a pre-created port, and snapshot its volume (force: it is in use)."""
    admin, mine = cloud(), cloud(project)
    image = next(i for i in admin.list_images() if i.name == "Ubuntu 22.04")
    volume = mine.create_volume(name=f"{name}-root", size_gb=10, image_id=image.id)
    network = next(n for n in mine.list_networks() if n.name == f"{project}-net")
    port = mine.create_port(network.id, name=f"{name}-eth0")
    wait_until(lambda: admin.get_volume(volume.id).status == "available", 60, f"{name}'s volume")
    flavor = next(f for f in admin.list_flavors() if f.name == "m1.small")
    spec = ServerSpec(name=name, flavor_id=str(flavor.id), boot_volume_id=volume.id, port_ids=(port.id,))
    server = mine.create_server(spec)
    wait_until(lambda: admin.get_server(server.id).status == "ACTIVE", 60, f"{name} to boot")
    snapshot = mine.create_snapshot(volume.id, name=f"{name}-nightly", force=True)
    wait_until(lambda: admin.get_snapshot(snapshot.id).status == "available", 60, f"{name}'s snapshot")
    ip = str(port.fixed_ips[0].ip_address)
    return Vm(server.id, name, volume.id, snapshot.id, port.id, network.id, ip)


def restore(kubectl: Kubectl, name: str, vm: Vm, **spec: Any) -> None:
    """Apply a RestoreJob of ``vm`` from its snapshot (executing by default)."""
    body = {
        "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
        "source": {"openstack": {"project": PROJECT, "vmId": vm.id, "restorePointId": vm.snapshot_id}},
        "execute": True,
        **spec,
    }
    manifest = {"apiVersion": "daytwo.io/v1alpha1", "kind": "RestoreJob", "metadata": {"name": name, "namespace": NS}}
    kubectl.apply(json.dumps({**manifest, "spec": body}))


def patch(kubectl: Kubectl, name: str, spec: dict[str, Any]) -> None:
    """Merge-patch a RestoreJob's spec."""
    kubectl.run("patch", "d2rj", name, "-n", NS, "--type=merge", "-p", json.dumps({"spec": spec}))


def job(kubectl: Kubectl, name: str) -> dict[str, Any]:
    """The RestoreJob as the apiserver has it."""
    return kubectl.get("d2rj", name, NS)


def wait_phase(kubectl: Kubectl, name: str, phase: str, timeout: float = 120) -> dict[str, Any]:
    """Until status.phase is ``phase``; returns the object."""
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen["obj"] = job(kubectl, name)
        return bool(seen["obj"].get("status", {}).get("phase") == phase)

    try:
        wait_until(check, timeout, f"RestoreJob {name} to be {phase}")
    except TimeoutError:
        raise AssertionError(json.dumps(seen.get("obj", {}).get("status"), indent=1)[-4000:]) from None
    return seen["obj"]


def steps(obj: dict[str, Any]) -> dict[str, str]:
    """Step name -> state."""
    return {step["name"]: step["state"] for step in obj["status"].get("steps") or []}


def owned(uid: str) -> dict[str, list[str]]:
    """Ids of the live volumes, ports and servers in the stand-in that carry this job's uid."""
    admin = cloud()
    volumes = [v.id for v in admin.list_volumes() if v.metadata.get(UID_KEY) == uid and v.status != "deleting"]
    ports = [p.id for p in admin.list_tagged_ports([f"{UID_KEY}={uid}"])]
    servers = [s.id for s in admin.list_servers() if s.metadata.get(UID_KEY) == uid and s.task_state != "deleting"]
    return {"volumes": volumes, "ports": ports, "servers": servers}


def addresses(server_id: str) -> list[str]:
    """Fixed addresses of a server."""
    return [a.address for a in cloud().get_server(server_id).addresses if a.kind == "fixed"]


def gone(get: Any, object_id: str) -> bool:
    """Whether the object no longer exists."""
    try:
        get(object_id)
    except NotFound:
        return True
    return False


@pytest.fixture(scope="session")
def namespace(kubectl: Kubectl, examples: dict[str, Any]) -> str:
    """A namespace with a credential for the stand-in's admin (shared by every RestoreJob test module)."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [namespace, *openstack_credential(NS)]}))
    return NS


@pytest.fixture(autouse=True)
def no_faults() -> Iterator[None]:
    """Every test starts and ends without injected faults."""
    standin("DELETE", "faults")
    yield
    standin("DELETE", "faults")


def test_example_plans_without_writing(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    name = examples["RestoreJob"]["metadata"]["name"]
    obj = wait_for_condition(kubectl, "d2rj", name, "Ready", "True", reason="Planned")
    status = obj["status"]
    plan = status["plan"]
    assert status["phase"] == "PLANNED" and condition(obj, "Planned")["status"] == "True"
    assert (plan["vmName"], plan["newVmName"], plan["flavor"]) == ("web-01", "web-01-restored", "m1.small")
    assert [p["name"] for p in plan["restorePoints"]] == ["web-01-root-nightly-1", "web-01-root-nightly-2"]
    [network] = plan["networks"]
    assert network["available"] is False and network["plannedIps"] == network["originalIps"]
    assert network["subnets"][0]["availableIps"] and network["subnets"][0]["availableCount"] > 900
    assert plan["quotaOk"] and any("take a new address" in w for w in plan["warnings"])
    assert not status.get("steps") and not status.get("createdResources")
    assert "PLANNED" in kubectl.run("get", "d2rj", name, "-n", NAMESPACE).stdout


def test_new_try_same_ips_falls_back_to_a_new_address(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-new-try")
    restore(kubectl, "new-try", vm, ipStrategy="TRY_SAME_IPS", newVmName="rj-new-try-copy")
    obj = wait_phase(kubectl, "new-try", "COMPLETED")
    result, uid = obj["status"]["result"], obj["metadata"]["uid"]
    assert result["vmName"] == "rj-new-try-copy" and result["fellBack"] == [f"{PROJECT}-net"]
    assert result["ips"] == addresses(result["vmId"]) and vm.ip not in result["ips"]
    assert set(steps(obj).values()) == {"Succeeded"} and condition(obj, "Succeeded")["reason"] == "Restored"
    made = owned(uid)
    assert (made["volumes"], made["servers"], len(made["ports"])) == ([result["volumeId"]], [result["vmId"]], 1)
    assert cloud().get_server(vm.id).status == "ACTIVE" and addresses(vm.id) == [vm.ip], "the source is untouched"


def test_new_ips_and_manual_ip(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-manual")
    restore(kubectl, "new-ips", vm, ipStrategy="NEW_IPS", newVmName="rj-manual-a")
    restore(kubectl, "plan-manual", vm, ipStrategy="NEW_IPS", newVmName="rj-manual-b", execute=False)
    planned = wait_phase(kubectl, "plan-manual", "PLANNED")
    free = planned["status"]["plan"]["networks"][0]["subnets"][0]["availableIps"][-1]
    kubectl.run("delete", "d2rj", "plan-manual", "-n", NS)
    manual = [{"networkId": vm.network_id, "ip": free}]
    restore(kubectl, "manual", vm, ipStrategy="MANUAL_IP", manualIps=manual, newVmName="rj-manual-b")
    first = wait_phase(kubectl, "new-ips", "COMPLETED")["status"]["result"]
    second = wait_phase(kubectl, "manual", "COMPLETED")["status"]["result"]
    assert first["ips"] and first["ips"] != [vm.ip] and not first.get("fellBack")
    assert second["ips"] == [free] == addresses(second["vmId"])


def test_same_ips_or_fail_refuses_a_taken_address_before_changing_anything(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-strict")
    before = len(posts("/volume/v3/volumes$")), len(posts("/network/v2.0/ports$"))
    restore(kubectl, "strict", vm, ipStrategy="SAME_IPS_OR_FAIL")
    obj = wait_phase(kubectl, "strict", "FAILED")
    assert steps(obj)["VALIDATE_LIVE_STATE"] == "Failed" and condition(obj, "Succeeded")["reason"] == "IpUnavailable"
    assert vm.ip in condition(obj, "Ready")["message"] and condition(obj, "Stalled")["status"] == "True"
    assert (len(posts("/volume/v3/volumes$")), len(posts("/network/v2.0/ports$"))) == before
    assert owned(obj["metadata"]["uid"]) == {"volumes": [], "ports": [], "servers": []}
    patch(kubectl, "strict", {"retry": {"requestedAt": "r1", "ipStrategy": "TRY_SAME_IPS"}})
    done = wait_phase(kubectl, "strict", "COMPLETED")
    retry = done["status"]["retry"]
    assert retry["accepted"] and retry["resumedFromStep"] == "VALIDATE_LIVE_STATE"
    assert retry["ipStrategy"] == "TRY_SAME_IPS" and done["status"]["result"]["fellBack"]


def test_replace_keeps_name_and_addresses_then_cleans_up_storage(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-replace")
    restore(kubectl, "replace", vm, mode="REPLACE", confirm="DELETE AND RESTORE rj-replace",
            ipStrategy="SAME_IPS_OR_FAIL", cleanupPolicy="DeletePorts")  # fmt: skip
    obj = wait_phase(kubectl, "replace", "COMPLETED")
    status, admin = obj["status"], cloud()
    result = status["result"]
    assert (result["vmName"], result["ips"]) == ("rj-replace", [vm.ip]) and addresses(result["vmId"]) == [vm.ip]
    assert gone(admin.get_server, vm.id) and gone(admin.get_port, vm.port_id), "old VM and its port are gone"
    [recorded] = status["original"]["ports"]
    assert (recorded["portId"], recorded["networkId"], recorded["ips"]) == (vm.port_id, vm.network_id, [vm.ip])
    assert admin.get_volume(vm.volume_id).status == "available", "the old boot volume is kept, detached"
    assert len(steps(obj)) == 12 and set(steps(obj).values()) == {"Succeeded"}
    patch(kubectl, "replace", {"cleanupStorage": {"requestedAt": "s1", "deleteSourceSnapshot": True}})
    wait_until(lambda: (job(kubectl, "replace")["status"].get("cleanupStorage") or {}).get("state") == "Succeeded",
               60, "the storage cleanup")  # fmt: skip
    record = job(kubectl, "replace")["status"]["cleanupStorage"]
    assert record["deletedSnapshots"] == [vm.snapshot_id] and record["deletedVolumes"] == [vm.volume_id]
    wait_until(lambda: gone(admin.get_volume, vm.volume_id), 30, "the old volume to go")
    assert admin.get_server(result["vmId"]).status == "ACTIVE", "the restored VM is untouched"


def test_replace_address_taken_mid_run_fails_cleanly_then_retry_falls_back(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-race")
    hang("POST", "/network/v2.0/ports$")
    restore(kubectl, "race", vm, mode="REPLACE", confirm="DELETE AND RESTORE rj-race",
            ipStrategy="SAME_IPS_OR_FAIL", cleanupPolicy="DeletePorts")  # fmt: skip
    wait_for_hit(90)
    thief = cloud(PROJECT).create_port(vm.network_id, name="thief", fixed_ips=[(None, vm.ip)])
    standin("DELETE", "faults")
    obj = wait_phase(kubectl, "race", "FAILED")
    assert steps(obj)["CREATE_PORTS"] == "Failed" and condition(obj, "Succeeded")["reason"] == "IpUnavailable"
    wait_until(lambda: (job(kubectl, "race")["status"].get("cleanup") or {}).get("state") == "Succeeded", 60, "cleanup")
    uid = obj["metadata"]["uid"]
    [volume] = owned(uid)["volumes"]
    assert owned(uid)["ports"] == [] and owned(uid)["servers"] == [], "no orphaned port or server"
    patch(kubectl, "race", {"retry": {"requestedAt": "r1", "ipStrategy": "TRY_SAME_IPS"}})
    done = wait_phase(kubectl, "race", "COMPLETED")
    retry = done["status"]["retry"]
    assert retry["resumedFromStep"] == "CREATE_PORTS" and retry["reusedResources"]["volume_id"] == volume
    assert done["status"]["result"]["volumeId"] == volume and done["status"]["result"]["fellBack"]
    assert thief.fixed_ips[0].ip_address == vm.ip not in done["status"]["result"]["ips"]


def test_cancel_mid_run_cleans_up_what_it_made(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-cancel")
    servers_before = len(posts("/compute/v2.1/servers$"))
    hang("POST", "/network/v2.0/ports$")
    restore(kubectl, "cancel", vm, cleanupPolicy="DeletePortsAndVolume")
    wait_for_hit(90)
    assert steps(job(kubectl, "cancel"))["CREATE_PORTS"] == "Running"
    patch(kubectl, "cancel", {"cancel": True})
    standin("DELETE", "faults")  # the port is made, then the restore stops at the step boundary
    obj = wait_phase(kubectl, "cancel", "CANCELED")
    assert condition(obj, "Canceled")["status"] == "True" and condition(obj, "Succeeded")["reason"] == "Canceled"
    assert steps(obj)["CREATE_SERVER"] == "Canceled" and steps(obj)["CREATE_PORTS"] == "Succeeded"
    wait_until(lambda: (job(kubectl, "cancel")["status"].get("cleanup") or {}).get("state") == "Succeeded",
               60, "cleanup")  # fmt: skip
    cleanup = job(kubectl, "cancel")["status"]["cleanup"]
    assert cleanup["requestedAt"] == "cleanupPolicy" and cleanup["deletedPorts"] and cleanup["deletedVolumes"]
    assert owned(obj["metadata"]["uid"]) == {"volumes": [], "ports": [], "servers": []}
    assert len(posts("/compute/v2.1/servers$")) == servers_before, "no server was booted"
    rejected = kubectl.run("patch", "d2rj", "cancel", "-n", NS, "--type=merge", "-p",
                           '{"spec":{"cancel":false}}', check=False)  # fmt: skip
    assert rejected.returncode != 0 and "cancel is one way" in rejected.stderr


def test_retry_after_an_injected_failure_reuses_the_volume(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-retry")
    volumes_before = len(posts("/volume/v3/volumes$"))
    standin("POST", "faults", {"path": "/compute/v2.1/servers$", "method": "POST", "status": 403, "times": 1})
    restore(kubectl, "retry", vm, newVmName="rj-retry-copy")
    obj = wait_phase(kubectl, "retry", "FAILED")
    assert steps(obj)["CREATE_SERVER"] == "Failed" and condition(obj, "Succeeded")["reason"] == "PermissionDenied"
    [volume] = [r["id"] for r in obj["status"]["createdResources"] if r["type"] == "volume"]
    patch(kubectl, "retry", {"retry": {"requestedAt": "r1"}})
    done = wait_phase(kubectl, "retry", "COMPLETED")
    retry = done["status"]["retry"]
    assert (retry["accepted"], retry["resumedFromStep"], retry["count"]) == (True, "CREATE_SERVER", 1)
    assert retry["reusedResources"]["volume_id"] == volume and retry["reusedResources"]["port_ids"]
    assert done["status"]["result"]["volumeId"] == volume
    assert len(posts("/volume/v3/volumes$")) - volumes_before == 1, "the volume was created once"
    assert len(owned(done["metadata"]["uid"])["servers"]) == 1
    patch(kubectl, "retry", {"retry": {"requestedAt": "r2"}, "cleanup": {"requestedAt": "c1"}})
    wait_until(lambda: job(kubectl, "retry")["status"]["retry"]["requestedAt"] == "r2", 30, "the second retry")
    refused = job(kubectl, "retry")["status"]
    assert refused["retry"]["accepted"] is False and "COMPLETED" in refused["retry"]["message"]
    wait_until(lambda: job(kubectl, "retry")["status"].get("lastHandledCleanupAt") == "c1", 30, "the cleanup")
    assert job(kubectl, "retry")["status"]["cleanup"]["state"] == "Refused"


def test_cleanup_of_a_failed_restore_keeps_the_volume_unless_asked(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-cleanup")
    standin("POST", "faults", {"path": "/compute/v2.1/servers$", "method": "POST", "status": 400, "times": 1})
    restore(kubectl, "cleanup", vm)
    obj = wait_phase(kubectl, "cleanup", "FAILED")
    uid = obj["metadata"]["uid"]
    [volume], [port] = owned(uid)["volumes"], owned(uid)["ports"]
    assert obj["status"].get("cleanup") is None, "cleanupPolicy Retain keeps everything"
    patch(kubectl, "cleanup", {"cleanup": {"requestedAt": "c1"}})
    wait_until(lambda: (job(kubectl, "cleanup")["status"].get("cleanup") or {}).get("state") == "Succeeded",
               60, "cleanup")  # fmt: skip
    record = job(kubectl, "cleanup")["status"]["cleanup"]
    assert record["deletedPorts"] == [port] and any(volume in s for s in record["skipped"])
    assert owned(uid) == {"volumes": [volume], "ports": [], "servers": []}
    patch(kubectl, "cleanup", {"cleanup": {"requestedAt": "c2", "deleteVolume": True}})
    wait_until(lambda: (job(kubectl, "cleanup")["status"].get("cleanup") or {}).get("requestedAt") == "c2"
               and job(kubectl, "cleanup")["status"]["cleanup"]["state"] == "Succeeded", 60, "cleanup")  # fmt: skip
    assert job(kubectl, "cleanup")["status"]["cleanup"]["deletedVolumes"] == [volume]
    wait_until(lambda: owned(uid)["volumes"] == [], 30, "the volume to go")
    resources = {r["id"]: r["deleted"] for r in job(kubectl, "cleanup")["status"]["createdResources"]}
    assert resources == {volume: True, port: True}


def test_dry_run_and_operator_side_refusals(kubectl: Kubectl, namespace: str) -> None:
    vm = make_vm("rj-dry")
    restore(kubectl, "dry", vm, mode="REPLACE", confirm="DELETE AND RESTORE rj-dry", dryRun=True)
    restore(kubectl, "wrong-name", vm, mode="REPLACE", confirm="DELETE AND RESTORE rj-drY", execute=False)
    image_booted = next(s for s in cloud().list_servers(project_id=project_id("globex-proj-2")) if s.image_id)
    body = {"project": "globex-proj-2", "vmId": image_booted.id, "restorePointId": vm.snapshot_id}
    restore(kubectl, "from-image", vm, execute=False, source={"openstack": body})
    obj = wait_phase(kubectl, "dry", "COMPLETED")
    assert condition(obj, "Succeeded")["reason"] == "DryRun" and obj["status"].get("createdResources") is None
    assert {state for name, state in steps(obj).items() if name != "VALIDATE_LIVE_STATE"} == {"Skipped"}
    assert cloud().get_server(vm.id).status == "ACTIVE", "a dry run changes nothing"
    refused = wait_for_condition(kubectl, "d2rj", "wrong-name", "Planned", "False", namespace=NS)
    assert condition(refused, "Planned")["reason"] == "ConfirmationMismatch"
    assert "DELETE AND RESTORE rj-dry" in condition(refused, "Ready")["message"]
    image = wait_for_condition(kubectl, "d2rj", "from-image", "Planned", "False", namespace=NS)
    assert condition(image, "Planned")["reason"] == "NotBootFromVolume" and image["status"]["phase"] == "FAILED"


def test_replace_without_the_exact_confirmation_is_rejected_by_the_apiserver(kubectl: Kubectl, namespace: str) -> None:
    manifest = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "RestoreJob",
        "metadata": {"name": "no-confirm", "namespace": NS},
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
            "source": {"openstack": {"project": PROJECT, "vmId": "x", "restorePointId": "y"}},
            "mode": "REPLACE",
            "confirm": "yes please",
        },
    }
    result = kubectl.run("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode != 0 and "set confirm to exactly 'DELETE AND RESTORE <vm name>'" in result.stderr
    assert kubectl.run("get", "d2rj", "no-confirm", "-n", NS, check=False).returncode != 0
