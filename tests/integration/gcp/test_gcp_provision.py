"""The GCP provisioner (google-auth + Compute / Cloud Storage REST writes) against the TLS stand-in: the
ResourceProvisioner contract for instances, disks, buckets and VPC networks with subnetworks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from daytwo.operator.backends.gcp import (
    GcpClientFactory,
    GcpProvisioner,
    GcpWriteClientFactory,
    GoogleRestBackend,
    provisioner,
)
from daytwo.operator.backends.gcp._provision import label_value, request_id
from daytwo.operator.backends.provisioning import (
    OWNER_TAG_KEY,
    ProvisionedResource,
    ProvisionRequest,
    ProvisionState,
    ResourceProvisioner,
    ResourceType,
    managed_view,
)
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import InvalidRequest, PermissionDenied, Timeout

from tests.standins.gcp import GcpStandin

from .conftest import params

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRheXR3by10ZXN0LWtleS1ub3QtYS1yZWFsLW9uZQ daytwo@test"
IMAGE = "projects/debian-cloud/global/images/family/debian-12"
ZONE = "us-central1-b"


@pytest.fixture
def writer() -> Iterator[GcpWriteClientFactory]:
    """A write-scoped factory with quick retries."""
    made = GcpWriteClientFactory(max_concurrency=4, policy=RetryPolicy(retries=2, backoff_seconds=0.01))
    yield made
    made.close()


@pytest.fixture
def prov(gcp: GcpStandin, writer: GcpWriteClientFactory) -> ResourceProvisioner:
    """A provisioner for the stand-in's service account; operations take 0.2 s."""
    gcp.estate.writes.provision_seconds = 0.2
    made = provisioner(params(gcp), factory=writer)
    assert isinstance(made, GcpProvisioner) and isinstance(made, ResourceProvisioner)
    return made


def request(type: ResourceType, name: str, token: str, **settings: object) -> ProvisionRequest:
    """A request whose owner tag (a uid, as the reconciler's would be) differs from the name and the token."""
    return ProvisionRequest(
        type=type,
        name=name,
        token=token,
        owner_tag=str(uuid.uuid4()),
        region="us-central1",
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
    """delete() until it says gone; observe() then says None."""
    for _ in range(200):
        if prov.delete(type, external_id):
            assert prov.observe(type, external_id) is None
            return
        time.sleep(0.05)
    raise AssertionError(f"{external_id} was never deleted")


def test_vm_lifecycle(gcp: GcpStandin, prov: ResourceProvisioner) -> None:
    net = prov.create(request(ResourceType.NETWORK, "vpc-vm", str(uuid.uuid4()), subnets=("web=10.80.1.0/24",)))
    req = request(
        ResourceType.VM,
        "web-1",
        str(uuid.uuid4()),
        size="e2-medium",
        image=IMAGE,
        zone=ZONE,
        subnet="vpc-vm-web",
        keyName=KEY,
        publicIp=True,
        securityGroups=("web", "ssh"),
    )
    before = gcp.created("instances")
    made = prov.create(req)
    assert made.state is ProvisionState.CREATING, "create returns while the insert operation runs"
    assert made.external_id == f"{gcp.url}/compute/v1/projects/{gcp.project_id}/zones/{ZONE}/instances/web-1"
    insert = gcp.journal.entries(rf"/zones/{ZONE}/instances$")
    assert [e.method for e in insert] == ["POST"]
    assert f"requestId={request_id(req.token, 'insert', 'web-1')}" in insert[0].query

    active = settle(prov, ResourceType.VM, made.external_id)
    out = active.outputs
    assert out["instance_id"].isdigit() and out["instance_id"] != "web-1"
    assert out["private_ip"].startswith("10.80.1.") and out["public_ip"].startswith("34.")
    assert active.managed["subnetLink"] == f"projects/{gcp.project_id}/regions/us-central1/subnetworks/vpc-vm-web"
    assert active.managed["securityGroups"] == "ssh,web" and active.managed["tags.team"] == "daytwo"

    assert_no_drift(req, active, {"size", "publicIp", "tags.team"})

    adopted = prov.find(req)
    assert adopted is not None and adopted.external_id == made.external_id

    again = prov.create(req)  # the retry after a crash: same requestId -> the same operation
    assert again.external_id == made.external_id
    assert gcp.created("instances") == before + 1
    gcp.estate.writes.request_ids.clear()  # past Compute's requestId memory: 409 alreadyExists, owner matches
    prov.create(req)
    assert gcp.created("instances") == before + 1
    assert len(gcp.labelled("instances", OWNER_TAG_KEY, label_value(req.owner_tag))) == 1

    relabelled = prov.update(ProvisionRequest(**{**req.__dict__, "tags": {"team": "ops"}}), active)
    assert relabelled.managed["tags.team"] == "ops"
    retagged = prov.update(
        ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "securityGroups": ("db", "ssh")}}), relabelled
    )
    assert retagged.managed["securityGroups"] == "db,ssh", "network tags change in place (setTags)"
    with pytest.raises(InvalidRequest, match="size"):
        prov.update(
            ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "size": "n2-standard-4"}}), relabelled
        )

    delete_until_gone(prov, ResourceType.VM, made.external_id)
    assert prov.find(req) is None
    assert not [d for d in gcp.estate.disks if d["name"] == "web-1"], "the boot disk (autoDelete) goes with it"
    assert gcp.journal.count(r"/zones/.*/operations/") + gcp.journal.count(r"/global/operations/") >= 1
    delete_until_gone(prov, ResourceType.NETWORK, net.external_id)


def test_volume_lifecycle_and_growth(gcp: GcpStandin, prov: ResourceProvisioner) -> None:
    req = request(ResourceType.STORAGE, "data-vol", str(uuid.uuid4()), storageKind="volume", sizeGb=50, zone=ZONE)
    before = gcp.created("disks")
    made = prov.create(req)
    active = settle(prov, ResourceType.STORAGE, made.external_id)
    assert active.outputs["size_gb"] == "50" and active.outputs["volume_id"].isdigit()
    assert (prov.find(req) or active).external_id == made.external_id
    prov.create(req)
    assert gcp.created("disks") == before + 1
    grown = prov.update(ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "sizeGb": 80}}), active)
    assert grown.managed["sizeGb"] == "80"
    with pytest.raises(InvalidRequest, match="sizeGb"):
        prov.update(ProvisionRequest(**{**req.__dict__, "settings": {**req.settings, "sizeGb": 20}}), grown)
    delete_until_gone(prov, ResourceType.STORAGE, made.external_id)
    assert prov.find(req) is None


def test_bucket_lifecycle(gcp: GcpStandin, prov: ResourceProvisioner) -> None:
    req = request(ResourceType.STORAGE, "daytwo-team-bucket", str(uuid.uuid4()), storageKind="bucket")
    before = gcp.created("buckets")
    made = prov.create(req)
    active = settle(prov, ResourceType.STORAGE, made.external_id)
    assert active.outputs["bucket"] == "daytwo-team-bucket" and active.outputs["url"] == "gs://daytwo-team-bucket"
    assert made.external_id == f"{gcp.url}/storage/v1/b/daytwo-team-bucket"
    found = prov.find(req)
    assert found is not None and found.external_id == made.external_id
    prov.create(req)  # 409 "you already own it", owner label matches
    assert gcp.created("buckets") == before + 1
    retagged = prov.update(ProvisionRequest(**{**req.__dict__, "tags": {"env": "prod"}}), active)
    assert retagged.managed == {"storageKind": "bucket", "tags.env": "prod"}, "team removed, env added"
    stranger = request(ResourceType.STORAGE, "daytwo-team-bucket", str(uuid.uuid4()), storageKind="bucket")
    assert prov.find(stranger) is None, "another owner's bucket of that name is not adopted"
    delete_until_gone(prov, ResourceType.STORAGE, made.external_id)
    assert prov.find(req) is None


def test_network_lifecycle(gcp: GcpStandin, prov: ResourceProvisioner) -> None:
    before = gcp.created("networks"), gcp.created("subnetworks")
    req = request(ResourceType.NETWORK, "vpc-a", str(uuid.uuid4()), subnets=("a=10.90.1.0/24", "b=10.90.2.0/24"))
    made = prov.create(req)
    assert gcp.journal.count(r"/global/operations/.*/wait$") >= 1, "subnets waited for the network's operation"
    active = settle(prov, ResourceType.NETWORK, made.external_id)
    assert active.managed["subnets"] == "a=10.90.1.0/24,b=10.90.2.0/24"
    assert_no_drift(req, active, {"subnets"})
    assert active.outputs["subnet:a"].endswith("/regions/us-central1/subnetworks/vpc-a-a")
    assert (prov.find(req) or active).external_id == made.external_id
    prov.create(req)
    assert (gcp.created("networks"), gcp.created("subnetworks")) == (before[0] + 1, before[1] + 2)
    with pytest.raises(InvalidRequest, match="subnets"):
        prov.update(ProvisionRequest(**{**req.__dict__, "settings": {"subnets": ("a=10.91.0.0/24",)}}), active)
    wider = {"subnets": ("a=10.90.1.0/24", "b=10.90.2.0/24", "c=10.90.3.0/24")}
    grown = prov.update(ProvisionRequest(**{**req.__dict__, "settings": wider}), active)
    assert grown.managed["subnets"] == "a=10.90.1.0/24,b=10.90.2.0/24,c=10.90.3.0/24"
    assert grown.outputs["subnet:c"].endswith("/subnetworks/vpc-a-c")
    delete_until_gone(prov, ResourceType.NETWORK, made.external_id)
    assert prov.find(req) is None


def test_bad_requests_name_the_field(gcp: GcpStandin, prov: ResourceProvisioner) -> None:
    with pytest.raises(InvalidRequest, match="image"):
        prov.create(request(ResourceType.VM, "bad-1", "t", size="e2-small", image="debian", zone=ZONE))
    with pytest.raises(InvalidRequest, match="keyName"):
        prov.create(request(ResourceType.VM, "bad-2", "t", size="e2-small", image=IMAGE, zone=ZONE, keyName="mine"))
    with pytest.raises(InvalidRequest, match="subnetwork"):
        prov.create(request(ResourceType.VM, "bad-3", "t", size="e2-small", image=IMAGE, zone=ZONE, subnet="nope"))
    assert not [i for i in gcp.estate.instances if i["name"].startswith("bad-")]


def test_read_only_token_cannot_write(gcp: GcpStandin, factory: GcpClientFactory) -> None:
    reader = factory.get(params(gcp))  # the inventory client: compute.readonly tokens
    assert type(reader) is GoogleRestBackend
    with pytest.raises(PermissionDenied, match="insufficient authentication scopes"):
        GcpProvisioner(reader).create(
            request(ResourceType.STORAGE, "ro-disk", "t", storageKind="volume", sizeGb=1, zone=ZONE)
        )


def test_insert_whose_answer_never_came_is_adopted(gcp: GcpStandin, writer: GcpWriteClientFactory) -> None:
    """The insert is served but its answer is late past the client's timeout (as when the operator dies
    mid-call): the retries carry the same requestId and make no second instance; find() adopts the one."""
    impatient = provisioner(params(gcp, timeout_seconds=0.5), factory=writer)
    req = request(ResourceType.VM, "late-1", str(uuid.uuid4()), size="e2-small", image=IMAGE, zone=ZONE)
    before = gcp.created("instances")
    gcp.faults.slow(1.5, path=rf"/zones/{ZONE}/instances$", answer_late=True)
    with pytest.raises(Timeout):
        impatient.create(req)
    gcp.faults.clear()
    assert gcp.created("instances") == before + 1, "three attempts, one requestId, one instance"
    adopted = impatient.find(req)
    assert adopted is not None and adopted.external_id.endswith(f"/zones/{ZONE}/instances/late-1")
    impatient.create(req)
    assert gcp.created("instances") == before + 1


def test_unset_security_groups_are_left_alone(gcp: GcpStandin, prov: ResourceProvisioner) -> None:
    """A request without securityGroups (the reconciler omits an empty list) does not strip the network tags."""
    tagged = request(ResourceType.VM, "tags-kept", str(uuid.uuid4()), size="e2-small", image=IMAGE, zone=ZONE,
                     securityGroups=("web",))  # fmt: skip
    active = settle(prov, ResourceType.VM, prov.create(tagged).external_id)
    unmanaged = {k: v for k, v in tagged.settings.items() if k != "securityGroups"}
    kept = prov.update(ProvisionRequest(**{**tagged.__dict__, "settings": unmanaged, "tags": {"team": "x"}}), active)
    assert kept.managed["securityGroups"] == "web" and kept.managed["tags.team"] == "x"
    delete_until_gone(prov, ResourceType.VM, active.external_id)
