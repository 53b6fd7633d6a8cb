"""Snapshots (create with/without RAM, list, rollback, delete) and clones for restore-as-new."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.proxmox import GuestRef, ProxmoxerBackend, TaskFailed
from daytwo.operator.errors import InvalidRequest, NotFound

from tests.standins.proxmox import PveStandin

pytestmark = pytest.mark.integration

WAIT = {"timeout": 10.0, "poll_interval": 0.05}


def _ref(pve: PveStandin, type_: str, status: str | None = None) -> GuestRef:
    spec = pve.guest(type_, status)  # type: ignore[arg-type]
    return GuestRef(spec.node, spec.vmid, spec.type)


def test_snapshot_with_memory_list_and_delete(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _ref(pve, "vm", "running")
    upid = client.create_snapshot(ref, "before-upgrade", description="daily", include_memory=True)
    assert ":qmsnapshot:" in upid
    client.wait_task(ref.node, upid, **WAIT)
    client.wait_task(ref.node, client.create_snapshot(ref, "disk-only"), **WAIT)
    snaps = client.list_snapshots(ref)
    assert [s.name for s in snaps] == ["before-upgrade", "disk-only"]
    assert snaps[0].vmstate and snaps[0].description == "daily"
    assert not snaps[1].vmstate and snaps[1].parent == "before-upgrade"
    client.wait_task(ref.node, client.delete_snapshot(ref, "before-upgrade"), **WAIT)
    assert [s.name for s in client.list_snapshots(ref)] == ["disk-only"]


def test_rollback(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _ref(pve, "vm", "running")
    client.wait_task(ref.node, client.create_snapshot(ref, "known-good"), **WAIT)
    done = client.wait_task(ref.node, client.rollback_snapshot(ref, "known-good", start=True), **WAIT)
    assert done.succeeded and done.type == "qmrollback"
    assert next(g for g in client.guests() if g.vmid == ref.vmid).status == "running"


def test_rollback_to_missing_snapshot_fails_the_task(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _ref(pve, "vm")
    with pytest.raises(TaskFailed, match="snapshot 'nope' does not exist"):
        client.wait_task(ref.node, client.rollback_snapshot(ref, "nope"), **WAIT)


def test_duplicate_snapshot_name_fails_the_task(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _ref(pve, "vm")
    client.wait_task(ref.node, client.create_snapshot(ref, "twice"), **WAIT)
    with pytest.raises(TaskFailed) as caught:
        client.wait_task(ref.node, client.create_snapshot(ref, "twice"), **WAIT)
    assert caught.value.exitstatus == "snapshot name 'twice' already used"


def test_container_snapshot_and_clone(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _ref(pve, "lxc", "running")
    client.wait_task(ref.node, client.create_snapshot(ref, "ct-snap"), **WAIT)
    assert [s.name for s in client.list_snapshots(ref)] == ["ct-snap"]
    newid = client.next_vmid()
    with pytest.raises(InvalidRequest, match="only possible from a snapshot"):
        client.clone(ref, newid, name="ct-restored")  # PVE: a running container clones from a snapshot
    client.wait_task(ref.node, client.clone(ref, newid, name="ct-restored", snapshot="ct-snap"), **WAIT)
    clone = next(g for g in client.guests() if g.vmid == newid)
    assert (clone.type, clone.name, clone.node) == ("lxc", "ct-restored", ref.node)


def test_memory_snapshot_of_a_container_is_refused(pve: PveStandin, client: ProxmoxerBackend) -> None:
    with pytest.raises(InvalidRequest, match="only possible for VMs"):
        client.create_snapshot(_ref(pve, "lxc"), "with-ram", include_memory=True)


def test_clone_from_snapshot_restores_as_new(pve: PveStandin, client: ProxmoxerBackend) -> None:
    ref = _ref(pve, "vm", "running")
    client.wait_task(ref.node, client.create_snapshot(ref, "nightly"), **WAIT)
    newid = client.next_vmid()
    upid = client.clone(ref, newid, name="restored-nightly", snapshot="nightly", full=True)
    assert ":qmclone:" in upid
    client.wait_task(ref.node, upid, **WAIT)
    clone = next(g for g in client.guests() if g.vmid == newid)
    assert (clone.type, clone.name, clone.status) == ("vm", "restored-nightly", "stopped")


def test_snapshots_of_a_missing_guest(pve: PveStandin, client: ProxmoxerBackend) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        client.list_snapshots(GuestRef("pve1", 99999))


def test_names_that_would_change_the_url_are_refused(client: ProxmoxerBackend) -> None:
    with pytest.raises(InvalidRequest):
        client.create_snapshot(GuestRef("pve1", 100), "../../version")
    with pytest.raises(InvalidRequest):
        client.node_status("pve1/qemu")
