"""ARM writes for the Azure stand-in: create-or-update (PUT), PATCH, GET, DELETE of resource groups and the
resources CloudResource provisions, with ARM's long-running operations and their polling.

    PUT|GET|DELETE /subscriptions/{s}/resourcegroups/{rg}
    PUT|PATCH|GET|DELETE /subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{child}/{name}...]
    GET  /subscriptions/{s}/resources?$filter=tagName eq 'k' and tagValue eq 'v'
    GET  /subscriptions/{s}/providers/{namespace}/locations/{loc}/operations/{id}        Azure-AsyncOperation
    GET  /subscriptions/{s}/providers/{namespace}/locations/{loc}/operationResults/{id}  Location

Resource types: Microsoft.Compute/virtualMachines (201 + Azure-AsyncOperation, provisioningState
Creating -> Succeeded; the NICs and public IPs of ``networkInterfaceConfigurations`` and the OS disk are made
with it and go with it when their deleteOption is Delete; DELETE 202 + Location), Microsoft.Compute/disks
(202 + Location; PATCH grows), Microsoft.Compute/sshPublicKeys, Microsoft.Network/virtualNetworks (with
subnets inline; subnets readable as children), networkInterfaces, publicIPAddresses, networkSecurityGroups,
Microsoft.Storage/storageAccounts (202 + Location with an empty body, as the storage RP answers) and
their blobServices/default/containers. PUT is create-or-update by name: a second PUT of the same name
changes the mutable parts (tags, size) and creates nothing. A long-running operation completes
``estate.provision_seconds`` after it started (state is settled lazily on each request).
"""

from __future__ import annotations

import copy
import ipaddress
import re
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["WRITE_ACTIONS", "WRITE_TYPES", "ArmStore", "ArmWrites", "arm_route"]

# lower-case type path -> (canonical type, long-running PUT status or None when synchronous)
WRITE_TYPES: dict[str, tuple[str, int | None]] = {
    "microsoft.compute/virtualmachines": ("Microsoft.Compute/virtualMachines", 201),
    "microsoft.compute/disks": ("Microsoft.Compute/disks", 202),
    "microsoft.compute/sshpublickeys": ("Microsoft.Compute/sshPublicKeys", None),
    "microsoft.network/virtualnetworks": ("Microsoft.Network/virtualNetworks", 201),
    "microsoft.network/virtualnetworks/subnets": ("Microsoft.Network/virtualNetworks/subnets", None),
    "microsoft.network/networkinterfaces": ("Microsoft.Network/networkInterfaces", 201),
    "microsoft.network/publicipaddresses": ("Microsoft.Network/publicIPAddresses", 201),
    "microsoft.network/networksecuritygroups": ("Microsoft.Network/networkSecurityGroups", 201),
    "microsoft.storage/storageaccounts": ("Microsoft.Storage/storageAccounts", 202),
    "microsoft.storage/storageaccounts/blobservices/containers": (
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        None,
    ),
}
# what a Contributor may do on the types above (the stand-in checks <namespace>/<top type>/<read|write|delete>)
WRITE_ACTIONS = {
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Resources/subscriptions/resourceGroups/write",
} | {
    f"{canonical}/{verb}"
    for canonical, _ in WRITE_TYPES.values()
    if canonical.count("/") == 1
    for verb in ("read", "write", "delete")
}
_STORAGE_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]?$")
_TAG_FILTER = re.compile(r"tagName eq '(?P<k>[^']*)' and tagValue eq '(?P<v>[^']*)'")


@dataclass
class Operation:
    """One long-running operation: what it acts on, when it completes, how it ends."""

    id: str
    resource_id: str
    kind: str  # "put" | "delete"
    done_at: float
    started: str
    error: dict[str, str] | None = None


@dataclass
class ArmStore:
    """Resource groups, resources (by lower-case id), operations, and how many of each type were created."""

    provision_seconds: float = 0.3
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case group id -> group
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case resource id -> resource
    operations: dict[str, Operation] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)  # canonical type -> resources created
    _next_ip: int = 4
    _next_public: int = 10

    def settle(self) -> None:
        """Complete the operations whose time has come: Creating/Updating -> Succeeded, Deleting -> gone."""
        now = time.time()
        for op in self.operations.values():
            if op.done_at > now or op.error is not None:
                continue
            item = self.items.get(op.resource_id.lower())
            if item is None:
                continue
            props = item.setdefault("properties", {})
            if op.kind == "delete":
                self._remove(op.resource_id)
            elif props.get("provisioningState") in ("Creating", "Updating", "Accepted"):
                props["provisioningState"] = "Succeeded"

    def _remove(self, resource_id: str) -> None:
        item = self.items.pop(resource_id.lower(), None)
        if item is None:
            return
        for key in [k for k in self.items if k.startswith(resource_id.lower() + "/")]:
            del self.items[key]  # children (subnets, containers)
        props = item.get("properties") or {}
        if item["type"] == "Microsoft.Compute/virtualMachines":
            for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or ():
                if (nic.get("properties") or {}).get("deleteOption") == "Delete":
                    nic_item = self.items.get(str(nic["id"]).lower())
                    for config in ((nic_item or {}).get("properties") or {}).get("ipConfigurations") or ():
                        pip = (config.get("properties") or {}).get("publicIPAddress")
                        pip_item = self.items.get(str((pip or {}).get("id", "")).lower())
                        if pip_item and (pip_item.get("properties") or {}).get("deleteOption") == "Delete":
                            self._remove(pip_item["id"])
                    self._remove(str(nic["id"]))
            os_disk = (props.get("storageProfile") or {}).get("osDisk") or {}
            if os_disk.get("deleteOption") == "Delete":
                self._remove(str((os_disk.get("managedDisk") or {}).get("id", "")))

    def listed(self, subscription: str, type_name: str) -> list[dict[str, Any]]:
        """Created resources of one type in a subscription (the inventory lists add them to the seeded ones)."""
        prefix = f"/subscriptions/{subscription}/".lower()
        return [
            copy.deepcopy(item)
            for key, item in self.items.items()
            if key.startswith(prefix) and item["type"] == type_name
        ]

    def private_ip(self, subnet: dict[str, Any]) -> str:
        """The next free address of the subnet (Azure keeps the first four)."""
        network = ipaddress.ip_network(str(subnet["properties"]["addressPrefix"]), strict=False)
        self._next_ip += 1
        return str(network.network_address + self._next_ip % max(network.num_addresses - 1, 2))

    def public_ip(self) -> str:
        """A made-up public address."""
        self._next_public += 1
        return f"20.{self._next_public // 250 % 250}.{self._next_public % 250}.{7 + self._next_public % 200}"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00", time.gmtime())


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    shaped = copy.deepcopy(item)
    shaped.get("properties", {}).pop("_power", None)
    return shaped


class ArmWrites:
    """The handlers, over the estate's ``arm`` store and lock (see the module docstring)."""

    def __init__(self, estate: Any) -> None:
        self.estate = estate
        self.store: ArmStore = estate.arm

    # ------------------------------------------------------------------ operations

    def _operation(self, request: Request, namespace: str, resource_id: str, kind: str) -> dict[str, str]:
        op = Operation(
            id=str(uuid.uuid4()),
            resource_id=resource_id,
            kind=kind,
            done_at=time.time() + self.store.provision_seconds,
            started=_now(),
        )
        self.store.operations[op.id] = op
        sub = resource_id.split("/")[2]
        base = f"{request.url.scheme}://{request.url.netloc}/subscriptions/{sub}/providers/{namespace}"
        version = request.query_params.get("api-version", "")
        location = "westeurope"
        return {
            "Azure-AsyncOperation": f"{base}/locations/{location}/operations/{op.id}?api-version={version}",
            "Location": f"{base}/locations/{location}/operationResults/{op.id}?api-version={version}",
            "Retry-After": "1",
        }

    def operation(self, op_id: str, results: bool) -> Response:
        """An Azure-AsyncOperation status body, or a Location poll (202 while running, then 200/204)."""
        op = self.store.operations.get(op_id)
        if op is None:
            return _error(404, "NotFound", f"The operation '{op_id}' was not found.")
        done = op.done_at <= time.time()
        status = "Failed" if op.error else "Succeeded" if done else "InProgress"
        if results:
            if not done:
                return Response(status_code=202, headers={"Retry-After": "1"})
            item = self.store.items.get(op.resource_id.lower())
            if op.kind == "put" and item is not None:
                return JSONResponse(_strip(item), status_code=200)
            return Response(status_code=204)
        body: dict[str, Any] = {"name": op.id, "status": status, "startTime": op.started}
        if done:
            body["endTime"] = _now()
        if op.error:
            body["error"] = op.error
        return JSONResponse(body)

    # ------------------------------------------------------------------ resource groups

    def group(self, request: Request, sub: str, rg: str, method: str, body: dict[str, Any]) -> Response:
        """PUT (create-or-update, synchronous), GET, DELETE of a resource group."""
        group_id = f"/subscriptions/{sub}/resourceGroups/{rg}"
        found = self.store.groups.get(group_id.lower())
        if method == "GET":
            if found is None:
                return _error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            return JSONResponse(found)
        if method == "DELETE":
            if found is None:
                return Response(status_code=204)
            del self.store.groups[group_id.lower()]
            for key in [k for k in self.store.items if k.startswith(group_id.lower() + "/")]:
                del self.store.items[key]
            return Response(status_code=200)
        if not body.get("location"):
            return _error(400, "LocationRequired", "The location property is required for this definition.")
        group = {
            "id": group_id,
            "name": rg,
            "type": "Microsoft.Resources/resourceGroups",
            "location": body["location"],
            "tags": dict(body.get("tags") or {}),
            "properties": {"provisioningState": "Succeeded"},
        }
        if found is not None:
            found["tags"] = group["tags"]
            return JSONResponse(found, status_code=200)
        self.store.groups[group_id.lower()] = group
        return JSONResponse(group, status_code=201)

    def tagged(self, sub: str, filter_text: str) -> Response:
        """GET /subscriptions/{s}/resources?$filter=tagName eq 'k' and tagValue eq 'v' (one page)."""
        found = _TAG_FILTER.fullmatch(filter_text.strip())
        if found is None:
            return _error(400, "InvalidFilterInQueryString", f"Invalid $filter '{filter_text}'.")
        key, value = found.group("k"), found.group("v")
        prefix = f"/subscriptions/{sub}/".lower()
        items = [
            {k: item[k] for k in ("id", "name", "type", "location", "tags") if k in item}
            for rid, item in self.store.items.items()
            if rid.startswith(prefix) and (item.get("tags") or {}).get(key) == value
        ]
        return JSONResponse({"value": items})

    # ------------------------------------------------------------------ resources

    def resource(self, request: Request, sub: str, segments: list[str], method: str, body: dict[str, Any]) -> Response:
        """One resource (or child resource) by its path after /subscriptions/{s}/."""
        rg, namespace = segments[1], segments[3]
        parts = segments[4:]
        if len(parts) < 2 or len(parts) % 2:
            return _error(400, "InvalidResourceId", f"'{'/'.join(segments)}' is not a resource id.")
        types = [parts[i] for i in range(0, len(parts), 2)]
        names = [parts[i] for i in range(1, len(parts), 2)]
        type_key = f"{namespace}/{'/'.join(types)}".lower()  # e.g. .../storageaccounts/blobservices/containers
        known = WRITE_TYPES.get(type_key)
        if known is None:
            return _error(400, "InvalidResourceType", f"The resource type '{type_key}' is not supported here.")
        type_name, long_running = known
        resource_id = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/" + "/".join(parts)
        group_id = f"/subscriptions/{sub}/resourceGroups/{rg}".lower()
        found = self.store.items.get(resource_id.lower())
        if method == "GET":
            if found is None:
                if group_id not in self.store.groups:
                    return _error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
                return _error(
                    404,
                    "ResourceNotFound",
                    f"The Resource '{type_name}/{names[-1]}' under resource group '{rg}' "
                    "was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                )
            return JSONResponse(_strip(found))
        if method == "DELETE":
            return self._delete(request, namespace, resource_id, found, long_running)
        if group_id not in self.store.groups:
            return _error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        if method == "PATCH":
            if found is None:
                return _error(404, "ResourceNotFound", f"The Resource '{type_name}/{names[-1]}' was not found.")
            return self._patch(request, namespace, found, body, long_running)
        return self._put(request, namespace, type_name, resource_id, names[-1], found, body, long_running)

    def _delete(
        self, request: Request, namespace: str, resource_id: str, found: dict[str, Any] | None, long_running: int | None
    ) -> Response:
        if found is None:
            return Response(status_code=204)
        if long_running is None or found["type"] == "Microsoft.Storage/storageAccounts":
            self.store._remove(resource_id)
            return Response(status_code=200)
        found.setdefault("properties", {})["provisioningState"] = "Deleting"
        headers = self._operation(request, namespace, found["id"], "delete")
        return Response(status_code=202, headers=headers)

    def _patch(
        self, request: Request, namespace: str, found: dict[str, Any], body: dict[str, Any], long_running: int | None
    ) -> Response:
        props = found.setdefault("properties", {})
        if "tags" in body:
            found["tags"] = dict(body.get("tags") or {})
        changes = body.get("properties") or {}
        if found["type"] == "Microsoft.Compute/disks" and "diskSizeGB" in changes:
            if int(changes["diskSizeGB"]) < int(props.get("diskSizeGB", 0)):
                return _error(
                    400,
                    "BadRequest",
                    f"Disk size reduction is not supported. Current size is {props.get('diskSizeGB')} GB.",
                )
            props["diskSizeGB"] = int(changes["diskSizeGB"])
        size = (changes.get("hardwareProfile") or {}).get("vmSize")
        if found["type"] == "Microsoft.Compute/virtualMachines" and size:
            props["hardwareProfile"] = {"vmSize": size}
        if long_running is None:
            return JSONResponse(_strip(found))
        props["provisioningState"] = "Updating"
        headers = self._operation(request, namespace, found["id"], "put")
        return JSONResponse(_strip(found), status_code=200, headers=headers)

    def _put(
        self,
        request: Request,
        namespace: str,
        type_name: str,
        resource_id: str,
        name: str,
        found: dict[str, Any] | None,
        body: dict[str, Any],
        long_running: int | None,
    ) -> Response:
        child = type_name.count("/") > 1
        if not child and not body.get("location"):
            return _error(400, "LocationRequired", "The location property is required for this definition.")
        if type_name == "Microsoft.Storage/storageAccounts" and not _STORAGE_NAME.match(name):
            return _error(
                400,
                "AccountNameInvalid",
                f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
                "characters in length and use numbers and lower-case letters only.",
            )
        if type_name.endswith("/containers") and not _CONTAINER_NAME.match(name):
            return _error(400, "InvalidContainerName", f"The specified container name '{name}' is invalid.")
        if not child and not _NAME.match(name):
            return _error(400, "InvalidResourceName", f"The resource name '{name}' is invalid.")
        if found is not None:
            return self._update(request, namespace, found, body, long_running)
        made = self._build(request, type_name, resource_id, name, body)
        if isinstance(made, Response):
            return made
        self.store.items[resource_id.lower()] = made
        self.store.created[type_name] += 1
        if type_name == "Microsoft.Network/virtualNetworks/subnets":
            parent = self.store.items.get(resource_id.rsplit("/subnets/", 1)[0].lower())
            if parent is None:
                del self.store.items[resource_id.lower()]
                return _error(404, "ResourceNotFound", f"The virtual network of subnet '{name}' was not found.")
            made["type"] = type_name
            parent.setdefault("properties", {}).setdefault("subnets", []).append(made)
        if long_running is None:
            made.setdefault("properties", {})["provisioningState"] = "Succeeded"
            return JSONResponse(_strip(made), status_code=201)
        headers = self._operation(request, namespace, resource_id, "put")
        if type_name == "Microsoft.Storage/storageAccounts":
            return Response(status_code=202, headers={k: v for k, v in headers.items() if k != "Azure-AsyncOperation"})
        if long_running == 202:
            return Response(status_code=202, headers=headers)
        return JSONResponse(_strip(made), status_code=201, headers=headers)

    def _update(
        self, request: Request, namespace: str, found: dict[str, Any], body: dict[str, Any], long_running: int | None
    ) -> Response:
        """PUT on an existing resource: tags and size change, the rest must match (PropertyChangeNotAllowed)."""
        props = found.get("properties") or {}
        wanted = body.get("properties") or {}
        if found["type"] == "Microsoft.Compute/virtualMachines":
            old_image = (props.get("storageProfile") or {}).get("imageReference")
            new_image = (wanted.get("storageProfile") or {}).get("imageReference")
            if new_image is not None and old_image != new_image:
                return _error(
                    409,
                    "PropertyChangeNotAllowed",
                    "Changing property 'imageReference' is not allowed.",
                )
        patch: dict[str, Any] = {"tags": body.get("tags") or {}}
        if found["type"] == "Microsoft.Compute/disks" and "diskSizeGB" in wanted:
            patch["properties"] = {"diskSizeGB": wanted["diskSizeGB"]}
        if found["type"] == "Microsoft.Compute/virtualMachines" and wanted.get("hardwareProfile"):
            patch["properties"] = {"hardwareProfile": wanted["hardwareProfile"]}
        if found["type"] == "Microsoft.Network/virtualNetworks":
            found["properties"]["addressSpace"] = wanted.get("addressSpace", props.get("addressSpace"))
        return self._patch(request, namespace, found, patch, long_running)

    # ------------------------------------------------------------------ building new resources

    def _build(
        self, request: Request, type_name: str, resource_id: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any] | Response:
        props = copy.deepcopy(body.get("properties") or {})
        item: dict[str, Any] = {"id": resource_id, "name": name, "type": type_name, "properties": props}
        if "location" in body:
            item["location"] = body["location"]
        item["tags"] = dict(body.get("tags") or {})
        for key in ("sku", "kind", "zones"):
            if key in body:
                item[key] = copy.deepcopy(body[key])
        props["provisioningState"] = "Creating"
        if type_name == "Microsoft.Compute/virtualMachines":
            return self._vm(request, item, body)
        if type_name == "Microsoft.Compute/disks":
            size = props.get("diskSizeGB")
            if not isinstance(size, int) or size < 1:
                return _error(400, "InvalidParameter", "Required parameter 'diskSizeGB' is missing or invalid.")
            props.update(diskState="Unattached", timeCreated=_now(), uniqueId=str(uuid.uuid4()))
        elif type_name == "Microsoft.Network/virtualNetworks":
            prefixes = (props.get("addressSpace") or {}).get("addressPrefixes") or []
            if not prefixes:
                return _error(400, "InvalidRequestFormat", "addressSpace.addressPrefixes is required.")
            props["resourceGuid"] = str(uuid.uuid4())
            for subnet in props.get("subnets") or ():
                subnet["id"] = f"{resource_id}/subnets/{subnet['name']}"
                subnet["type"] = "Microsoft.Network/virtualNetworks/subnets"
                subnet.setdefault("properties", {})["provisioningState"] = "Succeeded"
                self.store.items[subnet["id"].lower()] = subnet
        elif type_name == "Microsoft.Storage/storageAccounts":
            props.update(
                primaryEndpoints={"blob": f"https://{name}.blob.core.windows.net/"},
                creationTime=_now(),
                statusOfPrimary="available",
            )
        elif type_name.endswith("/containers"):
            account_id = resource_id.rsplit("/blobServices/", 1)[0]
            if account_id.lower() not in self.store.items:
                return _error(404, "ResourceNotFound", f"The storage account of container '{name}' was not found.")
            props.update(publicAccess=props.get("publicAccess", "None"), lastModifiedTime=_now())
            item.pop("tags", None)
        elif type_name == "Microsoft.Compute/sshPublicKeys" and not str(props.get("publicKey", "")).startswith(
            ("ssh-", "ecdsa-")
        ):
            return _error(400, "InvalidParameter", "The value of parameter publicKey is invalid.")
        return item

    def _vm(self, request: Request, item: dict[str, Any], body: dict[str, Any]) -> dict[str, Any] | Response:
        props = item["properties"]
        size = (props.get("hardwareProfile") or {}).get("vmSize")
        if not size:
            return _error(400, "InvalidParameter", "Required parameter 'hardwareProfile.vmSize' is missing (null).")
        storage = props.get("storageProfile") or {}
        image = storage.get("imageReference") or {}
        if not image.get("id") and not all(image.get(k) for k in ("publisher", "offer", "sku")):
            return _error(400, "InvalidParameter", "Required parameter 'imageReference' is missing or incomplete.")
        os_profile = props.get("osProfile") or {}
        keys = ((os_profile.get("linuxConfiguration") or {}).get("ssh") or {}).get("publicKeys") or []
        if not os_profile.get("adminUsername") or not (keys or os_profile.get("adminPassword")):
            return _error(
                400, "InvalidParameter", "Required parameter 'osProfile.adminUsername' or an SSH key is missing."
            )
        network = props.get("networkProfile") or {}
        configs = network.get("networkInterfaceConfigurations") or []
        if not configs and not network.get("networkInterfaces"):
            return _error(400, "InvalidParameter", "Required parameter 'networkProfile' is missing.")
        rg_prefix = item["id"].split("/providers/")[0]
        nics: list[dict[str, Any]] = list(network.get("networkInterfaces") or ())
        made: list[dict[str, Any]] = []
        for config in configs:
            cprops = config.get("properties") or {}
            nic_id = f"{rg_prefix}/providers/Microsoft.Network/networkInterfaces/{config['name']}"
            ip_configs = []
            for ip in cprops.get("ipConfigurations") or ():
                iprops = ip.get("properties") or {}
                subnet = self.store.items.get(str((iprops.get("subnet") or {}).get("id", "")).lower())
                if subnet is None:
                    return _error(
                        400,
                        "InvalidResourceReference",
                        f"Resource {(iprops.get('subnet') or {}).get('id')} referenced by resource {item['id']} "
                        "was not found. Please make sure that the referenced resource exists, and that both "
                        "resources are in the same region.",
                    )
                entry: dict[str, Any] = {
                    "name": ip["name"],
                    "properties": {
                        "privateIPAddress": self.store.private_ip(subnet),
                        "privateIPAllocationMethod": "Dynamic",
                        "subnet": {"id": subnet["id"]},
                        "primary": True,
                    },
                }
                public = iprops.get("publicIPAddressConfiguration")
                if public:
                    pip_id = f"{rg_prefix}/providers/Microsoft.Network/publicIPAddresses/{public['name']}"
                    pprops = public.get("properties") or {}
                    made.append(
                        {
                            "id": pip_id,
                            "name": public["name"],
                            "type": "Microsoft.Network/publicIPAddresses",
                            "location": item["location"],
                            "sku": public.get("sku", {"name": "Standard"}),
                            "tags": {},
                            "properties": {
                                "provisioningState": "Succeeded",
                                "ipAddress": self.store.public_ip(),
                                "publicIPAllocationMethod": pprops.get("publicIPAllocationMethod", "Static"),
                                "deleteOption": pprops.get("deleteOption", "Detach"),
                                "ipConfiguration": {"id": f"{nic_id}/ipConfigurations/{ip['name']}"},
                            },
                        }
                    )
                    entry["properties"]["publicIPAddress"] = {"id": pip_id}
                ip_configs.append(entry)
            nic: dict[str, Any] = {
                "id": nic_id,
                "name": config["name"],
                "type": "Microsoft.Network/networkInterfaces",
                "location": item["location"],
                "tags": {},
                "properties": {
                    "provisioningState": "Succeeded",
                    "ipConfigurations": ip_configs,
                    "primary": bool(cprops.get("primary", True)),
                    "virtualMachine": {"id": item["id"]},
                    "macAddress": "00-0D-3A-" + "-".join(secrets.token_hex(1).upper() for _ in range(3)),
                },
            }
            if cprops.get("networkSecurityGroup"):
                nic["properties"]["networkSecurityGroup"] = cprops["networkSecurityGroup"]
            made.append(nic)
            nics.append(
                {
                    "id": nic_id,
                    "properties": {
                        "deleteOption": cprops.get("deleteOption", "Detach"),
                        "primary": bool(cprops.get("primary", True)),
                    },
                }
            )
        for extra in made:
            self.store.items[extra["id"].lower()] = extra
            self.store.created[extra["type"]] += 1
        os_disk = dict(storage.get("osDisk") or {})
        disk_name = os_disk.get("name") or f"{item['name']}_OsDisk_1_{secrets.token_hex(16)}"
        disk_id = f"{rg_prefix}/providers/Microsoft.Compute/disks/{disk_name}"
        self.store.items[disk_id.lower()] = {
            "id": disk_id,
            "name": disk_name,
            "type": "Microsoft.Compute/disks",
            "location": item["location"],
            "managedBy": item["id"],
            "tags": {},
            "properties": {
                "diskSizeGB": int(os_disk.get("diskSizeGB") or 30),
                "diskState": "Attached",
                "osType": "Linux",
                "provisioningState": "Succeeded",
                "timeCreated": _now(),
            },
        }
        os_disk.update(
            name=disk_name,
            osType="Linux",
            managedDisk={"id": disk_id},
            deleteOption=os_disk.get("deleteOption", "Detach"),
        )
        props["storageProfile"] = {**storage, "osDisk": os_disk}
        props["networkProfile"] = {**network, "networkInterfaces": nics}
        props["vmId"] = str(uuid.uuid4())
        props["timeCreated"] = _now()
        props["_power"] = "PowerState/running"
        return item


def arm_route(writes: ArmWrites, actions_of: Any) -> Any:
    """The catch-all handler for /subscriptions/{s}/{rest:path}: ``actions_of(request)`` returns the caller's
    (client id, allowed actions) or an error response (authentication, api-version)."""

    async def handle(request: Request) -> Response:
        caller = actions_of(request)
        if isinstance(caller, Response):
            return caller
        client_id, allowed = caller
        sub = request.path_params["subscription"]
        segments = [s for s in request.path_params["rest"].split("/") if s]
        method = request.method
        body: dict[str, Any] = {}
        if method in ("PUT", "PATCH"):
            try:
                parsed = await request.json()
            except ValueError:
                return _error(
                    400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
                )
            body = parsed if isinstance(parsed, dict) else {}
        store = writes.store
        with writes.estate.lock:
            if sub not in writes.estate.subscriptions:
                return _error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
            store.settle()
            lowered = [s.lower() for s in segments]
            polls = ("operations", "asyncoperations", "operationresults")
            if len(segments) >= 6 and lowered[0] == "providers" and lowered[2] == "locations" and lowered[4] in polls:
                return writes.operation(segments[5], lowered[4] == "operationresults")
            if lowered == ["resources"] and method == "GET":
                return writes.tagged(sub, request.query_params.get("$filter", ""))
            if len(segments) < 2 or lowered[0] != "resourcegroups":
                return _error(
                    400, "InvalidResourceId", f"'/subscriptions/{sub}/{'/'.join(segments)}' is not supported."
                )
            if len(segments) == 2:
                action = f"Microsoft.Resources/subscriptions/resourceGroups/{'read' if method == 'GET' else 'write'}"
                if action not in allowed:
                    return _denied(client_id, action, sub)
                return writes.group(request, sub, segments[1], method, body)
            if len(segments) < 6 or lowered[2] != "providers":
                return _error(400, "InvalidResourceId", f"'{'/'.join(segments)}' is not a resource id.")
            verb = {"GET": "read", "DELETE": "delete"}.get(method, "write")
            action = f"{segments[3]}/{segments[4]}/{verb}"
            if action.lower() not in {a.lower() for a in allowed}:
                return _denied(client_id, action, sub)
            return writes.resource(request, sub, segments, method, body)

    return handle


def _denied(client_id: str, action: str, sub: str) -> JSONResponse:
    return _error(
        403,
        "AuthorizationFailed",
        f"The client '{client_id}' does not have authorization to perform action '{action}' over scope "
        f"'/subscriptions/{sub}' or the scope is invalid. If access was recently granted, please refresh your "
        "credentials.",
    )
