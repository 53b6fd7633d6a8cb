"""Compute Engine and Cloud Storage writes for the GCP stand-in, with Compute's operations and their polling.

    POST   /compute/v1/projects/{p}/zones/{z}/instances?requestId=       insert -> zonal Operation
    GET    /compute/v1/projects/{p}/zones/{z}/instances[?filter=labels.k="v"]
    GET|DELETE /compute/v1/projects/{p}/zones/{z}/instances/{name}    (DELETE -> zonal Operation)
    POST   /compute/v1/projects/{p}/zones/{z}/instances/{name}/setLabels|setTags   (fingerprints checked: 412)
    POST|GET|DELETE .../zones/{z}/disks[/{name}], POST .../disks/{name}/resize, .../disks/{name}/setLabels
    POST|GET|DELETE /compute/v1/projects/{p}/global/networks[/{name}]           -> global Operation
    POST|GET|DELETE /compute/v1/projects/{p}/regions/{r}/subnetworks[/{name}]   -> regional Operation
    GET    .../zones/{z}/operations/{op}, POST .../operations/{op}/wait (and global/, regions/{r}/)
    POST   /storage/v1/b?project=   GET|PATCH|DELETE /storage/v1/b/{bucket}   GET /storage/v1/b?project=

As Compute does: an insert carrying a ``requestId`` (a UUID) that was seen before answers the operation it
started and does nothing again; an insert of an existing name without it is 409 alreadyExists. An instance
is PROVISIONING and a disk CREATING until its operation is DONE, ``estate.provision_seconds`` after it
started; a deletion removes the resource when its operation is DONE. A subnetwork cannot be inserted into
a network whose insert is still running (400 resourceNotReady). Writes need a token with a write scope
(compute or cloud-platform; devstorage.read_write for buckets): a read-only token gets 403
insufficientPermissions, as Google answers.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import ipaddress
import re
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["WRITE_PERMISSIONS", "ComputeWrites", "Operation", "WriteStore"]

WRITE_PERMISSIONS = {
    f"compute.{kind}.{verb}"
    for kind, verbs in {
        "instances": ("create", "get", "delete", "setLabels", "setTags", "list"),
        "disks": ("create", "get", "delete", "resize", "setLabels"),
        "networks": ("create", "get", "delete"),
        "subnetworks": ("create", "get", "delete", "list"),
        "zoneOperations": ("get",),
        "globalOperations": ("get",),
        "regionOperations": ("get",),
    }.items()
    for verb in verbs
} | {f"storage.buckets.{verb}" for verb in ("create", "get", "delete", "update", "list")}
_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_FILTER = re.compile(r'^\(?\s*labels\.(?P<k>[a-z0-9_-]+)\s*=\s*"?(?P<v>[a-z0-9_-]*)"?\s*\)?$')
_COMPUTE_SCOPES = ("https://www.googleapis.com/auth/compute", "https://www.googleapis.com/auth/cloud-platform")
_COMPUTE_READ_SCOPES = (*_COMPUTE_SCOPES, "https://www.googleapis.com/auth/compute.readonly")
_STORAGE_SCOPES = (
    "https://www.googleapis.com/auth/devstorage.read_write",
    "https://www.googleapis.com/auth/devstorage.full_control",
    "https://www.googleapis.com/auth/cloud-platform",
)


@dataclass
class Operation:
    """A Compute operation: what it acts on, its scope (zones/z, regions/r or global), when it is DONE."""

    name: str
    id: str
    scope: str
    kind: str  # insert | delete | setLabels | resize
    target: str  # selfLink of the resource
    done_at: float
    inserted: str
    error: dict[str, Any] | None = None


@dataclass
class WriteStore:
    """Subnetworks, buckets, operations and requestIds seen; instances/disks/networks live in the estate lists."""

    provision_seconds: float = 0.3
    subnetworks: list[dict[str, Any]] = field(default_factory=list)
    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    request_ids: dict[str, str] = field(default_factory=dict)  # requestId -> operation name
    token_scopes: dict[str, str] = field(default_factory=dict)  # access token -> granted scopes
    created: Counter[str] = field(default_factory=Counter)  # instances | disks | networks | subnetworks | buckets
    _next_ip: int = 1
    _next_nat: int = 1


def _error(status: int, message: str, reason: str, canonical: str | None = None) -> JSONResponse:
    statuses = {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        409: "ALREADY_EXISTS",
        412: "FAILED_PRECONDITION",
    }
    detail = {"message": message, "domain": "global", "reason": reason}
    body: dict[str, Any] = {"code": status, "message": message, "errors": [detail]}
    status_text = canonical or statuses.get(status)
    if status_text:
        body["status"] = status_text
    return JSONResponse({"error": body}, status_code=status)


def _storage_error(status: int, message: str, reason: str) -> JSONResponse:
    """Cloud Storage's JSON API error (no canonical status field)."""
    detail = {"domain": "global", "reason": reason, "message": message}
    return JSONResponse({"error": {"code": status, "message": message, "errors": [detail]}}, status_code=status)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000-07:00", time.gmtime())


def _fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]


def _labels_error(labels: Any) -> str | None:
    if not isinstance(labels, dict):
        return "Invalid value for field 'resource.labels'."
    for key, value in labels.items():
        if not _LABEL_KEY.match(str(key)) or not _LABEL_VALUE.match(str(value)):
            return f"Invalid value for field 'resource.labels': label '{key}={value}' is not valid."
    return None


class ComputeWrites:
    """The write handlers over the estate (its lock, lists and ``writes`` store)."""

    def __init__(self, estate: Any, caller: Callable[[Request, str], JSONResponse | None]) -> None:
        self.estate = estate
        self.store: WriteStore = estate.writes
        self.caller = caller

    # ------------------------------------------------------------------ plumbing

    def _base(self, request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}/compute/v1/projects/{self.estate.project_id}"

    def _allowed(self, request: Request, permission: str, scopes: tuple[str, ...]) -> JSONResponse | None:
        failure = self.caller(request, permission)
        if failure is not None:
            return failure
        token = request.headers.get("authorization", "")[7:]
        granted = self.store.token_scopes.get(token, "").split()
        if not any(s in granted for s in scopes):
            return _error(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        return None

    def settle(self) -> None:
        """Finish the operations that are due: resources become RUNNING/READY, deletions remove them."""
        now = time.time()
        for op in self.store.operations.values():
            if op.done_at > now or op.error is not None or op.kind == "finished":
                continue
            found = self._lookup(op.target)
            if op.kind == "delete":
                self._remove(op.target)
            elif found is not None and found.get("status") in ("PROVISIONING", "STAGING"):
                found["status"] = "RUNNING"
            elif found is not None and found.get("status") == "CREATING":
                found["status"] = "READY"
            op.kind = "finished" if op.kind == "delete" else op.kind

    def _collections(self) -> list[list[dict[str, Any]]]:
        return [self.estate.instances, self.estate.disks, self.estate.networks, self.store.subnetworks]

    def _lookup(self, self_link: str) -> dict[str, Any] | None:
        tail = self_link.split("/projects/", 1)[-1]
        for items in self._collections():
            for item in items:
                if str(item.get("selfLink", "")).split("/projects/", 1)[-1] == tail:
                    return item
        return None

    def _remove(self, self_link: str) -> None:
        found = self._lookup(self_link)
        if found is None:
            return
        for items in self._collections():
            if any(i is found for i in items):
                items[:] = [i for i in items if i is not found]
        if found.get("kind") == "compute#subnetwork":
            for network in self.estate.networks:
                network["subnetworks"] = [s for s in network.get("subnetworks") or () if s != self_link]
        if found.get("kind") == "compute#instance":
            for disk in found.get("disks") or ():
                if disk.get("autoDelete"):
                    self._remove(str(disk["source"]))
                else:
                    attached = self._lookup(str(disk["source"]))
                    if attached is not None:
                        attached["users"] = [u for u in attached.get("users") or () if u != self_link]

    def _operation(self, request: Request, scope: str, kind: str, target: str, target_id: str) -> dict[str, Any]:
        name = f"operation-{int(time.time() * 1000)}-{secrets.token_hex(6)}"
        op = Operation(
            name,
            str(secrets.randbelow(10**19)),
            scope,
            kind,
            target,
            time.time() + self.store.provision_seconds,
            _now(),
        )
        self.store.operations[name] = op
        return self._op_body(request, op, target_id)

    def _op_body(self, request: Request, op: Operation, target_id: str = "") -> dict[str, Any]:
        done = op.done_at <= time.time()
        body: dict[str, Any] = {
            "kind": "compute#operation",
            "id": op.id,
            "name": op.name,
            "operationType": op.kind if op.kind != "finished" else "delete",
            "targetLink": op.target,
            "targetId": target_id or str((self._lookup(op.target) or {}).get("id", "")),
            "status": "DONE" if done else "RUNNING",
            "progress": 100 if done else 50,
            "insertTime": op.inserted,
            "startTime": op.inserted,
            "selfLink": f"{self._base(request)}/{op.scope}/operations/{op.name}",
            "user": "daytwo",
        }
        if op.scope.startswith("zones/"):
            body["zone"] = f"{self._base(request)}/{op.scope}"
        elif op.scope.startswith("regions/"):
            body["region"] = f"{self._base(request)}/{op.scope}"
        if done:
            body["endTime"] = _now()
        if op.error:
            body["error"] = op.error
        return body

    def _seen(self, request: Request) -> JSONResponse | None:
        """The operation of a requestId seen before (the insert is not repeated), or a 400 for a bad one."""
        request_id = request.query_params.get("requestId")
        if request_id is None:
            return None
        try:
            uuid.UUID(request_id)
        except ValueError:
            return _error(400, "Invalid value for field 'requestId': must be a valid UUID.", "invalid")
        name = self.store.request_ids.get(request_id)
        if name is None:
            return None
        return JSONResponse(self._op_body(request, self.store.operations[name]))

    def _remember(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        request_id = request.query_params.get("requestId")
        if request_id:
            self.store.request_ids[request_id] = body["name"]
        return JSONResponse(body)

    # ------------------------------------------------------------------ instances and disks

    async def instances(self, request: Request) -> Response:
        """GET (list, filter by label) or POST (insert) zones/{z}/instances."""
        zone = request.path_params["zone"]
        if request.method == "GET":
            return self._list(request, "instances", self.estate.instances, zone)
        body = await _json(request)
        with self.estate.lock:
            failure = self._allowed(request, "compute.instances.create", _COMPUTE_SCOPES)
            if failure is not None:
                return failure
            self.settle()
            seen = self._seen(request)
            if seen is not None:
                return seen
            name = str(body.get("name", ""))
            if not _NAME.match(name):
                return _error(400, f"Invalid value for field 'resource.name': '{name}'.", "invalid")
            link = f"{self._base(request)}/zones/{zone}/instances/{name}"
            if self._lookup(link) is not None:
                return _error(
                    409,
                    f"The resource 'projects/{self.estate.project_id}/zones/{zone}/instances/{name}' already exists",
                    "alreadyExists",
                )
            made = self._instance(request, zone, name, link, body)
            if isinstance(made, Response):
                return made
            self.estate.instances.append(made)
            self.store.created["instances"] += 1
            return self._remember(request, self._operation(request, f"zones/{zone}", "insert", link, str(made["id"])))

    def _instance(
        self, request: Request, zone: str, name: str, link: str, body: dict[str, Any]
    ) -> dict[str, Any] | Response:
        machine = str(body.get("machineType", "")).rsplit("/", 1)[-1]
        if not re.match(r"^[a-z][a-z0-9]*-[a-z0-9-]+$", machine):
            return _error(
                400,
                f"Invalid value for field 'resource.machineType': '{body.get('machineType')}'. "
                f"Machine type with name '{machine}' does not exist in zone '{zone}'.",
                "invalid",
            )
        invalid = _labels_error(body.get("labels") or {})
        if invalid:
            return _error(400, invalid, "invalid")
        disks = body.get("disks") or []
        boot = next((d for d in disks if d.get("boot")), None)
        image = str(((boot or {}).get("initializeParams") or {}).get("sourceImage", ""))
        if not image.startswith(("projects/", "https://", "global/images/")):
            return _error(
                400,
                f"Invalid value for field 'resource.disks[0].initializeParams.sourceImage': "
                f"'{image}'. The referenced image resource cannot be found.",
                "invalid",
            )
        interfaces = []
        for n, nic in enumerate(body.get("networkInterfaces") or [{}]):
            subnet_ref = nic.get("subnetwork")
            network_ref = nic.get("network") or "global/networks/default"
            subnet = self._lookup(self._expand(request, str(subnet_ref))) if subnet_ref else None
            if subnet_ref and subnet is None:
                return _error(
                    400,
                    f"Invalid value for field 'resource.networkInterfaces[{n}].subnetwork': "
                    f"'{subnet_ref}'. The referenced subnetwork resource cannot be found.",
                    "invalid",
                )
            network = self._lookup(self._expand(request, str(subnet["network"] if subnet else network_ref)))
            if network is None:
                return _error(
                    400,
                    f"Invalid value for field 'resource.networkInterfaces[{n}].network': "
                    f"'{network_ref}'. The referenced network resource cannot be found.",
                    "invalid",
                )
            cidr = str(subnet["ipCidrRange"]) if subnet else "10.128.0.0/20"
            self.store._next_ip += 1
            entry: dict[str, Any] = {
                "kind": "compute#networkInterface",
                "name": f"nic{n}",
                "network": network["selfLink"],
                "networkIP": str(ipaddress.ip_network(cidr).network_address + 1 + self.store._next_ip),
                "fingerprint": secrets.token_urlsafe(8),
            }
            if subnet:
                entry["subnetwork"] = subnet["selfLink"]
            configs = []
            for config in nic.get("accessConfigs") or ():
                self.store._next_nat += 1
                configs.append(
                    {
                        "kind": "compute#accessConfig",
                        "type": "ONE_TO_ONE_NAT",
                        "name": config.get("name", "External NAT"),
                        "natIP": f"34.{self.store._next_nat // 250 % 250}.{self.store._next_nat % 250}.9",
                        "networkTier": config.get("networkTier", "PREMIUM"),
                    }
                )
            if configs:
                entry["accessConfigs"] = configs
            interfaces.append(entry)
        disk_link = f"{self._base(request)}/zones/{zone}/disks/{name}"
        size = str(((boot or {}).get("initializeParams") or {}).get("diskSizeGb") or "10")
        self.estate.disks.append(
            {
                "kind": "compute#disk",
                "id": str(secrets.randbelow(10**19)),
                "creationTimestamp": _now(),
                "name": name,
                "sizeGb": size,
                "zone": f"{self._base(request)}/zones/{zone}",
                "status": "READY",
                "selfLink": disk_link,
                "type": f"{self._base(request)}/zones/{zone}/diskTypes/pd-balanced",
                "sourceImage": image,
                "users": [link],
                "labels": {},
                "labelFingerprint": _fingerprint({}),
            }
        )
        labels = dict(body.get("labels") or {})
        return {
            "kind": "compute#instance",
            "id": str(secrets.randbelow(10**19)),
            "creationTimestamp": _now(),
            "name": name,
            "machineType": f"{self._base(request)}/zones/{zone}/machineTypes/{machine}",
            "status": "PROVISIONING",
            "zone": f"{self._base(request)}/zones/{zone}",
            "networkInterfaces": interfaces,
            "disks": [
                {
                    "kind": "compute#attachedDisk",
                    "boot": True,
                    "source": disk_link,
                    "deviceName": "boot",
                    "autoDelete": bool((boot or {}).get("autoDelete", True)),
                    "type": "PERSISTENT",
                }
            ],
            "tags": {
                **(body.get("tags") or {}),
                "fingerprint": _fingerprint(dict.fromkeys((body.get("tags") or {}).get("items") or (), "")),
            },
            "metadata": body.get("metadata") or {},
            "labels": labels,
            "labelFingerprint": _fingerprint(labels),
            "selfLink": link,
            "_sourceImage": image,
        }

    async def disks(self, request: Request) -> Response:
        """GET (list) or POST (insert) zones/{z}/disks."""
        zone = request.path_params["zone"]
        if request.method == "GET":
            return self._list(request, "disks", self.estate.disks, zone)
        body = await _json(request)
        with self.estate.lock:
            failure = self._allowed(request, "compute.disks.create", _COMPUTE_SCOPES)
            if failure is not None:
                return failure
            self.settle()
            seen = self._seen(request)
            if seen is not None:
                return seen
            name = str(body.get("name", ""))
            if not _NAME.match(name):
                return _error(400, f"Invalid value for field 'resource.name': '{name}'.", "invalid")
            try:
                size = int(body.get("sizeGb", 0))
            except (TypeError, ValueError):
                size = 0
            if size < 1:
                return _error(400, "Invalid value for field 'resource.sizeGb'.", "invalid")
            invalid = _labels_error(body.get("labels") or {})
            if invalid:
                return _error(400, invalid, "invalid")
            link = f"{self._base(request)}/zones/{zone}/disks/{name}"
            if self._lookup(link) is not None:
                return _error(
                    409,
                    f"The resource 'projects/{self.estate.project_id}/zones/{zone}/disks/{name}' already exists",
                    "alreadyExists",
                )
            labels = dict(body.get("labels") or {})
            disk_type = str(body.get("type") or f"zones/{zone}/diskTypes/pd-balanced").rsplit("/", 1)[-1]
            made: dict[str, Any] = {
                "kind": "compute#disk",
                "id": str(secrets.randbelow(10**19)),
                "creationTimestamp": _now(),
                "name": name,
                "sizeGb": str(size),
                "zone": f"{self._base(request)}/zones/{zone}",
                "status": "CREATING",
                "selfLink": link,
                "type": f"{self._base(request)}/zones/{zone}/diskTypes/{disk_type}",
                "labels": labels,
                "labelFingerprint": _fingerprint(labels),
            }
            self.estate.disks.append(made)
            self.store.created["disks"] += 1
            return self._remember(request, self._operation(request, f"zones/{zone}", "insert", link, str(made["id"])))

    async def zonal(self, request: Request) -> Response:
        """GET or DELETE zones/{z}/{instances|disks}/{name}."""
        zone, kind, name = (request.path_params[k] for k in ("zone", "kind", "name"))
        if kind not in ("instances", "disks"):
            return _error(404, f"The resource type '{kind}' is not served here.", "notFound")
        return self._one(request, f"zones/{zone}", kind, name)

    def _one(self, request: Request, scope: str, kind: str, name: str) -> Response:
        verb = "get" if request.method == "GET" else "delete"
        with self.estate.lock:
            failure = self._allowed(
                request,
                f"compute.{kind}.{verb}",
                _COMPUTE_SCOPES + (("https://www.googleapis.com/auth/compute.readonly",) if verb == "get" else ()),
            )
            if failure is not None:
                return failure
            self.settle()
            link = f"{self._base(request)}/{scope}/{kind}/{name}"
            found = self._lookup(link)
            if found is None:
                return _error(
                    404,
                    f"The resource 'projects/{self.estate.project_id}/{scope}/{kind}/{name}' was not found",
                    "notFound",
                )
            if verb == "get":
                return JSONResponse({k: v for k, v in found.items() if not k.startswith("_")})
            if found.get("users"):
                return _error(
                    400,
                    f"The disk resource '{link}' is already being used by '{found['users'][0]}'",
                    "resourceInUseByAnotherResource",
                )
            if kind == "networks" and any(s["network"] == link for s in self.store.subnetworks):
                return _error(
                    400,
                    f"The network resource '{link}' is already being used by a subnetwork",
                    "resourceInUseByAnotherResource",
                )
            if found.get("kind") == "compute#instance":
                found["status"] = "STOPPING"
            return JSONResponse(self._operation(request, scope, "delete", link, str(found.get("id", ""))))

    async def action(self, request: Request) -> Response:
        """POST zones/{z}/{instances|disks}/{name}/{setLabels|resize}."""
        zone, kind, name, verb = (request.path_params[k] for k in ("zone", "kind", "name", "verb"))
        body = await _json(request)
        served = {"setLabels": kind, "resize": "disks", "setTags": "instances"}
        if served.get(verb) != kind:
            return _error(404, f"The method '{verb}' is not supported on {kind}.", "notFound")
        with self.estate.lock:
            failure = self._allowed(request, f"compute.{kind}.{verb}", _COMPUTE_SCOPES)
            if failure is not None:
                return failure
            self.settle()
            seen = self._seen(request)
            if seen is not None:
                return seen
            link = f"{self._base(request)}/zones/{zone}/{kind}/{name}"
            found = self._lookup(link)
            if found is None:
                return _error(
                    404,
                    f"The resource 'projects/{self.estate.project_id}/zones/{zone}/{kind}/{name}' was not found",
                    "notFound",
                )
            if verb == "setTags":
                tags = found.get("tags") or {}
                if body.get("fingerprint") != tags.get("fingerprint"):
                    return _error(412, "Supplied fingerprint does not match current metadata fingerprint.",
                                  "conditionNotMet")  # fmt: skip
                items = sorted(str(i) for i in body.get("items") or ())
                found["tags"] = {"items": items, "fingerprint": _fingerprint(dict.fromkeys(items, ""))}
            elif verb == "setLabels":
                if body.get("labelFingerprint") != found.get("labelFingerprint"):
                    return _error(
                        412, "Labels fingerprint either invalid or resource labels have changed", "conditionNotMet"
                    )
                invalid = _labels_error(body.get("labels") or {})
                if invalid:
                    return _error(400, invalid, "invalid")
                found["labels"] = dict(body.get("labels") or {})
                found["labelFingerprint"] = _fingerprint(found["labels"])
            else:
                size = int(body.get("sizeGb", 0) or 0)
                if size <= int(found.get("sizeGb", 0)):
                    return _error(
                        400,
                        f"Invalid value for field 'sizeGb': '{size}'. New disk size '{size}' GiB "
                        f"must be larger than existing size '{found.get('sizeGb')}' GiB.",
                        "invalid",
                    )
                found["sizeGb"] = str(size)
            op = self._operation(request, f"zones/{zone}", verb, link, str(found.get("id", "")))
            return self._remember(request, op)

    def _list(self, request: Request, kind: str, items: list[dict[str, Any]], zone: str) -> Response:
        with self.estate.lock:
            failure = self._allowed(request, f"compute.{kind}.list", _COMPUTE_READ_SCOPES)
            if failure is not None:
                return failure
            self.settle()
            chosen = [i for i in items if str(i.get("zone", "")).endswith(f"/zones/{zone}")]
            text = request.query_params.get("filter", "")
            if text:
                found = _FILTER.match(text.strip())
                if found is None:
                    return _error(400, f"Invalid value for field 'filter': '{text}'.", "invalid")
                chosen = [i for i in chosen if (i.get("labels") or {}).get(found["k"]) == found["v"]]
            shaped = [{k: v for k, v in i.items() if not k.startswith("_")} for i in chosen]
            return JSONResponse(
                {
                    "kind": f"compute#{kind[:-1]}List",
                    "items": shaped,
                    "selfLink": str(request.url),
                    "id": f"projects/{self.estate.project_id}/zones/{zone}",
                }
            )

    # ------------------------------------------------------------------ networks and subnetworks

    async def networks(self, request: Request) -> Response:
        """POST global/networks (GET lists are served by the inventory route)."""
        body = await _json(request)
        with self.estate.lock:
            failure = self._allowed(request, "compute.networks.create", _COMPUTE_SCOPES)
            if failure is not None:
                return failure
            self.settle()
            seen = self._seen(request)
            if seen is not None:
                return seen
            name = str(body.get("name", ""))
            if not _NAME.match(name):
                return _error(400, f"Invalid value for field 'resource.name': '{name}'.", "invalid")
            link = f"{self._base(request)}/global/networks/{name}"
            if self._lookup(link) is not None:
                return _error(
                    409,
                    f"The resource 'projects/{self.estate.project_id}/global/networks/{name}' already exists",
                    "alreadyExists",
                )
            made: dict[str, Any] = {
                "kind": "compute#network",
                "id": str(secrets.randbelow(10**19)),
                "creationTimestamp": _now(),
                "name": name,
                "description": str(body.get("description", "")),
                "selfLink": link,
                "autoCreateSubnetworks": bool(body.get("autoCreateSubnetworks", True)),
                "subnetworks": [],
                "routingConfig": body.get("routingConfig") or {"routingMode": "REGIONAL"},
                "mtu": int(body.get("mtu") or 1460),
            }
            self.estate.networks.append(made)
            self.store.created["networks"] += 1
            return self._remember(request, self._operation(request, "global", "insert", link, str(made["id"])))

    async def network(self, request: Request) -> Response:
        """GET or DELETE global/networks/{name}."""
        return self._one(request, "global", "networks", request.path_params["name"])

    async def subnetworks(self, request: Request) -> Response:
        """POST regions/{r}/subnetworks (insert; the network's insert must be DONE)."""
        region = request.path_params["region"]
        body = await _json(request)
        with self.estate.lock:
            failure = self._allowed(request, "compute.subnetworks.create", _COMPUTE_SCOPES)
            if failure is not None:
                return failure
            self.settle()
            seen = self._seen(request)
            if seen is not None:
                return seen
            name = str(body.get("name", ""))
            if not _NAME.match(name):
                return _error(400, f"Invalid value for field 'resource.name': '{name}'.", "invalid")
            network_link = self._expand(request, str(body.get("network", "")))
            network = self._lookup(network_link)
            if network is None:
                return _error(
                    400,
                    f"Invalid value for field 'resource.network': '{body.get('network')}'. The "
                    "referenced network resource cannot be found.",
                    "invalid",
                )
            pending = [
                o
                for o in self.store.operations.values()
                if o.target == network["selfLink"] and o.kind == "insert" and o.done_at > time.time()
            ]
            if pending:
                return _error(400, f"The resource '{network['selfLink']}' is not ready", "resourceNotReady")
            try:
                cidr = ipaddress.ip_network(str(body.get("ipCidrRange", "")))
            except ValueError:
                return _error(
                    400,
                    f"Invalid value for field 'resource.ipCidrRange': '{body.get('ipCidrRange')}'. "
                    "Invalid IPCidrRange.",
                    "invalid",
                )
            link = f"{self._base(request)}/regions/{region}/subnetworks/{name}"
            if self._lookup(link) is not None:
                return _error(
                    409,
                    f"The resource 'projects/{self.estate.project_id}/regions/{region}/subnetworks/"
                    f"{name}' already exists",
                    "alreadyExists",
                )
            made: dict[str, Any] = {
                "kind": "compute#subnetwork",
                "id": str(secrets.randbelow(10**19)),
                "creationTimestamp": _now(),
                "name": name,
                "network": network["selfLink"],
                "ipCidrRange": str(cidr),
                "gatewayAddress": str(cidr.network_address + 1),
                "region": f"{self._base(request)}/regions/{region}",
                "selfLink": link,
                "privateIpGoogleAccess": False,
                "stackType": "IPV4_ONLY",
            }
            self.store.subnetworks.append(made)
            network.setdefault("subnetworks", []).append(link)
            self.store.created["subnetworks"] += 1
            return self._remember(
                request, self._operation(request, f"regions/{region}", "insert", link, str(made["id"]))
            )

    async def subnetwork(self, request: Request) -> Response:
        """GET or DELETE regions/{r}/subnetworks/{name}."""
        region, name = request.path_params["region"], request.path_params["name"]
        return self._one(request, f"regions/{region}", "subnetworks", name)

    def _expand(self, request: Request, ref: str) -> str:
        """A full selfLink from a partial URL (projects/p/..., global/..., regions/...)."""
        if ref.startswith("https://"):
            return ref
        if ref.startswith("projects/"):
            return f"{request.url.scheme}://{request.url.netloc}/compute/v1/{ref}"
        return f"{self._base(request)}/{ref}"

    # ------------------------------------------------------------------ operations

    async def operation(self, request: Request) -> Response:
        """GET .../operations/{op} or POST .../operations/{op}/wait (returns when DONE, or after a while)."""
        scope = request.path_params.get("scope", "global")
        name = request.path_params["operation"]
        kind = {"zones": "zoneOperations", "regions": "regionOperations"}.get(scope.split("/")[0], "globalOperations")
        waiting = request.url.path.endswith("/wait")
        deadline = time.time() + 2.0
        while True:
            with self.estate.lock:
                failure = self._allowed(
                    request,
                    f"compute.{kind}.get",
                    _COMPUTE_READ_SCOPES,
                )
                if failure is not None:
                    return failure
                self.settle()
                op = self.store.operations.get(name)
                if op is None or op.scope != scope:
                    return _error(
                        404,
                        f"The resource 'projects/{self.estate.project_id}/{scope}/operations/{name}' was not found",
                        "notFound",
                    )
                body = self._op_body(request, op)
            if not waiting or body["status"] == "DONE" or time.time() >= deadline:
                return JSONResponse(body)
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------ Cloud Storage buckets

    async def buckets(self, request: Request) -> Response:
        """POST /storage/v1/b?project= (insert) or GET (list)."""
        project = request.query_params.get("project", "")
        body = await _json(request) if request.method == "POST" else {}
        with self.estate.lock:
            verb = "create" if request.method == "POST" else "list"
            failure = self._storage_allowed(request, verb)
            if failure is not None:
                return failure
            if project != self.estate.project_id:
                return _storage_error(400, "Invalid argument: project.", "invalid")
            if request.method == "GET":
                return JSONResponse(
                    {"kind": "storage#buckets", "items": [copy.deepcopy(b) for b in self.store.buckets.values()]}
                )
            name = str(body.get("name", ""))
            if not _BUCKET.match(name):
                return _storage_error(400, "Invalid bucket name: '" + name + "'", "invalid")
            if name in self.store.buckets:
                return _storage_error(
                    409,
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    "conflict",
                )
            invalid = _labels_error(body.get("labels") or {})
            if invalid:
                return _storage_error(400, invalid.replace("resource.labels", "labels"), "invalid")
            base = f"{request.url.scheme}://{request.url.netloc}/storage/v1"
            bucket = {
                "kind": "storage#bucket",
                "id": name,
                "name": name,
                "selfLink": f"{base}/b/{name}",
                "projectNumber": "1234567890123456789",
                "metageneration": "1",
                "timeCreated": _now(),
                "updated": _now(),
                "location": str(body.get("location") or "US").upper(),
                "locationType": "region",
                "storageClass": str(body.get("storageClass") or "STANDARD"),
                "etag": "CAE=",
                "labels": dict(body.get("labels") or {}),
                "iamConfiguration": {
                    "uniformBucketLevelAccess": {"enabled": True},
                    "publicAccessPrevention": "enforced",
                },
            }
            self.store.buckets[name] = bucket
            self.store.created["buckets"] += 1
            return JSONResponse(bucket)

    async def bucket(self, request: Request) -> Response:
        """GET, PATCH (labels merge; null removes) or DELETE /storage/v1/b/{bucket}."""
        name = request.path_params["bucket"]
        body = await _json(request) if request.method == "PATCH" else {}
        with self.estate.lock:
            verb = {"GET": "get", "PATCH": "update", "DELETE": "delete"}[request.method]
            failure = self._storage_allowed(request, verb)
            if failure is not None:
                return failure
            found = self.store.buckets.get(name)
            if found is None:
                return _storage_error(404, "The specified bucket does not exist.", "notFound")
            if request.method == "DELETE":
                del self.store.buckets[name]
                return Response(status_code=204)
            if request.method == "PATCH":
                labels = dict(found.get("labels") or {})
                for key, value in (body.get("labels") or {}).items():
                    if value is None:
                        labels.pop(key, None)
                    else:
                        labels[key] = value
                invalid = _labels_error(labels)
                if invalid:
                    return _storage_error(400, invalid.replace("resource.labels", "labels"), "invalid")
                found["labels"] = labels
                found["metageneration"] = str(int(found["metageneration"]) + 1)
                found["updated"] = _now()
            return JSONResponse(copy.deepcopy(found))

    def _storage_allowed(self, request: Request, verb: str) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        entry = self.estate.tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if entry is None or entry[1] < time.time():
            return _storage_error(401, "Invalid Credentials", "authError")
        request.scope["state"]["principal"] = entry[0]
        allowed = {p for a in self.estate.accounts.values() if a.email == entry[0] for p in a.permissions}
        if f"storage.buckets.{verb}" not in allowed:
            return _storage_error(
                403,
                f"{entry[0]} does not have storage.buckets.{verb} access to the Google Cloud "
                "Storage bucket. Permission 'storage.buckets." + verb + "' denied on resource "
                "(or it may not exist).",
                "forbidden",
            )
        scopes = (
            _STORAGE_SCOPES
            if verb != "get" and verb != "list"
            else (*_STORAGE_SCOPES, "https://www.googleapis.com/auth/devstorage.read_only")
        )
        if not any(s in self.store.token_scopes.get(header[7:], "").split() for s in scopes):
            return _storage_error(403, "Provided scope(s) are not authorized", "forbidden")
        return None

    def routes(self) -> list[Route]:
        """The routes, to go before the inventory's own."""
        p = "/compute/v1/projects/{project}"
        return [
            Route(p + "/global/operations/{operation}", self.operation, methods=["GET"]),
            Route(p + "/global/operations/{operation}/wait", self.operation, methods=["POST"]),
            Route(p + "/{scope:path}/operations/{operation}", self.operation, methods=["GET"]),
            Route(p + "/{scope:path}/operations/{operation}/wait", self.operation, methods=["POST"]),
            Route(p + "/zones/{zone}/instances", self.instances, methods=["GET", "POST"]),
            Route(p + "/zones/{zone}/disks", self.disks, methods=["GET", "POST"]),
            Route(p + "/zones/{zone}/{kind:str}/{name}", self.zonal, methods=["GET", "DELETE"]),
            Route(p + "/zones/{zone}/{kind:str}/{name}/{verb}", self.action, methods=["POST"]),
            Route(p + "/global/networks", self.networks, methods=["POST"]),
            Route(p + "/global/networks/{name}", self.network, methods=["GET", "DELETE"]),
            Route(p + "/regions/{region}/subnetworks", self.subnetworks, methods=["POST"]),
            Route(p + "/regions/{region}/subnetworks/{name}", self.subnetwork, methods=["GET", "DELETE"]),
            Route("/storage/v1/b", self.buckets, methods=["GET", "POST"]),
            Route("/storage/v1/b/{bucket}", self.bucket, methods=["GET", "PATCH", "DELETE"]),
        ]


async def _json(request: Request) -> dict[str, Any]:
    try:
        parsed = await request.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
