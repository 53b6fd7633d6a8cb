"""CloudResource: one VM, storage bucket/volume or network on AWS, Azure or GCP, provisioned through the provider's API.

The operator creates it idempotently (a client token / deterministic name derived from metadata.uid, the owner
tag ``daytwo-owner=<uid>``), records its id in ``status.externalId`` before it waits, adopts what a crashed
attempt created, applies the changes the provider can make in place, reports drift, and deletes it on CR
deletion unless ``deletionPolicy: Orphan``. Fields the provider cannot change in place are immutable here (CEL).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from .base import (
    MAX_STATUS_LIST,
    CamelModel,
    CredentialsRef,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    StatusBase,
    cel,
    explained,
    rules,
    unchanged,
    with_validations,
)

__all__ = [
    "DEFINITION",
    "MAX_LOG_LINES",
    "CloudResourceSpec",
    "CloudResourceStatus",
    "DeletionPolicy",
    "DriftedField",
    "LogLine",
    "NetworkSpec",
    "ResourceKind",
    "StorageKind",
    "StorageSpec",
    "SubnetSpec",
    "VmSpec",
]

#: status.steps keeps the newest lines only (the WebSocket streams them as they come).
MAX_LOG_LINES = MAX_STATUS_LIST
_CIDR = r"^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$"
_CIDR_MESSAGE = "must be an IPv4 CIDR such as 10.20.0.0/16"


class ResourceKind(StrEnum):
    """What a CloudResource declares."""

    VM = "vm"
    STORAGE = "storage"
    NETWORK = "network"


class DeletionPolicy(StrEnum):
    """What happens to the cloud resource when the CloudResource is deleted."""

    DELETE = "Delete"
    ORPHAN = "Orphan"


class StorageKind(StrEnum):
    """An object-storage bucket (S3 bucket, Azure storage container, GCS bucket) or a block volume."""

    BUCKET = "bucket"
    VOLUME = "volume"


class VmSpec(CamelModel):
    """A virtual machine. size and securityGroups change in place where the provider allows; the rest is fixed."""

    model_config = with_validations(
        cel(
            unchanged("image", "publicIp", optional=("subnet", "keyName")),
            "image, subnet, keyName and publicIp cannot change on an existing VM; create a new CloudResource",
        )
    )

    size: str = Field(
        description="Instance type / VM size / machine type (t3.medium, Standard_B2s, e2-medium).",
        min_length=1,
        max_length=128,
    )
    image: str = Field(
        description="AMI id, Azure image reference or GCP image (URL or family).", min_length=1, max_length=1024
    )
    subnet: str | None = Field(
        None, description="Subnet id/name to attach to (the provider's default otherwise).", max_length=1024
    )
    key_name: str | None = Field(None, description="SSH key pair name (AWS) or public key reference.", max_length=255)
    security_groups: list[Annotated[str, Field(max_length=1024)]] | None = Field(
        None, description="Security group ids / network security groups / firewall tags.", max_length=16
    )
    public_ip: bool = Field(False, description="Give the VM a public IP address.")


class StorageSpec(CamelModel):
    """A bucket or a block volume. A volume's sizeGb may only grow (in place); kind and zone are fixed."""

    model_config = with_validations(
        cel("self.kind != 'volume' || has(self.sizeGb)", "a volume needs sizeGb"),
        cel(
            unchanged("kind", optional=("zone",)),
            "storage kind and zone cannot change; create a new CloudResource",
        ),
        cel(
            "!has(oldSelf.sizeGb) || (has(self.sizeGb) && self.sizeGb >= oldSelf.sizeGb)",
            "sizeGb can only grow (volumes are never shrunk in place)",
        ),
    )

    kind: StorageKind = Field(description="bucket (S3/Blob container/GCS) or volume (EBS/Managed Disk/PD).")
    size_gb: int | None = Field(None, description="Volume size in GiB (volumes only).", ge=1, le=65536)
    zone: str | None = Field(
        None, description="Availability zone of a volume (the region's first otherwise).", max_length=64
    )


class SubnetSpec(CamelModel):
    """One subnet of a network."""

    name: str = Field(description="Subnet name (unique in the network).", min_length=1, max_length=63)
    cidr: str = Field(
        description="IPv4 CIDR inside the network's.",
        max_length=18,
        pattern=_CIDR,
        json_schema_extra=explained(_CIDR_MESSAGE),
    )


class NetworkSpec(CamelModel):
    """A VPC / VNet / VPC network with subnets. The cidr is fixed; subnet changes are refused by a condition."""

    model_config = with_validations(cel("self.cidr == oldSelf.cidr", "cidr cannot change; create a new CloudResource"))

    cidr: str = Field(
        description="IPv4 address space.", max_length=18, pattern=_CIDR, json_schema_extra=explained(_CIDR_MESSAGE)
    )
    subnets: list[SubnetSpec] | None = Field(
        None,
        description="Subnets to create.",
        max_length=16,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
        },
    )


SPEC_VALIDATIONS = [
    *(
        cel(
            f"has(self.{kind.value}) == (self.type == '{kind.value}')",
            f"type {kind.value} needs the {kind.value} block, and only type {kind.value} may have it",
        )
        for kind in ResourceKind
    ),
    cel(
        "self.credentialsRef.kind == 'CloudCredential'", "credentialsRef.kind must be CloudCredential (aws, azure, gcp)"
    ),
    cel("self.type == oldSelf.type", "type is immutable; create a new CloudResource"),
    cel(
        "self.credentialsRef == oldSelf.credentialsRef",
        "credentialsRef is immutable (the resource lives in that account); create a new CloudResource",
    ),
    cel(unchanged(optional=("region",)), "region is immutable; create a new CloudResource"),
]


class CloudResourceSpec(CamelModel):
    """One cloud resource to provision through the credential's provider."""

    model_config = with_validations(*SPEC_VALIDATIONS)

    credentials_ref: CredentialsRef = Field(description="The CloudCredential (provider aws, azure or gcp) to act with.")
    type: ResourceKind = Field(description="vm, storage or network; the block of the same name describes it.")
    region: str | None = Field(
        None, description="Region / location (the credential's region otherwise).", min_length=1, max_length=64
    )
    deletion_policy: DeletionPolicy = Field(
        DeletionPolicy.DELETE, description="Delete removes the cloud resource with this object; Orphan leaves it."
    )
    vm: VmSpec | None = Field(None, description="For type vm.")
    storage: StorageSpec | None = Field(None, description="For type storage.")
    network: NetworkSpec | None = Field(None, description="For type network.")
    tags: dict[str, Annotated[str, Field(max_length=256)]] | None = Field(
        None,
        description="Tags/labels to set (changed in place). The key daytwo-owner is reserved.",
        max_length=32,
        json_schema_extra=rules(cel("!('daytwo-owner' in self)", "the tag daytwo-owner is reserved for the operator")),
    )


class LogLine(CamelModel):
    """One timestamped progress line (what the deployment-logs WebSocket streams)."""

    time: datetime = Field(description="When it happened.")
    message: str = Field(description="What happened.", max_length=1024)


class DriftedField(CamelModel):
    """A managed field whose value in the cloud differs from the spec."""

    field: str = Field(description="The spec field (size, securityGroups, tags.<key>, sizeGb, ...).")
    desired: str = Field(description="The value in the spec.", max_length=1024)
    actual: str = Field(description="The value the provider reports.", max_length=1024)


class CloudResourceStatus(StatusBase):
    """Observed state of a CloudResource."""

    provider: str | None = Field(None, description="The credential's provider (aws, azure, gcp).")
    cloud_name: str | None = Field(None, description="The deterministic cloud-side name.")
    external_id: str | None = Field(
        None, description="The provider's id (instance id, ARM id, selfLink), written before waiting on the provider."
    )
    state: str | None = Field(None, description="The provider's state: creating, active, updating, deleting, failed.")
    outputs: dict[str, str] | None = Field(
        None, description="Instance id, public/private IP, ARN/resource id, ... (the API's terraform_output)."
    )
    drift: list[DriftedField] | None = Field(
        None, description="Managed fields that differ in the cloud (empty when none).", max_length=MAX_STATUS_LIST
    )
    steps: list[LogLine] | None = Field(
        None, description=f"The newest {MAX_LOG_LINES} progress lines, oldest first.", max_length=MAX_LOG_LINES
    )
    ready_time: datetime | None = Field(None, description="When the resource first became active.")


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="CloudResource",
        plural="cloudresources",
        short_name="d2cr",
        printer_columns=[
            PrinterColumn(name="Type", json_path=".spec.type"),
            PrinterColumn(name="Provider", json_path=".status.provider"),
            PrinterColumn(name="External ID", json_path=".status.externalId"),
            PrinterColumn(name="Phase", json_path=".status.phase"),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
            PrinterColumn(name="Age", type="date", json_path=".metadata.creationTimestamp"),
        ],
    ),
    description="One VM, bucket/volume or network on AWS, Azure or GCP, provisioned crash-safely through the "
    "provider's API with its outputs in status; deleted with the object unless deletionPolicy is Orphan.",
    spec=CloudResourceSpec,
    status=CloudResourceStatus,
)
