"""Neutron and Glance calls through the backend against the stand-in."""

from __future__ import annotations

import ipaddress

import pytest
from daytwo.operator.backends.openstack import SdkOpenStackBackend
from daytwo.operator.errors import Conflict, InvalidRequest, NotFound

from tests.standins.openstack.server import StandIn

pytestmark = pytest.mark.integration


def test_networks_subnets_ports(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    networks = backend.list_networks()
    assert len(networks) == len(openstack_standin.model.networks)
    public = next(n for n in networks if n.external)
    assert public.shared and public.subnet_ids
    private = next(n for n in networks if n.name == "admin-net")
    subnets = backend.list_subnets(network_id=private.id)
    assert [s.id for s in subnets] == list(private.subnet_ids)
    assert subnets[0].allocation_pools and subnets[0].gateway_ip
    ports = backend.list_ports()
    assert len(ports) == len(openstack_standin.model.ports)
    server_port = next(p for p in ports if p.device_id)
    assert backend.list_ports(device_id=server_port.device_id) == [server_port]
    assert backend.get_port(server_port.id) == server_port
    project = openstack_standin.info.member_project_id
    assert {n.project_id for n in backend.list_networks(project_id=project)} == {project}


def test_floating_ips_and_security_groups(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    fips = backend.list_floating_ips()
    assert len(fips) == len(openstack_standin.model.floating_ips)
    assert all(f.port_id and f.fixed_ip_address for f in fips)
    groups = backend.list_security_groups(project_id=openstack_standin.info.member_project_id)
    assert {g.name for g in groups} == {"default", "web"}
    web = next(g for g in groups if g.name == "web")
    assert {r.port_range_min for r in web.rules} == {22, 80, 443}


def test_free_ips_are_pools_minus_used(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    network = next(n for n in backend.list_networks() if n.name.endswith("-proj-1-net"))
    before = backend.free_ips(network.id, limit_per_subnet=5)
    assert len(before) == 1
    entry = before[0]
    used = {f.ip_address for p in backend.list_ports(network_id=network.id) for f in p.fixed_ips}
    assert used and not used & set(entry.available_ips)
    assert entry.gateway_ip not in entry.available_ips
    pool_start, pool_end = backend.list_subnets(network_id=network.id)[0].allocation_pools[0]
    pool_size = int(ipaddress.ip_address(pool_end)) - int(ipaddress.ip_address(pool_start)) + 1
    assert entry.available_count == pool_size - len(used)
    backend.create_port(network.id, name="take-one", fixed_ips=[(entry.subnet_id, entry.available_ips[0])])
    after = backend.free_ips(network.id, limit_per_subnet=5)[0]
    assert after.available_count == entry.available_count - 1
    assert after.available_ips[0] == entry.available_ips[1]


def test_port_create_rules_and_delete(backend: SdkOpenStackBackend) -> None:
    network = next(n for n in backend.list_networks() if n.name == "admin-net")
    subnet = backend.list_subnets(network_id=network.id)[0]
    taken = backend.create_port(network.id, name="first", fixed_ips=[(subnet.id, None)])
    address = taken.fixed_ips[0].ip_address
    with pytest.raises(Conflict, match="already allocated"):
        backend.create_port(network.id, name="dup", fixed_ips=[(subnet.id, address)])
    with pytest.raises(InvalidRequest, match="not a valid IP for the specified subnet"):
        backend.create_port(network.id, name="outside", fixed_ips=[(subnet.id, "192.0.2.5")])
    with pytest.raises(NotFound, match="Network"):
        backend.create_port("00000000-0000-0000-0000-000000000000", name="nowhere")
    assert backend.delete_port(taken.id) is True
    assert backend.delete_port(taken.id) is False
    with pytest.raises(NotFound):
        backend.get_port(taken.id)


def test_images(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    images = backend.list_images()
    assert {i.name for i in images} == {i["name"] for i in openstack_standin.model.images.values()}
    ubuntu = next(i for i in images if i.name == "Ubuntu 22.04")
    assert backend.get_image(ubuntu.id) == ubuntu
    assert ubuntu.properties["os_distro"] == "ubuntu"
    with pytest.raises(NotFound):
        backend.get_image("00000000-0000-0000-0000-000000000000")


def test_image_list_follows_glance_next(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    model = openstack_standin.model
    template = next(iter(model.images.values()))
    for i in range(1500):
        model.images[f"img-{i:05d}"] = dict(template, id=f"img-{i:05d}", name=f"bulk-{i}")
    assert len(backend.list_images()) == len(model.images)
    assert openstack_standin.journal.count(path=r"/image/v2/images$") == 2
