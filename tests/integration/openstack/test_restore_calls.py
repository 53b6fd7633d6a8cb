"""The calls a restore makes, through openstacksdk against the stand-in: volume from a snapshot, tagged ports
with fixed IPs (and Neutron's 409 for a taken address), boot from volume with ports, delete, lookups."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.openstack import AddressInUse, RestoreBackend, SdkOpenStackBackend, ServerSpec
from daytwo.operator.errors import Conflict, InvalidRequest

from tests.standins.openstack.seed_restore import EXAMPLE_RESTORE_POINT_ID, EXAMPLE_VM_ID
from tests.standins.openstack.server import StandIn

from .conftest import admin_params

pytestmark = pytest.mark.integration

TAGS = ["daytwo.io/owner=ns/RestoreJob/r1", "daytwo.io/job-uid=1234"]


def scoped(standin: StandIn, backend: SdkOpenStackBackend, project: str) -> SdkOpenStackBackend:
    """The admin re-scoped to ``project`` (by id), as a restore does."""
    project_id = next(p.id for p in backend.list_projects() if p.name == project)
    return SdkOpenStackBackend(admin_params(standin, project_name=None, project_id=project_id), backend._clients)


def test_backend_is_a_restore_backend(backend: SdkOpenStackBackend) -> None:
    assert isinstance(backend, RestoreBackend)


def test_volume_from_a_boot_snapshot_is_bootable_and_found_by_name(
    backend: SdkOpenStackBackend, openstack_standin: StandIn
) -> None:
    acme = scoped(openstack_standin, backend, "acme-proj-1")
    volume = acme.create_volume(
        name="web-01-boot-restore",
        snapshot_id=EXAMPLE_RESTORE_POINT_ID,
        size_gb=20,
        metadata={"daytwo.io/job-uid": "x"},
    )
    assert volume.status == "creating" and volume.snapshot_id == EXAMPLE_RESTORE_POINT_ID
    openstack_standin.clock.advance(5)
    found = backend.find_volumes("web-01-boot-restore", project_id=volume.project_id)
    assert [v.id for v in found] == [volume.id]
    assert found[0].status == "available" and found[0].bootable and found[0].metadata["daytwo.io/job-uid"] == "x"
    assert volume.project_id == next(p.id for p in backend.list_projects() if p.name == "acme-proj-1")
    assert backend.find_volumes("web-01-boot") == []  # exact names only


def test_tagged_ports_fixed_ips_and_taken_addresses(backend: SdkOpenStackBackend) -> None:
    server = backend.get_server(EXAMPLE_VM_ID)
    (own,) = backend.list_ports(device_id=server.id)
    taken = str(own.fixed_ips[0].ip_address)
    assert [p.id for p in backend.ports_with_ip(own.network_id, taken)] == [own.id]
    with pytest.raises(AddressInUse) as caught:
        backend.create_tagged_port(own.network_id, name="p0", fixed_ips=[(None, taken)], tags=TAGS)
    assert caught.value.reason == "IpAddressAlreadyAllocated" and taken in caught.value.message
    assert isinstance(caught.value, Conflict)
    port = backend.create_tagged_port(own.network_id, name="p0", tags=TAGS, description="restored")
    assert port.fixed_ips and port.fixed_ips[0].ip_address != taken
    assert [p.id for p in backend.list_tagged_ports(TAGS)] == [port.id]
    assert [p.id for p in backend.list_tagged_ports(TAGS[1:])] == [port.id]
    assert backend.list_tagged_ports(["daytwo.io/job-uid=other"]) == []
    with pytest.raises(InvalidRequest):
        backend.create_tagged_port(own.network_id, name="p1", tags=["a,b"])


def test_boot_from_volume_with_ports_then_delete_frees_them(
    backend: SdkOpenStackBackend, openstack_standin: StandIn
) -> None:
    acme = scoped(openstack_standin, backend, "acme-proj-1")
    original = backend.get_server(EXAMPLE_VM_ID)
    (old_port,) = backend.list_ports(device_id=original.id)
    volume = acme.create_volume(name="boot", snapshot_id=EXAMPLE_RESTORE_POINT_ID)
    port = acme.create_tagged_port(old_port.network_id, name="p", tags=TAGS)
    openstack_standin.clock.advance(5)
    flavor = next(f for f in backend.list_flavors() if f.name == original.flavor.name)
    server = acme.create_server(
        ServerSpec(
            name="web-01 (restored)",
            flavor_id=str(flavor.id),
            boot_volume_id=volume.id,
            port_ids=(port.id,),
            metadata={"daytwo.io/job-uid": "1234"},
        )
    )
    assert server.status == "BUILD" and not server.image_id
    openstack_standin.clock.advance(10)
    (found,) = backend.find_servers("web-01 (restored)")
    assert found.id == server.id and found.status == "ACTIVE" and found.metadata["daytwo.io/job-uid"] == "1234"
    assert backend.get_volume(volume.id).status == "in-use"
    assert backend.get_port(port.id).device_id == server.id
    backend.delete_server(original.id)
    openstack_standin.clock.advance(5)
    assert backend.get_port(old_port.id).device_id is None, "a pre-created port survives its server, detached"
    assert backend.get_volume(original.volume_ids[0]).status == "available"
    ip = str(old_port.fixed_ips[0].ip_address)
    assert backend.delete_port(old_port.id) and backend.ports_with_ip(old_port.network_id, ip) == []


def test_deleting_a_bound_port_unplugs_it(backend: SdkOpenStackBackend) -> None:
    server = backend.get_server(EXAMPLE_VM_ID)
    (port,) = backend.list_ports(device_id=server.id)
    assert backend.delete_port(port.id)
    assert backend.get_server(server.id).addresses == ()
