"""Cinder calls through the backend against the stand-in: volumes, metadata, snapshots, quotas."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.openstack import SdkOpenStackBackend
from daytwo.operator.errors import InvalidRequest, NotFound

from tests.standins.openstack.server import StandIn

pytestmark = pytest.mark.integration


def test_volumes_with_metadata_and_attachments(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    volumes = backend.list_volumes()
    assert len(volumes) == len(openstack_standin.model.volumes)
    policy = [v for v in volumes if v.metadata.get("auto_snapshot") == "true"]
    assert policy and all("snapshot_policies" in v.metadata for v in policy)
    attached = [v for v in volumes if v.status == "in-use"]
    assert attached and all(v.attachments and v.attachments[0].server_id for v in attached)
    assert any(v.bootable for v in volumes)


def test_volume_filters(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    project = openstack_standin.info.member_project_id
    mine = backend.list_volumes(project_id=project)
    assert mine and {v.project_id for v in mine} == {project}
    assert {v.status for v in backend.list_volumes(status="available")} == {"available"}


def test_volume_list_follows_pagination(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    model = openstack_standin.model
    template = next(iter(model.volumes.values()))
    for i in range(2100):
        clone = dict(template, id=f"00000000-0000-4000-9000-{i:012d}", name=f"bulk-{i}")
        model.volumes[clone["id"]] = clone
    assert len({v.id for v in backend.list_volumes()}) == len(model.volumes)
    assert openstack_standin.journal.count(path=r"/volumes/detail$") == 3


def test_set_volume_metadata_merges(backend: SdkOpenStackBackend) -> None:
    volume = backend.list_volumes(status="available")[0]
    updated = backend.set_volume_metadata(volume.id, {"daytwo.io/owner": "ns/SnapshotPolicy/daily"})
    assert updated.metadata["daytwo.io/owner"] == "ns/SnapshotPolicy/daily"
    assert set(volume.metadata) <= set(updated.metadata)


def test_snapshot_lifecycle_and_rules(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    clock = openstack_standin.clock
    in_use = next(v for v in backend.list_volumes() if v.status == "in-use")
    with pytest.raises(InvalidRequest, match="status must be available, but current status is: in-use") as err:
        backend.create_snapshot(in_use.id, name="no-force")
    assert err.value.status_code == 400
    snap = backend.create_snapshot(in_use.id, name="daily-1", force=True, metadata={"policy": "daily_5"})
    assert snap.status == "creating" and snap.volume_id == in_use.id and snap.size_gb == in_use.size_gb
    clock.advance(2)
    assert backend.get_snapshot(snap.id).status == "available"
    assert snap.id in {s.id for s in backend.list_snapshots(volume_id=in_use.id)}
    with pytest.raises(InvalidRequest, match="cannot be smaller than the snapshot size"):
        backend.create_volume(name="too-small", size_gb=in_use.size_gb - 1, snapshot_id=snap.id)
    restored = backend.create_volume(name="restored", snapshot_id=snap.id, metadata={"restored-from": snap.id})
    assert restored.status == "creating" and restored.size_gb == snap.size_gb and restored.snapshot_id == snap.id
    clock.advance(2)
    assert backend.get_volume(restored.id).status == "available"
    with pytest.raises(InvalidRequest, match="have snapshots"):
        backend.delete_volume(in_use.id)
    assert backend.delete_snapshot(snap.id) is True
    assert backend.get_snapshot(snap.id).status == "deleting"
    clock.advance(1)
    with pytest.raises(NotFound, match=f"Snapshot {snap.id} could not be found"):
        backend.get_snapshot(snap.id)
    assert backend.delete_snapshot(snap.id) is False
    assert backend.delete_volume(restored.id) is True
    clock.advance(1)
    assert backend.delete_volume(restored.id) is False


def test_snapshot_list_filters(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    snapshots = backend.list_snapshots()
    assert len(snapshots) == len(openstack_standin.model.snapshots)
    assert all(s.metadata.get("created_by") == "p9_auto_snapshots" for s in snapshots)
    project = snapshots[0].project_id
    assert project is not None
    assert {s.project_id for s in backend.list_snapshots(project_id=project)} == {project}


def test_volume_quota_usage(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    project = openstack_standin.info.member_project_id
    usage = {q.resource: q for q in backend.get_volume_quota_usage(project)}
    mine = [v for v in openstack_standin.model.volumes.values() if v["os-vol-tenant-attr:tenant_id"] == project]
    assert usage["volumes"].in_use == len(mine) and usage["volumes"].limit == 100
    assert usage["gigabytes"].in_use >= sum(v["size"] for v in mine)


def test_wait_helpers_poll_until_done(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    from daytwo.operator.backends.openstack import wait_for_gone, wait_for_status

    clock = openstack_standin.clock
    created = backend.create_volume(name="waited", size_gb=1)
    done = wait_for_status(
        lambda: backend.get_volume(created.id),
        "available",
        interval_s=0,
        on_poll=lambda: clock.advance(1),
        timeout_s=30,
    )
    assert done.status == "available"
    backend.delete_volume(created.id)
    wait_for_gone(lambda: backend.get_volume(created.id), interval_s=0, on_poll=lambda: clock.advance(1))
    with pytest.raises(NotFound):
        backend.get_volume(created.id)
