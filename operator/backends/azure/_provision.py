"""CloudResource provisioning on Azure: ARM create-or-update by deterministic name, tagged with the owner.

    prov = provisioner(AzureConnectionParams(...))          # a ResourceProvisioner
    made = prov.create(request)     # PUT (returns at once; the VM is Creating) -> ProvisionedResource
    prov.observe(ResourceType.VM, made.external_id)        # provisioningState -> ProvisionState, outputs
    prov.find(request)              # the resource tagged daytwo-owner=<request.owner_tag> (adoption)
    prov.delete(ResourceType.VM, made.external_id)         # DELETE (202 + polling); True once gone

Crash safety comes from ARM itself: PUT is create-or-update by name, so a create repeated after a crash
(same request, same names) changes nothing and makes no second resource. Names: the VM, disk and VNet are
``request.name`` in ``settings["resourceGroup"]`` (default ``daytwo``, created on first use in the request's
region; a request without a region takes the existing group's location); a bucket is a
StorageV2 account named ``dt`` + 22 hex of a digest of ``request.token`` (account names are global, 3-24
lower-case alphanumerics) holding one private blob container named after ``request.name``. A VM gets its NIC
(``<name>-nic``) and, with ``publicIp``, a Standard static public IP (``<name>-pip``) through
``networkInterfaceConfigurations`` with deleteOption Delete, so both (and its OS disk) go with it.

In place: tags everywhere, the VM size (Azure resizes, rebooting it), growing a disk, adding subnets to a
VNet. Anything else raises InvalidRequest naming the spec fields.

``managed`` uses the keys and string forms of ``provisioning.managed_view`` (size, image, publicIp, sizeGb,
zone, cidr, subnets, storageKind, ``tags.<key>``); the VM's subnet and security group are reported as ARM ids
under ``subnetId`` / ``securityGroupIds`` (lower case), since a request may name them either way.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import InvalidRequest, Timeout
from ...stopping import pause

# Duplicate scan: the same import list as the other providers' provisioners (one contract, three backends).
from ..provisioning import (
    OWNER_TAG_KEY,
    ProvisionedResource,
    ProvisionRequest,
    ProvisionState,
    ResourceProvisioner,
    ResourceType,
    added_subnets,
    managed_view,
    provision_kind,
    setting_list,
)
from ..runtime import HttpAnswer
from ._client import API_VERSIONS, AzureClientFactory, AzureRestBackend
from ._params import AzureConnectionParams
from ._records import resource_group

__all__ = ["WRITE_API_VERSIONS", "AzureProvisioner", "provisioner"]

WRITE_API_VERSIONS = {
    **API_VERSIONS,
    "resourceGroups": "2021-04-01",
    "resources": "2021-04-01",
    "sshPublicKeys": "2024-07-01",
    "networkInterfaces": "2024-05-01",
    "publicIPAddresses": "2024-05-01",
    "storageAccounts": "2023-05-01",
}
DEFAULT_GROUP = "daytwo"
ADMIN_USER = "daytwo"
_STATES = {
    "creating": ProvisionState.CREATING,
    "accepted": ProvisionState.CREATING,
    "resolvingdns": ProvisionState.CREATING,
    "updating": ProvisionState.UPDATING,
    "deleting": ProvisionState.DELETING,
    "succeeded": ProvisionState.ACTIVE,
    "failed": ProvisionState.FAILED,
    "canceled": ProvisionState.FAILED,
}
# what can change in place, per kind of resource (tags always can)
_IN_PLACE = {"vm": {"size"}, "volume": {"sizeGb"}, "bucket": set[str](), "network": set[str]()}
# managed keys that are not the spec's field names
_SPEC_FIELDS = {"subnetId": "subnet", "securityGroupIds": "securityGroups"}
_ARM_TYPES = {
    "vm": "Microsoft.Compute/virtualMachines",
    "volume": "Microsoft.Compute/disks",
    "bucket": "Microsoft.Storage/storageAccounts",
    "network": "Microsoft.Network/virtualNetworks",
}


def _kind_of_id(external_id: str) -> str:
    lowered = external_id.lower()
    if "/blobservices/" in lowered or "/microsoft.storage/storageaccounts/" in lowered:
        return "bucket"
    for kind, arm_type in _ARM_TYPES.items():
        if f"/{arm_type.lower()}/" in lowered:
            return kind
    raise InvalidRequest(f"{external_id!r} is not the ARM id of a VM, disk, storage container or virtual network")


def account_name(token: str) -> str:
    """The storage account of a bucket: ``dt`` + 22 hex digits of a digest of the token (global, deterministic)."""
    return "dt" + hashlib.sha256(f"daytwo.azure.bucket/{token}".encode()).hexdigest()[:22]


def container_name(name: str) -> str:
    """A valid blob container name from a CloudResource name (lower case, letters, digits, single hyphens)."""
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", name.lower())).strip("-")
    return (cleaned or "data")[:63].rstrip("-").ljust(3, "0")


class AzureProvisioner:
    """VMs, managed disks, storage containers and virtual networks in one subscription (see the module doc).

    ``wait_seconds`` bounds the one wait ``create`` does (a new storage account, before its container);
    ``sleep`` is the poll pause (ends early when the operator stops).
    """

    def __init__(
        self,
        client: AzureRestBackend,
        *,
        wait_seconds: float = 300.0,
        sleep: Callable[[float], None] = pause,
    ) -> None:
        self._client = client
        self._sub = client.params.subscription_id
        self._wait_seconds = wait_seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AzureProvisioner(subscription={self._sub!r}, client={self._client!r})"

    # ------------------------------------------------------------------ plumbing

    def _arm(
        self, method: str, path: str, what: str, version: str, body: Any = None, *, absent_ok: bool = False
    ) -> HttpAnswer:
        passes = frozenset({404}) if absent_ok else frozenset()
        return self._client.arm(method, path, what, api_version=WRITE_API_VERSIONS[version], body=body, passes=passes)

    def _get(self, resource_id: str, version: str) -> dict[str, Any] | None:
        answer = self._arm("GET", resource_id, f"get {resource_id}", version, absent_ok=True)
        return None if answer.status == 404 else dict(answer.body)

    def _group_path(self, group: str) -> str:
        return f"/subscriptions/{self._sub}/resourceGroups/{group}"

    def _location(self, request: ProvisionRequest, group: str) -> str:
        """The request's region (or settings.location), else the location of its existing resource group."""
        location = request.region or str(request.settings.get("location") or "")
        if not location:
            found = self._get(self._group_path(group), "resourceGroups")
            location = str((found or {}).get("location") or "")
        if not location:
            raise InvalidRequest(
                f"region: Azure needs a location for the resource (e.g. westeurope); resource group {group} "
                "does not exist yet to take it from"
            )
        return location

    def _ensure_group(self, group: str, location: str) -> None:
        """Create the resource group when missing (an existing one keeps its location and tags)."""
        path = self._group_path(group)
        if self._get(path, "resourceGroups") is None:
            body = {"location": location, "tags": {"managed-by": "daytwo"}}
            self._arm("PUT", path, f"create resource group {group}", "resourceGroups", body)

    def _wait(self, answer: HttpAnswer, what: str) -> None:
        """Poll a long-running operation (Azure-AsyncOperation status, else Location) until it ends."""
        status_url = answer.headers.get("Azure-AsyncOperation") or answer.headers.get("azure-asyncoperation")
        location = answer.headers.get("Location") or answer.headers.get("location")
        if answer.status not in (201, 202) or not (status_url or location):
            return
        deadline = time.monotonic() + self._wait_seconds
        while True:
            delay = float(answer.headers.get("Retry-After") or answer.headers.get("retry-after") or 1)
            if status_url:
                answer = self._arm("GET", status_url, f"{what} (operation status)", "resources")
                status = str(answer.body.get("status", ""))
                if status == "Succeeded":
                    return
                if status in ("Failed", "Canceled"):
                    error = answer.body.get("error") or {}
                    raise InvalidRequest(f"{what}: {status}: {error.get('code', '')} {error.get('message', '')}")
            else:
                answer = self._arm("GET", str(location), f"{what} (operation result)", "resources")
                if answer.status != 202:
                    return
            if time.monotonic() + delay > deadline:
                raise Timeout(f"{what}: still running after {self._wait_seconds:g}s")
            self._sleep(min(max(delay, 0.1), 10.0))

    def _tags(self, request: ProvisionRequest) -> dict[str, str]:
        return {**dict(request.tags), OWNER_TAG_KEY: request.owner_tag}

    # ------------------------------------------------------------------ the contract

    def find(self, request: ProvisionRequest) -> ProvisionedResource | None:
        """The resource of the request's kind tagged daytwo-owner=<owner tag> in the subscription, if any."""
        kind = provision_kind(request)
        value = request.owner_tag.replace("'", "''")
        query = f"$filter=tagName eq '{OWNER_TAG_KEY}' and tagValue eq '{value}'"
        path = f"/subscriptions/{self._sub}/resources?{query}&api-version={WRITE_API_VERSIONS['resources']}"
        answer = self._arm("GET", path, f"find resources tagged {OWNER_TAG_KEY}={request.owner_tag}", "resources")
        for item in answer.body.get("value") or ():
            if str(item.get("type", "")).lower() != _ARM_TYPES[kind].lower():
                continue
            external_id = str(item["id"])
            if kind == "bucket":
                external_id += f"/blobServices/default/containers/{container_name(request.name)}"
            found = self.observe(request.type, external_id)
            if found is not None:
                return found
        return None

    def create(self, request: ProvisionRequest) -> ProvisionedResource:
        """PUT the resource by its deterministic name (create-or-update: repeating it makes nothing new)."""
        kind = provision_kind(request)
        group = str(request.settings.get("resourceGroup") or DEFAULT_GROUP)
        location = self._location(request, group)
        self._ensure_group(group, location)
        base = f"{self._group_path(group)}/providers"
        if kind == "vm":
            resource_id = f"{base}/Microsoft.Compute/virtualMachines/{request.name}"
            body = self._vm_body(request, location, group)
            self._arm("PUT", resource_id, f"create virtual machine {request.name}", "virtualMachines", body)
        elif kind == "volume":
            resource_id = f"{base}/Microsoft.Compute/disks/{request.name}"
            self._arm("PUT", resource_id, f"create disk {request.name}", "disks", self._disk_body(request, location))
        elif kind == "network":
            resource_id = f"{base}/Microsoft.Network/virtualNetworks/{request.name}"
            body = self._vnet_body(request, location)
            self._arm("PUT", resource_id, f"create virtual network {request.name}", "virtualNetworks", body)
        else:
            account = f"{base}/Microsoft.Storage/storageAccounts/{account_name(request.token)}"
            what = f"create storage account {account_name(request.token)} for bucket {request.name}"
            body = {
                "location": location,
                "sku": {"name": str(request.settings.get("sku") or "Standard_LRS")},
                "kind": "StorageV2",
                "tags": self._tags(request),
                "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False},
            }
            self._wait(self._arm("PUT", account, what, "storageAccounts", body), what)
            resource_id = f"{account}/blobServices/default/containers/{container_name(request.name)}"
            body = {"properties": {"publicAccess": "None"}}
            self._arm("PUT", resource_id, f"create blob container {request.name}", "storageAccounts", body)
        found = self.observe(request.type, resource_id)
        return found or ProvisionedResource(resource_id, ProvisionState.CREATING, {"resource_id": resource_id})

    def observe(self, type: ResourceType, external_id: str) -> ProvisionedResource | None:
        """GET the resource (and a VM's NIC and public IP): state, outputs, managed fields; None when gone."""
        kind = _kind_of_id(external_id)
        if kind == "bucket":
            return self._observe_bucket(external_id)
        version = {"vm": "virtualMachines", "volume": "disks", "network": "virtualNetworks"}[kind]
        item = self._get(external_id, version)
        if item is None:
            return None
        props = item.get("properties") or {}
        outputs = {"id": str(item["id"]), "resource_id": str(item["id"]), "location": str(item.get("location", ""))}
        outputs["resource_group"] = resource_group(str(item["id"]))
        managed: dict[str, str] = {}
        if kind == "vm":
            outputs["instance_id"] = str(props.get("vmId", ""))
            managed.update(self._vm_network(props, outputs))
            managed["size"] = str((props.get("hardwareProfile") or {}).get("vmSize", ""))
            image = (props.get("storageProfile") or {}).get("imageReference") or {}
            managed["image"] = _image_text(image)
        elif kind == "volume":
            outputs["volume_id"] = str(item["id"])
            outputs["size_gb"] = str(props.get("diskSizeGB", ""))
            managed.update(storageKind="volume", sizeGb=str(props.get("diskSizeGB", "")))
            if item.get("zones"):
                managed["zone"] = ",".join(str(z) for z in item["zones"])
        else:
            outputs["network_id"] = str(item["id"])
            prefixes = (props.get("addressSpace") or {}).get("addressPrefixes") or ()
            managed["cidr"] = ",".join(str(p) for p in prefixes)
            subnets = []
            for subnet in props.get("subnets") or ():
                outputs[f"subnet:{subnet.get('name')}"] = str(subnet.get("id", ""))
                subnets.append(f"{subnet.get('name')}={(subnet.get('properties') or {}).get('addressPrefix', '')}")
            managed["subnets"] = ",".join(sorted(subnets))
        managed.update(_user_tags(item))
        state = _STATES.get(str(props.get("provisioningState", "")).lower(), ProvisionState.CREATING)
        return ProvisionedResource(str(item["id"]), state, outputs, managed, str(props.get("provisioningState", "")))

    def update(self, request: ProvisionRequest, current: ProvisionedResource) -> ProvisionedResource:
        """PATCH tags (every kind), a VM's size, a disk's size (growth only); InvalidRequest for the rest."""
        kind = provision_kind(request)
        desired = self._desired(request, kind)
        changed = sorted(k for k, v in desired.items() if not k.startswith("tags.") and current.managed.get(k) != v)
        added = added_subnets(current.managed.get("subnets", ""), desired.get("subnets", ""))
        refused = [
            _SPEC_FIELDS.get(k, k) for k in changed if k not in _IN_PLACE[kind] and not (k == "subnets" and added)
        ]
        if refused:
            raise InvalidRequest(
                f"{', '.join(refused)} cannot change in place on an Azure {kind} (subnets can only be added); "
                "delete and recreate the CloudResource to change it"
            )
        for name, prefix in added:
            subnet = {"properties": {"addressPrefix": prefix}}
            self._arm("PUT", f"{current.external_id}/subnets/{name}", f"add subnet {name}", "virtualNetworks", subnet)
        changed = [k for k in changed if k != "subnets"]
        if kind == "volume" and "sizeGb" in changed and int(desired["sizeGb"]) < int(current.managed["sizeGb"] or 0):
            raise InvalidRequest(f"sizeGb: an Azure disk can only grow (it has {current.managed['sizeGb']} GB)")
        tags_now = {k: v for k, v in current.managed.items() if k.startswith("tags.")}
        tags_wanted = {k: v for k, v in desired.items() if k.startswith("tags.")}
        if not changed and tags_now == tags_wanted:
            return (self.observe(request.type, current.external_id) or current) if added else current
        body: dict[str, Any] = {"tags": self._tags(request)}
        if "size" in changed:
            body["properties"] = {"hardwareProfile": {"vmSize": desired["size"]}}
        if "sizeGb" in changed:
            body["properties"] = {"diskSizeGB": int(desired["sizeGb"])}
        target = current.external_id
        version = {"vm": "virtualMachines", "volume": "disks", "network": "virtualNetworks"}.get(
            kind, "storageAccounts"
        )
        if kind == "bucket":
            target = target.split("/blobServices/")[0]
        self._arm("PATCH", target, f"update {kind} {request.name} ({', '.join(changed) or 'tags'})", version, body)
        return self.observe(request.type, current.external_id) or current

    def delete(self, type: ResourceType, external_id: str) -> bool:
        """DELETE (a bucket: its storage account); True once a GET answers 404."""
        kind = _kind_of_id(external_id)
        target = external_id.split("/blobServices/")[0] if kind == "bucket" else external_id
        version = {"vm": "virtualMachines", "volume": "disks", "network": "virtualNetworks"}.get(
            kind, "storageAccounts"
        )
        if self._get(target, version) is None:
            return True
        answer = self._arm("DELETE", target, f"delete {target}", version, absent_ok=True)
        if answer.status == 404:
            return True
        return self._get(target, version) is None

    # ------------------------------------------------------------------ bodies

    def _desired(self, request: ProvisionRequest, kind: str) -> dict[str, str]:
        """The managed fields the request asks for, normalised as observe() reports them."""
        settings, view = request.settings, managed_view(request)
        wanted: dict[str, str] = {f"tags.{k}": v for k, v in request.tags.items() if k != OWNER_TAG_KEY}
        if kind == "vm":
            group = str(settings.get("resourceGroup") or DEFAULT_GROUP)
            wanted["size"] = str(settings.get("size") or "")
            wanted["image"] = _image_text(_image(settings))
            wanted["subnetId"] = self._subnet_id(settings, group).lower()
            wanted["publicIp"] = view.get("publicIp", "false")
            if "securityGroups" in settings:  # absent: the NIC's security group is not managed
                wanted["securityGroupIds"] = ",".join(g.lower() for g in self._security_groups(settings, group))
        elif kind == "volume":
            wanted.update(storageKind="volume", sizeGb=view.get("sizeGb", ""))
            if settings.get("zone"):
                wanted["zone"] = view["zone"]
        elif kind == "network":
            wanted["cidr"] = view.get("cidr", "")
            wanted["subnets"] = view.get("subnets", "")
        else:
            wanted["storageKind"] = "bucket"
        return wanted

    def _subnet_id(self, settings: Mapping[str, object], group: str) -> str:
        subnet = str(settings.get("subnet") or "")
        if subnet.startswith("/subscriptions/"):
            return subnet
        vnet, _, name = subnet.partition("/")
        if not vnet or not name:
            raise InvalidRequest(
                f"subnet {subnet!r}: an Azure VM needs its subnet as an ARM id or <virtual network>/<subnet>"
            )
        return f"{self._group_path(group)}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}"

    def _security_groups(self, settings: Mapping[str, object], group: str) -> list[str]:
        groups = setting_list(settings, "securityGroups")
        if len(groups) > 1:
            raise InvalidRequest("securityGroups: an Azure NIC takes one network security group; name one")
        return [
            g
            if g.startswith("/subscriptions/")
            else f"{self._group_path(group)}/providers/Microsoft.Network/networkSecurityGroups/{g}"
            for g in groups
        ]

    def _ssh_key(self, settings: Mapping[str, object], group: str) -> str:
        key = str(settings.get("keyName") or "")
        if key.startswith(("ssh-", "ecdsa-")):
            return key
        if not key:
            raise InvalidRequest("keyName: an Azure Linux VM needs an SSH public key (its text or an SSH key resource)")
        path = f"{self._group_path(group)}/providers/Microsoft.Compute/sshPublicKeys/{key}"
        found = self._get(path, "sshPublicKeys")
        if found is None:
            raise InvalidRequest(f"keyName: no SSH public key resource {key!r} in resource group {group}")
        return str((found.get("properties") or {}).get("publicKey", ""))

    def _vm_body(self, request: ProvisionRequest, location: str, group: str) -> dict[str, Any]:
        settings = request.settings
        if not settings.get("size"):
            raise InvalidRequest("size: an Azure VM needs a VM size (e.g. Standard_B2s)")
        ip_config: dict[str, Any] = {"subnet": {"id": self._subnet_id(settings, group)}, "primary": True}
        if settings.get("publicIp"):
            ip_config["publicIPAddressConfiguration"] = {
                "name": f"{request.name}-pip",
                "sku": {"name": "Standard"},
                "properties": {"publicIPAllocationMethod": "Static", "deleteOption": "Delete"},
            }
        nic: dict[str, Any] = {
            "primary": True,
            "deleteOption": "Delete",
            "ipConfigurations": [{"name": "ipconfig1", "properties": ip_config}],
        }
        groups = self._security_groups(settings, group)
        if groups:
            nic["networkSecurityGroup"] = {"id": groups[0]}
        key = self._ssh_key(settings, group)
        return {
            "location": location,
            "tags": self._tags(request),
            "properties": {
                "hardwareProfile": {"vmSize": str(settings["size"])},
                "storageProfile": {
                    "imageReference": _image(settings),
                    "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"},
                },
                "osProfile": {
                    "computerName": request.name[:64],
                    "adminUsername": ADMIN_USER,
                    "linuxConfiguration": {
                        "disablePasswordAuthentication": True,
                        "ssh": {"publicKeys": [{"path": f"/home/{ADMIN_USER}/.ssh/authorized_keys", "keyData": key}]},
                    },
                },
                "networkProfile": {
                    "networkApiVersion": "2020-11-01",
                    "networkInterfaceConfigurations": [{"name": f"{request.name}-nic", "properties": nic}],
                },
            },
        }

    def _disk_body(self, request: ProvisionRequest, location: str) -> dict[str, Any]:
        size = request.settings.get("sizeGb")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise InvalidRequest(f"sizeGb: a volume needs a size in GB (a positive integer), not {size!r}")
        body: dict[str, Any] = {
            "location": location,
            "tags": self._tags(request),
            "sku": {"name": str(request.settings.get("sku") or "StandardSSD_LRS")},
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size},
        }
        if request.settings.get("zone"):
            body["zones"] = [str(request.settings["zone"])]
        return body

    def _vnet_body(self, request: ProvisionRequest, location: str) -> dict[str, Any]:
        cidr = str(request.settings.get("cidr") or "")
        if not cidr:
            raise InvalidRequest("cidr: a virtual network needs an address space (e.g. 10.20.0.0/16)")
        subnets = []
        for entry in setting_list(request.settings, "subnets"):
            name, _, prefix = entry.partition("=")
            if not name or not prefix:
                raise InvalidRequest(f"subnets: {entry!r} is not name=cidr")
            subnets.append({"name": name, "properties": {"addressPrefix": prefix}})
        return {
            "location": location,
            "tags": self._tags(request),
            "properties": {"addressSpace": {"addressPrefixes": [cidr]}, "subnets": subnets},
        }

    # ------------------------------------------------------------------ views

    def _vm_network(self, props: Mapping[str, Any], outputs: dict[str, str]) -> dict[str, str]:
        """Private/public IP outputs and the managed network fields, read from the VM's primary NIC."""
        managed = {"publicIp": "false", "subnetId": "", "securityGroupIds": ""}
        nics = (props.get("networkProfile") or {}).get("networkInterfaces") or ()
        primary = next((n for n in nics if (n.get("properties") or {}).get("primary", True)), None)
        if primary is None:
            return managed
        outputs["nic_id"] = str(primary["id"])
        nic = self._get(str(primary["id"]), "networkInterfaces")
        if nic is None:
            return managed
        nic_props = nic.get("properties") or {}
        nsg = (nic_props.get("networkSecurityGroup") or {}).get("id")
        managed["securityGroupIds"] = str(nsg).lower() if nsg else ""
        for config in nic_props.get("ipConfigurations") or ():
            cprops = config.get("properties") or {}
            if cprops.get("privateIPAddress"):
                outputs.setdefault("private_ip", str(cprops["privateIPAddress"]))
            managed["subnetId"] = str((cprops.get("subnet") or {}).get("id", "")).lower()
            pip_ref = cprops.get("publicIPAddress")
            if pip_ref:
                managed["publicIp"] = "true"
                pip = self._get(str(pip_ref["id"]), "publicIPAddresses")
                address = ((pip or {}).get("properties") or {}).get("ipAddress")
                if address:
                    outputs["public_ip"] = str(address)
            break
        return managed

    def _observe_bucket(self, external_id: str) -> ProvisionedResource | None:
        account_id, _, rest = external_id.partition("/blobServices/")
        account = self._get(account_id, "storageAccounts")
        if account is None:
            return None
        props = account.get("properties") or {}
        state = _STATES.get(str(props.get("provisioningState", "")).lower(), ProvisionState.CREATING)
        container = self._get(external_id, "storageAccounts") if rest else None
        if container is None and state is ProvisionState.ACTIVE:
            state = ProvisionState.CREATING  # the account is there, its container not yet
        name = external_id.rsplit("/", 1)[-1]
        endpoint = str((props.get("primaryEndpoints") or {}).get("blob", "")).rstrip("/")
        outputs = {
            "id": external_id,
            "resource_id": external_id,
            "bucket": name,
            "storage_account": str(account.get("name", "")),
            "url": f"{endpoint}/{name}" if endpoint else "",
            "location": str(account.get("location", "")),
            "resource_group": resource_group(account_id),
        }
        managed = {"storageKind": "bucket", **_user_tags(account)}
        return ProvisionedResource(external_id, state, outputs, managed, str(props.get("provisioningState", "")))


def _image(settings: Mapping[str, object]) -> dict[str, str]:
    """imageReference from an ARM image id or a URN publisher:offer:sku:version."""
    image = str(settings.get("image") or "")
    if image.startswith("/subscriptions/"):
        return {"id": image}
    parts = image.split(":")
    if len(parts) != 4 or not all(parts):
        raise InvalidRequest(
            f"image {image!r}: an Azure image is a URN publisher:offer:sku:version "
            "(e.g. Canonical:ubuntu-24_04-lts:server:latest) or an image resource id"
        )
    return dict(zip(("publisher", "offer", "sku", "version"), parts, strict=True))


def _image_text(image: Mapping[str, Any]) -> str:
    if image.get("id"):
        return str(image["id"])
    return ":".join(str(image.get(k, "")) for k in ("publisher", "offer", "sku", "version"))


def _user_tags(item: Mapping[str, Any]) -> dict[str, str]:
    return {f"tags.{k}": str(v) for k, v in (item.get("tags") or {}).items() if k != OWNER_TAG_KEY}


def provisioner(params: AzureConnectionParams, *, factory: AzureClientFactory | None = None) -> ResourceProvisioner:
    """The Azure ResourceProvisioner for these connection params (clients cached by a process-wide factory
    unless one is given, so tokens and connections are reused across reconciles)."""
    return AzureProvisioner((factory or AzureClientFactory.shared()).get(params))
