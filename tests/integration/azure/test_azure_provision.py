"""The Azure provisioner (azure-identity + ARM REST writes) against the TLS stand-in: the ResourceProvisioner
contract for VMs, disks, buckets (storage account + container) and virtual networks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from daytwo.operator.backends.azure import AzureClientFactory, AzureProvisioner, provisioner
from daytwo.operator.backends.provisioning import (
    OWNER_TAG_KEY,
    ProvisionedResource,
    ProvisionRequest,
    ProvisionState,
    ResourceProvisioner,
    ResourceType,
    managed_view,
)
from daytwo.operator.errors import InvalidRequest, PermissionDenied, Timeout

from tests.standins.azure import AzureStandin

from .conftest import params

VM, DISK, VNET = "Microsoft.Compute/virtualMachines", "Microsoft.Compute/disks", "Microsoft.Network/virtualNetworks"
ACCOUNT, NIC, PIP = (
    "Microsoft.Storage/storageAccounts",
    "Microsoft.Network/networkInterfaces",
    "Microsoft.Network/publicIPAddresses",
)
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRheXR3by10ZXN0LWtleS1ub3QtYS1yZWFsLW9uZQ daytwo@test"


@pytest.fixture
def prov(az: AzureStandin, factory: AzureClientFactory) -> Iterator[ResourceProvisioner]:
    """A provisioner for the Contributor principal, with quick operation polling."""
    az.estate.arm.provision_seconds = 0.2
    made = provisioner(params(az), factory=factory)
    assert isinstance(made, AzureProvisioner) and isinstance(made, ResourceProvisioner)
    yield made


def request(type: ResourceType, name: str, token: str, **settings: object) -> ProvisionRequest:
    """A request with an owner tag distinct from the name and the token (as a uid would be)."""
    return ProvisionRequest(
        type=type,
        name=name,
        token=token,
        owner_tag=f"owner-{uuid.uuid4()}",
        region="westeurope",
        settings=settings,  # type: ignore[arg-type]
        tags={"team": "daytwo"},
    )


def assert_no_drift(req: ProvisionRequest, seen: ProvisionedResource, compared: set[str]) -> None:
    """What the backend reports reads as no drift against the reconciler's managed_view of the same request."""
    view = managed_view(req)
    common = set(view) & set(seen.managed)
    assert compared <= common, f"{compared - common} not reported"
    assert {k: seen.managed[k] for k in common} == {k: view[k] for k in common}


def settle(prov: ResourceProvisioner, type: ResourceType, external_id: str) -> ProvisionedResource:
    """Observe until the resource leaves its transitional state (bounded; asserts nothing about time)."""
    for _ in range(200):
        seen = prov.observe(type, external_id)
        assert seen is not None
        if seen.state in (ProvisionState.ACTIVE, ProvisionState.FAILED):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{external_id} never settled")


def delete_until_gone(prov: ResourceProvisioner, type: ResourceType, external_id: str) -> None:
    """delete() until it says gone; then observe() says None too."""
    for _ in range(200):
        if prov.delete(type, external_id):
            assert prov.observe(type, external_id) is None
            return
        time.sleep(0.05)
    raise AssertionError(f"{external_id} was never deleted")


def network(prov: ResourceProvisioner, name: str) -> ProvisionedResource:
    """A VNet with two subnets, active."""
    made = prov.create(
        request(
            ResourceType.NETWORK,
            name,
            str(uuid.uuid4()),
            cidr="10.40.0.0/16",
            subnets=("web=10.40.1.0/24", "db=10.40.2.0/24"),
        )
    )
    return settle(prov, ResourceType.NETWORK, made.external_id)


def test_vm_lifecycle(az: AzureStandin, prov: ResourceProvisioner) -> None:
    vnet = network(prov, "vnet-vm-test")
    req = request(
        ResourceType.VM,
        "web-1",
        str(uuid.uuid4()),
        size="Standard_B2s",
        image="Canonical:ubuntu-24_04-lts:server:latest",
        subnet="vnet-vm-test/web",
        keyName=KEY,
        publicIp=True,
    )
    created_before = az.created(VM)
    made = prov.create(req)
    assert made.state is ProvisionState.CREATING, "create returns at once, before the operation completes"
    assert made.external_id.endswith("/resourceGroups/daytwo/providers/Microsoft.Compute/virtualMachines/web-1")
    put = az.journal.entries(r"/virtualMachines/web-1$")
    assert [(e.method, e.status) for e in put if e.method == "PUT"] == [("PUT", 201)]

    active = settle(prov, ResourceType.VM, made.external_id)
    assert active.state is ProvisionState.ACTIVE
    out = active.outputs
    assert out["resource_id"] == made.external_id and uuid.UUID(out["instance_id"])
    assert out["private_ip"].startswith("10.40.1.") and out["public_ip"]
    assert active.managed["size"] == "Standard_B2s" and active.managed["publicIp"] == "true"
    assert active.managed["subnetId"] == vnet.outputs["subnet:web"].lower()
    assert active.managed["tags.team"] == "daytwo"

    assert_no_drift(req, active, {"size", "publicIp", "tags.team"})

    adopted = prov.find(req)
    assert adopted is not None and adopted.external_id == made.external_id

    again = prov.create(req)  # a retry after a crash: same names, same token
    assert again.external_id == made.external_id
    assert az.created(VM) == created_before + 1, "a repeated create makes no second VM"
    assert len([v for v in az.live(VM) if v["tags"].get(OWNER_TAG_KEY) == req.owner_tag]) == 1

    resized = prov.update(
        ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "size": "Standard_D4s_v5"}}), active
    )
    assert resized.managed["size"] == "Standard_D4s_v5"
    with pytest.raises(InvalidRequest, match="image"):
        prov.update(ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "image": "a:b:c:d"}}), active)
    with pytest.raises(InvalidRequest, match=r"^securityGroups cannot change"):
        prov.update(
            ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "securityGroups": ("nsg",)}}), active
        )

    delete_until_gone(prov, ResourceType.VM, made.external_id)
    assert prov.find(req) is None
    assert not [n for n in az.live(NIC) if n["name"] == "web-1-nic"], "the NIC goes with the VM (deleteOption)"
    assert not [p for p in az.live(PIP) if p["name"] == "web-1-pip"], "so does its public IP"
    delete_until_gone(prov, ResourceType.NETWORK, vnet.external_id)


def test_volume_lifecycle_and_growth(az: AzureStandin, prov: ResourceProvisioner) -> None:
    req = request(ResourceType.STORAGE, "data-vol", str(uuid.uuid4()), storageKind="volume", sizeGb=64)
    before = az.created(DISK)
    made = prov.create(req)
    active = settle(prov, ResourceType.STORAGE, made.external_id)
    assert active.outputs["volume_id"] == made.external_id and active.outputs["size_gb"] == "64"
    assert (prov.find(req) or active).external_id == made.external_id
    prov.create(req)
    assert az.created(DISK) == before + 1
    grown = prov.update(ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "sizeGb": 128}}), active)
    assert grown.managed["sizeGb"] == "128"
    with pytest.raises(InvalidRequest, match="sizeGb"):
        prov.update(ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "sizeGb": 32}}), grown)
    delete_until_gone(prov, ResourceType.STORAGE, made.external_id)
    assert prov.find(req) is None


def test_bucket_lifecycle(az: AzureStandin, prov: ResourceProvisioner) -> None:
    req = request(ResourceType.STORAGE, "Team-Bucket", str(uuid.uuid4()), storageKind="bucket")
    before = az.created(ACCOUNT)
    made = prov.create(req)
    active = settle(prov, ResourceType.STORAGE, made.external_id)
    out = active.outputs
    assert out["bucket"] == "team-bucket" and out["storage_account"].startswith("dt")
    assert out["url"] == f"https://{out['storage_account']}.blob.core.windows.net/team-bucket"
    assert az.journal.count(r"/operationResults/") >= 1, "create waited on the account's Location polling"
    found = prov.find(req)
    assert found is not None and found.external_id == made.external_id
    prov.create(req)
    assert az.created(ACCOUNT) == before + 1, "the account name is deterministic per token"
    retagged = prov.update(ProvisionRequest(**{**req.__dict__, "tags": {"team": "ops"}}), active)
    assert retagged.managed["tags.team"] == "ops"
    delete_until_gone(prov, ResourceType.STORAGE, made.external_id)
    assert prov.find(req) is None


def test_network_lifecycle(az: AzureStandin, prov: ResourceProvisioner) -> None:
    before = az.created(VNET)
    req = request(ResourceType.NETWORK, "vnet-a", str(uuid.uuid4()), cidr="10.50.0.0/16", subnets=("a=10.50.1.0/24",))
    made = prov.create(req)
    active = settle(prov, ResourceType.NETWORK, made.external_id)
    assert active.outputs["subnet:a"] == f"{made.external_id}/subnets/a"
    assert active.managed["cidr"] == "10.50.0.0/16" and active.managed["subnets"] == "a=10.50.1.0/24"
    assert_no_drift(req, active, {"cidr", "subnets", "tags.team"})
    assert (prov.find(req) or active).external_id == made.external_id
    prov.create(req)
    assert az.created(VNET) == before + 1
    with pytest.raises(InvalidRequest, match="cidr"):
        prov.update(ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "cidr": "10.60.0.0/16"}}), active)
    wider = {**req.settings, "subnets": ("a=10.50.1.0/24", "b=10.50.2.0/24")}
    grown = prov.update(ProvisionRequest(**{**req.__dict__, "settings": wider}), active)
    assert grown.managed["subnets"] == "a=10.50.1.0/24,b=10.50.2.0/24" and grown.outputs["subnet:b"]
    with pytest.raises(InvalidRequest, match="subnets can only be added"):
        prov.update(ProvisionRequest(**{**req.__dict__, "settings": {**wider, "subnets": ("b=10.50.2.0/24",)}}), grown)
    delete_until_gone(prov, ResourceType.NETWORK, made.external_id)


def test_bad_requests_name_the_field(az: AzureStandin, prov: ResourceProvisioner) -> None:
    with pytest.raises(InvalidRequest, match="image"):
        prov.create(
            request(ResourceType.VM, "bad-1", "t", size="Standard_B1s", image="ubuntu", subnet="v/s", keyName=KEY)
        )
    with pytest.raises(InvalidRequest, match="region"):
        settings = {"cidr": "10.0.0.0/16", "resourceGroup": "rg-not-there"}
        prov.create(ProvisionRequest(ResourceType.NETWORK, "n", "t", "o", None, settings))


def test_no_region_takes_the_groups_location(az: AzureStandin, prov: ResourceProvisioner) -> None:
    prov.create(request(ResourceType.NETWORK, "vnet-first", str(uuid.uuid4()), cidr="10.1.0.0/16"))  # makes "daytwo"
    made = prov.create(
        ProvisionRequest(ResourceType.NETWORK, "vnet-nowhere", "t2", "o2", None, {"cidr": "10.2.0.0/16"})
    )
    assert made.outputs["location"] == "westeurope"
    with pytest.raises(InvalidRequest, match="InvalidResourceReference"):
        prov.create(
            request(
                ResourceType.VM,
                "bad-2",
                "t",
                size="Standard_B1s",
                image="a:b:c:latest",
                subnet="no-such-vnet/web",
                keyName=KEY,
            )
        )
    assert not [v for v in az.live(VM) if v["name"].startswith("bad-")]


def test_reader_without_write_is_permission_denied(az: AzureStandin, factory: AzureClientFactory) -> None:
    novm = provisioner(params(az, client_id=az.novm_client_id, client_secret=az.novm_client_secret), factory=factory)
    with pytest.raises(PermissionDenied) as caught:
        novm.create(request(ResourceType.NETWORK, "vnet-denied", "t", cidr="10.70.0.0/16"))
    assert caught.value.missing == "Microsoft.Resources/subscriptions/resourceGroups/read"


def test_create_whose_answer_never_came_is_adopted(az: AzureStandin, factory: AzureClientFactory) -> None:
    """The PUT is served but its answer is late past the client's timeout (as when the operator dies mid-call):
    the retries make no second VM and find() adopts the one there is."""
    network(provisioner(params(az), factory=factory), "vnet-late")
    impatient = provisioner(params(az, timeout_seconds=0.5), factory=factory)
    req = request(ResourceType.VM, "late-1", str(uuid.uuid4()), size="Standard_B1s", image="a:b:c:latest",
                  subnet="vnet-late/web", keyName=KEY)  # fmt: skip
    before = az.created(VM)
    az.faults.slow(1.5, path=r"/virtualMachines/late-1$", answer_late=True)
    with pytest.raises(Timeout):
        impatient.create(req)
    az.faults.clear()
    assert az.created(VM) == before + 1, "three attempts (retries of a Timeout), one VM"
    adopted = impatient.find(req)
    assert adopted is not None and adopted.external_id.endswith("/virtualMachines/late-1")
    impatient.create(req)
    assert az.created(VM) == before + 1
