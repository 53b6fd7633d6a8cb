"""A REPLACE restore survives SIGKILL of the operator in every step that calls the cloud, and completes once.

The stand-in holds one call of the next step unanswered; once the call arrived (the step is recorded
Running before its call goes out), the operator is killed with SIGKILL, the held call is released
(it may still land, as a call in flight does when its client dies), the next step's call is armed and
the operator restarted. The fault paths name this VM's objects, so no other object's traffic trips them.
The read-only steps (RECORD_ORIGINAL_VM, VERIFY_IPS) and FINALIZE (no cloud call) are not held: a
restart repeats them harmlessly. At the end exactly one volume, one port and one server carry the job's
uid, each created by exactly one successful call.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until

from .test_restorejob import (  # noqa: F401 - namespace and no_faults are fixtures
    NS,
    UID_KEY,
    cloud,
    gone,
    hang,
    job,
    make_vm,
    namespace,
    no_faults,
    owned,
    posts,
    restore,
    standin,
    steps,
    wait_for_hit,
    wait_phase,
)

# A restarted operator waits out each create that was in flight when it died (the client timeout, 30 s, plus
# a margin) before it looks for what the create made: three such waits in the every-step test.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _new(kind: str, uid: str) -> str:
    """The id of the volume or server this job made (once the released create has landed)."""
    admin, found = cloud(), []

    def landed() -> bool:
        listed = admin.list_volumes() if kind == "volume" else admin.list_servers()
        found[:] = [item.id for item in listed if item.metadata.get(UID_KEY) == uid]
        return bool(found)

    wait_until(landed, 30, f"the held {kind} create to land")
    return str(found[0])


@pytest.mark.usefixtures("namespace")
def test_sigkill_in_every_step_then_restart_completes_exactly_once(kubectl: Kubectl, operator: DaytwoProcess) -> None:
    vm = make_vm("rj-crash")
    before = {
        path: len(posts(path)) for path in ("/volume/v3/volumes$", "/network/v2.0/ports$", "/compute/v2.1/servers$")
    }
    servers = f"/compute/v2.1/servers/{vm.id}$"
    holds: list[tuple[str, str, Any, int]] = [
        ("VALIDATE_LIVE_STATE", "GET", servers, 0),
        ("DELETE_EXISTING_VM", "DELETE", servers, 0),
        ("WAIT_VM_DELETED", "GET", servers, 1),  # the first GET is DELETE_EXISTING_VM's check, run again
        ("CLEANUP_OLD_PORTS", "DELETE", f"/network/v2.0/ports/{vm.port_id}$", 0),
        ("CREATE_VOLUME_FROM_SNAPSHOT", "POST", "/volume/v3/volumes$", 0),
        ("WAIT_VOLUME_AVAILABLE", "GET", lambda uid: f"/volume/v3/volumes/{_new('volume', uid)}$", 0),
        ("CREATE_PORTS", "POST", "/network/v2.0/ports$", 0),
        ("CREATE_SERVER", "POST", "/compute/v2.1/servers$", 0),
        ("WAIT_SERVER_ACTIVE", "GET", lambda uid: f"/compute/v2.1/servers/{_new('server', uid)}$", 0),
    ]
    killed_in = []
    uid = ""
    try:
        for number, (_step, method, path, skip) in enumerate(holds):
            hang(method, path(uid) if callable(path) else path, skip)
            if number == 0:
                restore(kubectl, "crash", vm, mode="REPLACE", confirm="DELETE AND RESTORE rj-crash",
                        ipStrategy="SAME_IPS_OR_FAIL")  # fmt: skip
                uid = job(kubectl, "crash")["metadata"]["uid"]
            else:
                operator.start()
            wait_for_hit(90)
            killed_in += [name for name, state in steps(job(kubectl, "crash")).items() if state == "Running"]
            operator.kill()
            standin("DELETE", "faults")  # the held call goes through now, after its client died
    finally:
        standin("DELETE", "faults")
        if operator.process is not None and operator.process.poll() is not None:
            operator.start()
    assert killed_in == [step for step, *_ in holds], "killed once in each of these steps, while it was Running"
    obj = wait_phase(kubectl, "crash", "COMPLETED", timeout=180)
    result = obj["status"]["result"]
    assert result["vmName"] == "rj-crash" and result["ips"] == [vm.ip]
    made = owned(uid)
    assert made["volumes"] == [result["volumeId"]] and made["servers"] == [result["vmId"]]
    assert len(made["ports"]) == 1, made
    assert gone(cloud().get_server, vm.id) and gone(cloud().get_port, vm.port_id)
    created = {path: posts(path)[count:] for path, count in before.items()}
    assert created["/volume/v3/volumes$"] == [202], "one volume create"
    assert created["/network/v2.0/ports$"] == [201], "one port create"
    assert created["/compute/v2.1/servers$"] == [202], "one boot"
    resources = obj["status"]["createdResources"]
    assert sorted(r["type"] for r in resources) == ["port", "server", "volume"]
    assert not any(r["deleted"] for r in resources)
    assert {s["state"] for s in obj["status"]["steps"]} == {"Succeeded"}
    assert obj["metadata"]["namespace"] == NS


@pytest.mark.usefixtures("namespace")
def test_sigkill_while_the_boot_hangs_then_restart_boots_once(kubectl: Kubectl, operator: DaytwoProcess) -> None:
    """Issue 16 item 5: the boot reaches Nova but lands only after the operator died and after the restarted
    one would have looked (Nova accepts duplicate names): the restarted operator waits out the recorded
    in-flight call, finds the server and sends no second boot."""
    vm = make_vm("rj-hung")
    boots = len(posts("/compute/v2.1/servers$"))
    standin("POST", "faults", {"path": "/compute/v2.1/servers$", "method": "POST", "hang": 25, "times": 1})
    try:
        restore(kubectl, "hung", vm, ipStrategy="NEW_IPS", newVmName="rj-hung-copy")
        wait_for_hit(180)
        obj = job(kubectl, "hung")
        uid = obj["metadata"]["uid"]
        assert steps(obj)["CREATE_SERVER"] == "Running"
        assert obj["status"]["inFlight"]["step"] == "CREATE_SERVER", "recorded before the boot was sent"
        operator.kill()
    finally:
        operator.start()
    try:
        obj = wait_phase(kubectl, "hung", "COMPLETED", timeout=240)
    finally:
        standin("DELETE", "faults")
    made = owned(uid)
    assert made["servers"] == [obj["status"]["result"]["vmId"]], "exactly one server carries the job's uid"
    assert posts("/compute/v2.1/servers$")[boots:] == [202], "one boot was sent"
    assert "inFlight" not in obj["status"]
