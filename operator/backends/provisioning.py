"""The cloud-agnostic contract of CloudResource provisioning (AWS, Azure, GCP): plain values in, plain values out.

The CloudResource reconciler turns its typed spec into a `ProvisionRequest`, asks the credential's provider for
its `ResourceProvisioner`, and records what comes back (`ProvisionedResource`) in status. Backends never see
Kubernetes types; the reconciler never sees SDK types.

Crash-safety contract every implementation keeps:
- `create` is idempotent for the same `request.token` (AWS ClientToken, a deterministic Azure resource name,
  a deterministic GCP name + requestId), and tags/labels the resource with `request.owner_tag`;
- `find` returns the resource carrying `request.owner_tag` (adoption after a crash between create and the
  status write), or None;
- `observe` and `delete` take the external id recorded in status.
Calls block: run them in worker threads. Failures raise the shared taxonomy (daytwo.operator.errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from ..errors import InvalidRequest

__all__ = [
    "OWNER_TAG_KEY",
    "ProvisionRequest",
    "ProvisionState",
    "ProvisionedResource",
    "ResourceProvisioner",
    "ResourceType",
    "added_subnets",
    "managed_view",
    "provision_kind",
    "setting_list",
]

# The tag (AWS tag key, Azure tag name, GCP label key) that names the owning CloudResource.
OWNER_TAG_KEY = "daytwo-owner"


class ResourceType(StrEnum):
    """What a CloudResource declares (the multicloud API's resource_type)."""

    VM = "vm"
    STORAGE = "storage"
    NETWORK = "network"


class ProvisionState(StrEnum):
    """Where the provider says the resource is."""

    CREATING = "creating"
    ACTIVE = "active"
    UPDATING = "updating"
    DELETING = "deleting"
    FAILED = "failed"


@dataclass(frozen=True)
class ProvisionRequest:
    """One resource to provision, in provider-neutral terms.

    `token` is deterministic per CloudResource (e.g. its uid) and `name` is the cloud-side name
    (deterministic too). `settings` holds the type-specific fields of the spec as plain strings/lists
    (vm: size, image, subnet, keyName, securityGroups, publicIp; storage: storageKind bucket|volume, sizeGb,
    zone; network: cidr, subnets as "name=cidr"); `tags` the user's tags (the owner tag is added by the backend).
    """

    type: ResourceType
    name: str
    token: str
    owner_tag: str
    region: str | None = None
    settings: Mapping[str, str | int | bool | tuple[str, ...]] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProvisionedResource:
    """What the provider reports for one resource: its id, state, outputs and the managed fields it holds now.

    `outputs` become status.outputs (instance id, public/private IP, ARN/resource id, ...); `managed` holds
    the current values of the fields the spec manages, so the reconciler can report drift and decide whether
    an update is applicable in place.
    """

    external_id: str
    state: ProvisionState
    outputs: Mapping[str, str] = field(default_factory=dict)
    managed: Mapping[str, str] = field(default_factory=dict)
    message: str = ""


@runtime_checkable
class ResourceProvisioner(Protocol):
    """Create, observe, update and delete one kind of resource on one provider account."""

    def find(self, request: ProvisionRequest) -> ProvisionedResource | None:
        """The resource tagged with request.owner_tag, if one exists (adoption after a crash)."""
        ...

    def create(self, request: ProvisionRequest) -> ProvisionedResource:
        """Start creating the resource (idempotent for request.token); returns at once with its external id."""
        ...

    def observe(self, type: ResourceType, external_id: str) -> ProvisionedResource | None:
        """The resource's current state, or None when it no longer exists."""
        ...

    def update(self, request: ProvisionRequest, current: ProvisionedResource) -> ProvisionedResource:
        """Apply the changes the provider can make in place (tags, size of a stopped VM, volume growth).

        Raises daytwo.operator.errors.InvalidRequest naming the field when a change cannot be applied in place.
        """
        ...

    def delete(self, type: ResourceType, external_id: str) -> bool:
        """Start deleting; True once the resource is gone (idempotent: an absent resource is gone)."""
        ...


def managed_view(request: ProvisionRequest) -> dict[str, str]:
    """The desired values of the managed fields in the canonical string form ``ProvisionedResource.managed`` uses.

    Keys are the settings' keys (``size``, ``securityGroups``, ``sizeGb``, ``cidr``, ``subnets``, ...) and
    ``tags.<key>`` per user tag; lists are sorted and comma-joined, booleans ``true``/``false``. A backend reports
    the same keys (those it can read back), so the reconciler compares the two maps key by key: drift is a key
    present in both with different values; a key the backend does not report is not compared.
    """
    view: dict[str, str] = {}
    for key, value in request.settings.items():
        if isinstance(value, bool):
            view[key] = "true" if value else "false"
        elif isinstance(value, tuple):
            view[key] = ",".join(sorted(value))
        else:
            view[key] = str(value)
    view.update({f"tags.{key}": value for key, value in request.tags.items()})
    return view


def setting_list(settings: Mapping[str, object], key: str) -> list[str]:
    """A list setting (securityGroups, subnets as name=cidr) as non-empty strings; absent is empty, a
    comma-separated string is split."""
    value = settings.get(key)
    if isinstance(value, tuple | list):
        return [str(item) for item in value if str(item)]
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


def provision_kind(request: ProvisionRequest) -> str:
    """The shape to provision: vm, network, or storage split by ``settings["storageKind"]`` into bucket (the
    default) or volume. Raises InvalidRequest for another storage kind."""
    if request.type is not ResourceType.STORAGE:
        return request.type.value
    kind = str(request.settings.get("storageKind") or "bucket")
    if kind not in ("bucket", "volume"):
        raise InvalidRequest(f"storageKind {kind!r} is not bucket or volume")
    return kind


def added_subnets(current: str, desired: str) -> list[tuple[str, str]]:
    """The (name, cidr) subnets a ``subnets`` value of managed form (sorted ``name=cidr``, comma-joined) adds to
    the current one, when every current subnet stays as it is (only additions apply in place); empty otherwise."""
    have, want = set(filter(None, current.split(","))), set(filter(None, desired.split(",")))
    if not have <= want:
        return []
    return [(name, cidr) for name, _, cidr in (entry.partition("=") for entry in sorted(want - have))]
