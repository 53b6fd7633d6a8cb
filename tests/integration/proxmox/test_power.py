"""Power operations and tasks: UPIDs, non-blocking status, waiting, task errors and missing privileges."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.proxmox import (
    GuestRef,
    ProxmoxClientFactory,
    ProxmoxerBackend,
    TaskFailed,
)
from daytwo.operator.errors import Conflict, PermissionDenied, Timeout

from tests.standins.proxmox import PveStandin

from .conftest import make_params

pytestmark = pytest.mark.integration

WAIT = {"timeout": 10.0, "poll_interval": 0.05}


def _status(client: ProxmoxerBackend, ref: GuestRef) -> str:
    status: str = next(g.status for g in client.guests(ref.node) if g.vmid == ref.vmid)
    return status


@pytest.mark.parametrize("type_", ["vm", "lxc"])
def test_start_then_stop(pve: PveStandin, client: ProxmoxerBackend, type_: str) -> None:
    spec = pve.guest(type_, "stopped")  # type: ignore[arg-type]
    ref = GuestRef(spec.node, spec.vmid, spec.type)
    upid = client.start(ref)
    assert upid.startswith(f"UPID:{ref.node}:")
    done = client.wait_task(ref.node, upid, **WAIT)
    assert done.succeeded and done.exitstatus == "OK"
    assert _status(client, ref) == "running"
    client.wait_task(ref.node, client.stop(ref), **WAIT)
    assert _status(client, ref) == "stopped"


@pytest.mark.parametrize("type_", ["vm", "lxc"])
def test_graceful_shutdown_and_reboot(pve: PveStandin, client: ProxmoxerBackend, type_: str) -> None:
    spec = pve.guest(type_, "running")  # type: ignore[arg-type]
    ref = GuestRef(spec.node, spec.vmid, spec.type)
    rebooted = client.wait_task(ref.node, client.reboot(ref, timeout=30), **WAIT)
    assert rebooted.succeeded
    assert _status(client, ref) == "running"
    client.wait_task(ref.node, client.shutdown(ref, timeout=30), **WAIT)
    assert _status(client, ref) == "stopped"


def _unresponsive_vm(pve: PveStandin) -> GuestRef:
    """A running VM whose guest ignores ACPI: a graceful shutdown times out."""
    spec = pve.guest("vm", "running")

    def ignore_acpi(p: object) -> None:
        p.guest(spec.vmid).acpi = False  # type: ignore[attr-defined]

    pve.call(ignore_acpi)
    return GuestRef(spec.node, spec.vmid, "vm")


def test_shutdown_force_stop_powers_off_after_the_timeout(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _unresponsive_vm(pve)
    done = client.wait_task(ref.node, client.shutdown(ref, timeout=1, force_stop=True), **WAIT)
    assert done.succeeded
    assert _status(client, ref) == "stopped"


def test_shutdown_without_force_stop_fails_with_pve_message(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _unresponsive_vm(pve)
    upid = client.shutdown(ref, timeout=1)
    with pytest.raises(TaskFailed) as caught:
        client.wait_task(ref.node, upid, **WAIT)
    assert caught.value.exitstatus == "VM quit/powerdown failed - got timeout"
    assert caught.value.upid == upid
    assert caught.value.reason == "TaskFailed" and not caught.value.retryable
    assert _status(client, ref) == "running"


def test_task_that_ends_in_error(pve: PveStandin, client: ProxmoxerBackend) -> None:
    spec = pve.guest("vm", "stopped")
    pve.fail_start(spec.vmid, "start failed: QEMU exited with code 1")
    ref = GuestRef(spec.node, spec.vmid)
    upid = client.start(ref)
    with pytest.raises(TaskFailed) as caught:
        client.wait_task(ref.node, upid, **WAIT)
    assert caught.value.exitstatus == "start failed: QEMU exited with code 1"
    assert "start failed: QEMU exited with code 1" in str(caught.value)
    status = client.task_status(ref.node, upid)
    assert status.done and not status.succeeded
    with pytest.raises(TaskFailed):
        status.raise_for_exitstatus()


def test_task_status_is_non_blocking_and_wait_has_a_deadline(pve: PveStandin, client: ProxmoxerBackend) -> None:
    spec = pve.guest("vm", "stopped")

    def slow_start(p: object) -> None:
        p.guest(spec.vmid).start_secs = 30  # type: ignore[attr-defined]

    pve.call(slow_start)
    ref = GuestRef(spec.node, spec.vmid)
    upid = client.start(ref)
    status = client.task_status(ref.node, upid)
    assert status.state == "running" and status.exitstatus is None and not status.done
    status.raise_for_exitstatus()  # running is not a failure
    with pytest.raises(Timeout, match="still running"):
        client.wait_task(ref.node, upid, timeout=0.2, poll_interval=0.05)


def test_power_on_a_locked_vm_is_a_conflict(pve: PveStandin, client: ProxmoxerBackend) -> None:
    spec = pve.guest("vm", "running")
    pve.call(lambda p: p.snapshot_lock(spec.vmid, "backup"))
    with pytest.raises(Conflict, match=r"VM is locked \(backup\)"):
        client.stop(GuestRef(spec.node, spec.vmid))


@pytest.mark.parametrize("action", ["start", "shutdown", "stop", "reboot"])
def test_token_without_power_privilege(pve: PveStandin, factory: ProxmoxClientFactory, action: str) -> None:
    limited = factory.get(make_params(pve, token_id=pve.nopower_token_id, token_secret=pve.nopower_token_secret))
    spec = pve.guest("vm", "running")
    ref = GuestRef(spec.node, spec.vmid)
    assert len(limited.guests()) == len(pve.guests)  # it can still read
    with pytest.raises(PermissionDenied) as caught:
        getattr(limited, action)(ref)
    assert caught.value.missing == "VM.PowerMgmt"
    assert caught.value.status_code == 403
    assert f"Permission check failed (/vms/{spec.vmid}, VM.PowerMgmt)" in caught.value.message


def test_container_without_power_privilege(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    limited = factory.get(make_params(pve, token_id=pve.nopower_token_id, token_secret=pve.nopower_token_secret))
    spec = pve.guest("lxc")
    with pytest.raises(PermissionDenied) as caught:
        limited.start(GuestRef(spec.node, spec.vmid, "lxc"))
    assert caught.value.missing == "VM.PowerMgmt"
