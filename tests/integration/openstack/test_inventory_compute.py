"""The OpenStack inventory of a CloudCredential with kind ``compute``: what the spot manager's GPU views read."""

from __future__ import annotations

import json

import pytest
from daytwo.operator.backends.openstack import SdkOpenStackBackend
from daytwo.operator.errors import InvalidRequest
from daytwo.operator.handlers.openstack_account import OpenStackAccount

from tests.standins.openstack.server import StandIn

pytestmark = pytest.mark.integration


def test_compute_kind_adds_aggregates_hypervisors_and_flavors(
    backend: SdkOpenStackBackend, openstack_standin: StandIn
) -> None:
    model = openstack_standin.model
    inventory = OpenStackAccount(backend, "RegionOne", "admin").inventory(["vms", "compute"])
    by_type: dict[str, list[object]] = {}
    for record in inventory.records:
        by_type.setdefault(record.type, []).append(record)
    assert len(by_type["aggregate"]) == len(model.aggregates)
    assert len(by_type["hypervisor"]) == len(model.hypervisors)
    assert len(by_type["flavor"]) == len(model.flavors)
    assert "storage" not in by_type and "network" not in by_type
    assert inventory.counts() == {"vms": len(model.servers)}  # counts cover the shared kinds only

    spot = next(r for r in inventory.records if r.type == "aggregate" and r.name == "H100-n3-spot")
    raw = next(a for a in model.aggregates.values() if a["name"] == "H100-n3-spot")
    assert spot.metadata["hosts"].split(",") == list(raw["hosts"])
    assert json.loads(spot.metadata["properties"])["gpu_per_host"] == "8"

    hypervisor = next(r for r in inventory.records if r.type == "hypervisor")
    assert hypervisor.name.endswith(".cloud.local") and hypervisor.metadata["host"] == hypervisor.name.split(".")[0]

    flavor = next(r for r in inventory.records if r.type == "flavor" and r.name == "n3-H100x8")
    assert flavor.metadata["gpus"] == "8" and json.loads(flavor.metadata["extra_specs"])["gpu_type"] == "H100"

    gpu_vm = next(r for r in inventory.records if r.type == "vm" and "gpus" in r.metadata)
    assert gpu_vm.metadata["host"] and gpu_vm.metadata["flavor"].startswith("n3-")


def test_without_compute_the_inventory_is_unchanged(backend: SdkOpenStackBackend) -> None:
    inventory = OpenStackAccount(backend, "RegionOne", "admin").inventory(None)
    assert {r.type for r in inventory.records} == {"vm", "storage", "network"}


def test_an_unknown_kind_is_still_refused(backend: SdkOpenStackBackend) -> None:
    with pytest.raises(InvalidRequest, match="not one of"):
        OpenStackAccount(backend, "RegionOne", "admin").inventory(["compute", "disks"])
