"""Nova calls through openstacksdk against the stand-in: servers, flavors, hypervisors, aggregates."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.openstack import SdkOpenStackBackend, ServerSpec
from daytwo.operator.errors import Conflict, InvalidRequest, NotFound

from tests.standins.openstack.server import StandIn

pytestmark = pytest.mark.integration


def test_servers_with_flavor_and_host(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    servers = backend.list_servers()
    model = openstack_standin.model
    assert len(servers) == len(model.servers)
    for server in servers:
        raw = model.servers[server.id]
        flavor = model.flavors[raw["flavor_id"]]
        assert (server.flavor.name, server.flavor.vcpus, server.flavor.ram_mb) == (
            flavor["name"],
            flavor["vcpus"],
            flavor["ram"],
        )
        assert server.host == raw["host"] and server.hypervisor_hostname == raw["node"]
        assert server.boots_from_volume == (raw["image_id"] == "")
        assert server.addresses
    gpu = next(s for s in servers if "gpu_type" in s.flavor.extra_specs)
    assert gpu.flavor.extra_specs["pci_passthrough:alias"].startswith(gpu.flavor.extra_specs["gpu_type"])
    assert any(s.boots_from_volume and s.volume_ids for s in servers)


def test_server_filters(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    project = openstack_standin.info.member_project_id
    mine = backend.list_servers(project_id=project)
    assert mine and all(s.project_id == project for s in mine)
    host = mine[0].host
    assert host is not None
    assert {s.host for s in backend.list_servers(host=host)} == {host}
    assert all(s.status == "SHUTOFF" for s in backend.list_servers(status="SHUTOFF"))
    own = backend.list_servers(all_projects=False)
    assert all(s.project_id == openstack_standin.info.admin_project_id for s in own)


def test_server_list_follows_pagination(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    model = openstack_standin.model
    template = next(iter(model.servers.values()))
    for i in range(1100):
        clone = dict(template, id=f"00000000-0000-4000-8000-{i:012d}", name=f"bulk-{i}")
        model.servers[clone["id"]] = clone
    assert len(backend.list_servers()) == len(model.servers)
    assert openstack_standin.journal.count(path=r"/servers/detail$") == 2


def test_flavors_and_hypervisors(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    flavors = backend.list_flavors()
    assert {f.name for f in flavors} == {f["name"] for f in openstack_standin.model.flavors.values()}
    assert any(f.extra_specs.get("gpu_type") == "H100" for f in flavors)
    hypervisors = backend.list_hypervisors()
    assert len(hypervisors) == len(openstack_standin.model.hypervisors)
    busy = max(hypervisors, key=lambda h: h.running_vms or 0)
    on_host = [s for s in openstack_standin.model.servers.values() if s["node"] == busy.hostname]
    assert busy.running_vms == len(on_host) > 0
    assert busy.vcpus_used == sum(openstack_standin.model.flavors[s["flavor_id"]]["vcpus"] for s in on_host)
    assert busy.vcpus and busy.memory_mb and busy.local_gb
    assert busy.host == busy.hostname.split(".")[0]


def test_aggregates_follow_the_spot_manager_naming(backend: SdkOpenStackBackend) -> None:
    names = {a.name for a in backend.list_aggregates()}
    assert {"H100-n3", "H100-n3-spot", "H100-n3-runpod", "H100-n3-NVLink"} <= names
    assert any(n.startswith("H100-n3-contract-") for n in names)
    spot = backend.get_aggregate("H100-n3-spot")
    assert spot.metadata["pool"] == "spot" and spot.hosts
    assert backend.get_aggregate(spot.id) == spot
    with pytest.raises(NotFound):
        backend.get_aggregate("no-such-aggregate")


def test_move_host_between_aggregates(backend: SdkOpenStackBackend) -> None:
    source, target = backend.get_aggregate("H100-n3"), backend.get_aggregate("H100-n3-spot")
    host = source.hosts[0]
    assert host not in backend.remove_host_from_aggregate(source.id, host).hosts
    assert host in backend.add_host_to_aggregate(target.id, host).hosts
    assert host in backend.get_aggregate("H100-n3-spot").hosts


def test_aggregate_membership_rules(backend: SdkOpenStackBackend) -> None:
    spot = backend.get_aggregate("H100-n3-spot")
    with pytest.raises(Conflict, match="already has host") as conflict:
        backend.add_host_to_aggregate(spot.id, spot.hosts[0])
    assert conflict.value.status_code == 409
    with pytest.raises(NotFound, match="Cannot remove host"):
        backend.remove_host_from_aggregate(spot.id, "h100-host-001")
    with pytest.raises(NotFound, match="Compute host no-such-host could not be found"):
        backend.add_host_to_aggregate(spot.id, "no-such-host")
    with pytest.raises(NotFound, match="could not be found"):
        backend.add_host_to_aggregate("9999", "h100-host-001")


def test_availability_zone_rules(backend: SdkOpenStackBackend) -> None:
    east, west = backend.get_aggregate("az-east"), backend.get_aggregate("az-west")
    with pytest.raises(Conflict, match=r"already in availability zone\(s\) \['az-west'\]"):
        backend.add_host_to_aggregate(east.id, west.hosts[0])
    spot = backend.get_aggregate("H100-n3-spot")
    with pytest.raises(InvalidRequest, match="availability zone") as bad:
        backend.set_aggregate_availability_zone(spot.id, "az-north")
    assert bad.value.status_code == 400
    with pytest.raises(InvalidRequest, match="availability zone"):
        backend.set_aggregate_metadata(spot.id, {"availability_zone": "az-north"})
    empty = backend.get_aggregate("H100-n3-NVLink")
    assert backend.set_aggregate_availability_zone(empty.id, "az-north").availability_zone == "az-north"


def test_aggregate_metadata_set_and_unset(backend: SdkOpenStackBackend) -> None:
    spot = backend.get_aggregate("H100-n3-spot")
    updated = backend.set_aggregate_metadata(spot.id, {"owner": "ops", "pool": None})
    assert updated.metadata["owner"] == "ops" and "pool" not in updated.metadata


def test_compute_quota_usage(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    project = openstack_standin.info.member_project_id
    usage = {q.resource: q for q in backend.get_compute_quota_usage(project)}
    mine = [s for s in openstack_standin.model.servers.values() if s["tenant_id"] == project]
    assert usage["instances"].in_use == len(mine) and usage["instances"].limit == 50
    assert usage["cores"].in_use == sum(openstack_standin.model.flavors[s["flavor_id"]]["vcpus"] for s in mine)


def test_boot_from_volume_with_port_then_delete(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    clock = openstack_standin.clock
    image = next(i for i in backend.list_images() if i.name == "Ubuntu 22.04")
    volume = backend.create_volume(name="restore-root", size_gb=20, image_id=image.id)
    assert volume.status == "creating"
    clock.advance(2)
    assert backend.get_volume(volume.id).status == "available"
    network = next(n for n in backend.list_networks() if n.name == "admin-net")
    free = backend.free_ips(network.id, limit_per_subnet=1)[0]
    port = backend.create_port(network.id, name="restore-port", fixed_ips=[(free.subnet_id, free.available_ips[0])])
    flavor = next(f for f in backend.list_flavors() if f.name == "m1.small")
    server = backend.create_server(
        ServerSpec(name="restored-vm", flavor_id=str(flavor.id), boot_volume_id=volume.id, port_ids=(port.id,))
    )
    assert server.status == "BUILD"
    assert backend.get_server(server.id).status == "BUILD"
    clock.advance(5)
    active = backend.get_server(server.id)
    assert active.status == "ACTIVE" and active.boots_from_volume and active.volume_ids == (volume.id,)
    assert free.available_ips[0] in {a.address for a in active.addresses}
    assert backend.get_volume(volume.id).status == "in-use"
    assert backend.get_port(port.id).device_id == server.id
    found = backend.find_server("restored-vm")
    assert found is not None and found.id == server.id
    assert backend.find_server("restored") is None
    with pytest.raises(Conflict, match="still in use"):
        backend.create_server(
            ServerSpec(name="second", flavor_id=str(flavor.id), image_id=image.id, port_ids=(port.id,))
        )
    assert backend.delete_server(server.id) is True
    clock.advance(1)
    with pytest.raises(NotFound):
        backend.get_server(server.id)
    assert backend.delete_server(server.id) is False
    assert backend.get_volume(volume.id).status == "available"
    assert backend.get_port(port.id).device_id is None


def test_duplicate_boots_like_nova(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    """Issue 16 item 5: Nova accepts duplicate names and binds a requested port only while building (the
    API refuses a port already bound, 409 PortInUse), but reserves a boot volume in the POST itself."""
    clock = openstack_standin.clock
    image = next(i for i in backend.list_images() if i.name == "Ubuntu 22.04")
    flavor = next(f for f in backend.list_flavors() if f.name == "m1.small")
    network = next(n for n in backend.list_networks() if n.name == "admin-net")
    port = backend.create_port(network.id, name="twice-port")
    spec = ServerSpec(name="twice", flavor_id=str(flavor.id), image_id=image.id, port_ids=(port.id,))
    first, second = backend.create_server(spec), backend.create_server(spec)
    assert first.id != second.id and backend.get_port(port.id).device_id is None, "bound by the build, not the POST"
    clock.advance(5)
    assert (backend.get_server(first.id).status, backend.get_port(port.id).device_id) == ("ACTIVE", first.id)
    late = backend.get_server(second.id)
    assert late.status == "ERROR" and late.fault is not None and f"Port {port.id} is still in use" in late.fault
    assert sorted(s.id for s in backend.find_servers("twice")) == sorted([first.id, second.id])
    volume = backend.create_volume(name="twice-root", size_gb=10, image_id=image.id)
    clock.advance(2)
    boot = ServerSpec(name="twice-bfv", flavor_id=str(flavor.id), boot_volume_id=volume.id)
    backend.create_server(boot)
    with pytest.raises(InvalidRequest, match="Invalid volume"):
        backend.create_server(boot)
    for server in backend.find_servers("twice") + backend.find_servers("twice-bfv"):
        backend.delete_server(server.id)
    clock.advance(1)
    assert backend.get_port(port.id).device_id is None


def test_boot_validation(backend: SdkOpenStackBackend) -> None:
    flavor = backend.list_flavors()[0]
    with pytest.raises(InvalidRequest, match="Block Device Mapping is Invalid"):
        backend.create_server(ServerSpec(name="no-boot-source", flavor_id=str(flavor.id)))
    in_use = next(v for v in backend.list_volumes() if v.status == "in-use")
    with pytest.raises(InvalidRequest, match="status must be 'available'"):
        backend.create_server(ServerSpec(name="x", flavor_id=str(flavor.id), boot_volume_id=in_use.id))
