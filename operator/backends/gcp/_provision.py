"""CloudResource provisioning on GCP: Compute Engine inserts with a deterministic name and requestId,
labelled with the owner; Cloud Storage buckets.

    prov = provisioner(GcpConnectionParams(...))            # a ResourceProvisioner
    made = prov.create(request)      # instances.insert?requestId=... (returns at once) -> ProvisionedResource
    prov.observe(ResourceType.VM, made.external_id)         # the selfLink: status, outputs, managed fields
    prov.find(request)               # the instance/disk labelled daytwo-owner=<owner tag> in its zone
    prov.delete(ResourceType.VM, made.external_id)          # instances.delete; True once a GET says 404

Crash safety: every insert carries a requestId derived from ``request.token`` (a UUID v5), which Compute
honours by answering the first insert's operation instead of inserting again; past its memory, the name
(``request.name``) is taken and the insert answers 409 alreadyExists, which is read as "made already" once
the resource's owner label matches. Buckets are named ``request.name`` (names are global; a 409 on a bucket
this project already owns is the same "made already").

VPC networks carry no labels: the owner goes into the network's description (``daytwo-owner=<owner tag>``)
and ``find`` reads it by the deterministic name. A network is custom-mode; its subnets (``settings["subnets"]``
as name=cidr, or one ``default`` subnet of ``settings["cidr"]``) are subnetworks named ``<network>-<subnet>``
in ``request.region``, inserted once the network's operation is DONE (the one wait ``create`` does,
through globalOperations.wait).

In place: labels (instances, disks, buckets), an instance's network tags (securityGroups, instances.setTags),
growing a disk, adding subnetworks. Anything else raises InvalidRequest naming the spec fields.

``managed`` uses the keys and string forms of ``provisioning.managed_view`` (size, publicIp, securityGroups as
network tags, sizeGb, zone, subnets, storageKind, ``tags.<key>`` as the label, lower-cased as GCP keeps it);
an instance's subnetwork is reported as ``subnetLink`` (projects/... path); the image is not reported
(Compute names the image a family resolved to, not the family).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ... import errors as errs
from ...errors import BackendError, Conflict, InvalidRequest, Timeout
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
from ._client import GcpWriteClientFactory, GoogleRestBackend
from ._params import GcpConnectionParams

__all__ = ["GcpProvisioner", "label_value", "provisioner", "request_id"]

_NAMESPACE = uuid.UUID("5f0c2b4e-2a61-4d8e-9a77-6b1d0c3e9d22")  # daytwo's namespace for GCP requestIds
_STATES = {
    "PROVISIONING": ProvisionState.CREATING,
    "STAGING": ProvisionState.CREATING,
    "CREATING": ProvisionState.CREATING,
    "RESTORING": ProvisionState.CREATING,
    "RUNNING": ProvisionState.ACTIVE,
    "READY": ProvisionState.ACTIVE,
    "STOPPING": ProvisionState.ACTIVE,
    "SUSPENDING": ProvisionState.ACTIVE,
    "SUSPENDED": ProvisionState.ACTIVE,
    "TERMINATED": ProvisionState.ACTIVE,  # stopped, but there
    "REPAIRING": ProvisionState.UPDATING,
    "DELETING": ProvisionState.DELETING,
    "FAILED": ProvisionState.FAILED,
}
_IN_PLACE = {"vm": {"securityGroups"}, "volume": {"sizeGb"}, "bucket": set[str](), "network": set[str]()}
# operation error codes that say "try again later" rather than "change the request"
_RETRYABLE_OP_ERRORS = {"QUOTA_EXCEEDED", "ZONE_RESOURCE_POOL_EXHAUSTED", "RESOURCE_NOT_READY", "INTERNAL_ERROR"}


def label_value(text: str) -> str:
    """A GCP label value from any text: lower case, [a-z0-9_-] (others become _), at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]


def _label_key(text: str) -> str:
    key = label_value(text)
    return key if key[:1].isalpha() else f"k{key}"[:63]


def request_id(token: str, verb: str, name: str) -> str:
    """The requestId of one insert: a UUID v5 of the token, the call and the name (same on every retry)."""
    return str(uuid.uuid5(_NAMESPACE, f"{token}/{verb}/{name}"))


def _kind_of_link(external_id: str) -> str:
    path = urlsplit(external_id).path
    if "/storage/v1/b/" in path:
        return "bucket"
    if "/instances/" in path:
        return "vm"
    if "/disks/" in path:
        return "volume"
    if "/global/networks/" in path:
        return "network"
    raise InvalidRequest(f"{external_id!r} is not the selfLink of a GCP instance, disk, network or bucket")


def _last(link: object) -> str:
    return str(link or "").rstrip("/").rsplit("/", 1)[-1]


class GcpProvisioner:
    """Instances, persistent disks, VPC networks (with subnetworks) and Cloud Storage buckets of one project.

    ``wait_seconds`` bounds the one wait ``create`` does (a new network's operation, before its subnets);
    ``sleep`` is the poll pause between operation waits (ends early when the operator stops).
    """

    def __init__(
        self, client: GoogleRestBackend, *, wait_seconds: float = 300.0, sleep: Callable[[float], None] = pause
    ) -> None:
        self._client = client
        params = client.params
        self._project = params.project_id
        self._compute = f"{params.api_base}/projects/{params.project_id}"
        self._storage = params.storage_base
        self._wait_seconds = wait_seconds
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"GcpProvisioner(project={self._project!r}, client={self._client!r})"

    # ------------------------------------------------------------------ plumbing

    def _get(self, url: str, what: str) -> dict[str, Any] | None:
        answer = self._client.call("GET", url, what, passes=frozenset({404}))
        return None if answer.status == 404 else dict(answer.body)

    def _insert(self, url: str, what: str, token: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST an insert with its requestId; the operation, or None when the name exists already (409)."""
        query = {"requestId": request_id(token, "insert", str(body["name"]))}
        answer = self._client.call("POST", url, what, query=query, body=body, passes=frozenset({409}))
        return None if answer.status == 409 else dict(answer.body)

    def _wait(self, operation: Mapping[str, Any] | None, what: str) -> None:
        """Wait for a Compute operation to be DONE (operations.wait, repeated); raise its error if it has one."""
        deadline = time.monotonic() + self._wait_seconds
        while operation is not None:
            if operation.get("status") == "DONE":
                _raise_op_error(operation, what)
                return
            if time.monotonic() > deadline:
                raise Timeout(f"{what}: operation {operation.get('name')} still running after {self._wait_seconds:g}s")
            answer = self._client.call("POST", f"{operation['selfLink']}/wait", f"{what} (wait for the operation)")
            operation = dict(answer.body)
            if operation.get("status") != "DONE":
                self._sleep(0.5)

    def _zone(self, request: ProvisionRequest) -> str:
        zone = str(request.settings.get("zone") or "")
        if zone:
            return zone
        if request.region:
            return f"{request.region}-a"
        raise InvalidRequest("region: a GCP instance or disk needs a region (its zone is <region>-a) or a zone")

    def _region(self, request: ProvisionRequest) -> str:
        if request.region:
            return request.region
        zone = str(request.settings.get("zone") or "")
        if zone.count("-") >= 2:
            return zone.rsplit("-", 1)[0]
        raise InvalidRequest("region: a GCP network's subnets need a region (e.g. us-central1)")

    def _labels(self, request: ProvisionRequest) -> dict[str, str]:
        labels = {_label_key(k): label_value(v) for k, v in request.tags.items() if k != OWNER_TAG_KEY}
        labels[OWNER_TAG_KEY] = label_value(request.owner_tag)
        return labels

    def _owned(self, item: Mapping[str, Any], request: ProvisionRequest, what: str) -> None:
        """A resource found by name must be this request's (owner label/description), else Conflict."""
        owner = label_value(request.owner_tag)
        labels = item.get("labels") or {}
        if labels.get(OWNER_TAG_KEY) == owner or f"{OWNER_TAG_KEY}={request.owner_tag}" in str(
            item.get("description", "")
        ):
            return
        raise Conflict(f"{what}: {item.get('name')} exists already and is not this CloudResource's; pick another name")

    # ------------------------------------------------------------------ the contract

    def find(self, request: ProvisionRequest) -> ProvisionedResource | None:
        """The instance/disk labelled with the owner in the request's zone, or the network/bucket of the
        request's name that carries the owner."""
        kind = provision_kind(request)
        if kind in ("vm", "volume"):
            collection = "instances" if kind == "vm" else "disks"
            url = f"{self._compute}/zones/{self._zone(request)}/{collection}"
            query = {"filter": f'labels.{OWNER_TAG_KEY}="{label_value(request.owner_tag)}"'}
            answer = self._client.call("GET", url, f"find {collection} of {request.owner_tag}", query=query)
            for item in answer.body.get("items") or ():
                return self.observe(request.type, str(item["selfLink"]))
            return None
        url = (
            f"{self._storage}/b/{request.name}"
            if kind == "bucket"
            else f"{self._compute}/global/networks/{request.name}"
        )
        item = self._get(url, f"get {kind} {request.name}")
        if item is None:
            return None
        try:
            self._owned(item, request, f"find {kind}")
        except Conflict:
            return None
        return self.observe(request.type, str(item["selfLink"]))

    def create(self, request: ProvisionRequest) -> ProvisionedResource:
        """Insert with the deterministic name and requestId (returns at once, but for a network's subnets)."""
        kind = provision_kind(request)
        if kind == "vm":
            zone = self._zone(request)
            link = f"{self._compute}/zones/{zone}/instances/{request.name}"
            body = self._instance_body(request, zone)
            if (
                self._insert(
                    f"{self._compute}/zones/{zone}/instances", f"insert instance {request.name}", request.token, body
                )
                is None
            ):
                self._owned(self._get(link, f"get instance {request.name}") or {}, request, "insert instance")
        elif kind == "volume":
            zone = self._zone(request)
            link = f"{self._compute}/zones/{zone}/disks/{request.name}"
            if (
                self._insert(
                    f"{self._compute}/zones/{zone}/disks",
                    f"insert disk {request.name}",
                    request.token,
                    self._disk_body(request, zone),
                )
                is None
            ):
                self._owned(self._get(link, f"get disk {request.name}") or {}, request, "insert disk")
        elif kind == "network":
            link = self._create_network(request)
        else:
            link = self._create_bucket(request)
        found = self.observe(request.type, link)
        return found or ProvisionedResource(link, ProvisionState.CREATING, {"self_link": link})

    def observe(self, type: ResourceType, external_id: str) -> ProvisionedResource | None:
        """GET the resource by its selfLink: state, outputs, managed fields; None when it is gone."""
        kind = _kind_of_link(external_id)
        item = self._get(external_id, f"get {kind} {_last(external_id)}")
        if item is None:
            return None
        if kind == "bucket":
            return self._bucket_view(item)
        if kind == "network":
            return self._network_view(item)
        status = str(item.get("status", ""))
        outputs = {
            "id": str(item.get("id", "")),
            "self_link": str(item.get("selfLink", external_id)),
            "zone": _last(item.get("zone")),
        }
        managed: dict[str, str] = {}
        if kind == "vm":
            outputs["instance_id"] = str(item.get("id", ""))
            outputs["machine_type"] = _last(item.get("machineType"))
            managed.update(self._instance_managed(item, outputs))
        else:
            outputs.update(volume_id=str(item.get("id", "")), size_gb=str(item.get("sizeGb", "")))
            managed.update(storageKind="volume", sizeGb=str(item.get("sizeGb", "")), zone=_last(item.get("zone")))
        managed.update(_label_tags(item))
        state = _STATES.get(status, ProvisionState.CREATING)
        return ProvisionedResource(str(item.get("selfLink", external_id)), state, outputs, managed, status)

    def update(self, request: ProvisionRequest, current: ProvisionedResource) -> ProvisionedResource:
        """setLabels (instances, disks), PATCH labels (buckets), disks.resize (growth); InvalidRequest otherwise."""
        kind = provision_kind(request)
        desired = self._desired(request, kind)
        changed = sorted(
            k
            for k, v in desired.items()
            if not k.startswith("tags.") and k in current.managed and current.managed[k] != v
        )
        added = added_subnets(current.managed.get("subnets", ""), desired.get("subnets", ""))
        refused = [
            "subnet" if k == "subnetLink" else k
            for k in changed
            if k not in _IN_PLACE[kind] and not (k == "subnets" and added)
        ]
        if refused:
            raise InvalidRequest(
                f"{', '.join(refused)} cannot change in place on a GCP {kind} (subnets can only be added); "
                "delete and recreate the CloudResource to change it"
            )
        link = current.external_id
        if added:
            self._insert_subnets(request, link, added)
        if "securityGroups" in changed:
            found = self._get(link, f"get instance {request.name}") or {}
            body = {"items": setting_list(request.settings, "securityGroups"),
                    "fingerprint": (found.get("tags") or {}).get("fingerprint", "")}  # fmt: skip
            answer = self._client.call("POST", f"{link}/setTags", f"set network tags of {request.name}", body=body)
            self._wait(answer.body, f"set network tags of {request.name}")
        if "sizeGb" in changed:
            size = int(desired["sizeGb"])
            if size < int(current.managed.get("sizeGb") or 0):
                raise InvalidRequest(f"sizeGb: a GCP disk can only grow (it has {current.managed['sizeGb']} GB)")
            query = {"requestId": request_id(request.token, f"resize-{size}", request.name)}
            answer = self._client.call(
                "POST", f"{link}/resize", f"resize disk {request.name}", query=query, body={"sizeGb": str(size)}
            )
            self._wait(answer.body, f"resize disk {request.name}")
        tags_now = {k: v for k, v in current.managed.items() if k.startswith("tags.")}
        tags_wanted = {k: v for k, v in desired.items() if k.startswith("tags.")}
        if tags_now != tags_wanted and kind != "network":
            self._relabel(kind, link, request)
        return self.observe(request.type, link) or current

    def delete(self, type: ResourceType, external_id: str) -> bool:
        """DELETE (a network: its subnetworks first, over as many calls as it takes); True once it is gone."""
        kind = _kind_of_link(external_id)
        item = self._get(external_id, f"get {kind} {_last(external_id)}")
        if item is None:
            return True
        if kind == "network" and item.get("subnetworks"):
            for subnet in item["subnetworks"]:
                self._client.call("DELETE", str(subnet), f"delete subnetwork {_last(subnet)}", passes=frozenset({404}))
            return False
        what = f"delete {kind} {_last(external_id)}"
        answer = self._client.call("DELETE", external_id, what, passes=frozenset({404}))
        if answer.status in (204, 404):
            return True
        return self._get(external_id, f"get {kind} {_last(external_id)}") is None

    # ------------------------------------------------------------------ bodies and views

    def _subnet_link(self, request: ProvisionRequest, ref: str) -> str:
        if ref.startswith("https://"):
            return ref
        if ref.startswith("projects/"):
            return f"{self._client.params.api_base}/{ref}"
        if ref.startswith("regions/"):
            return f"{self._compute}/{ref}"
        return f"{self._compute}/regions/{self._region(request)}/subnetworks/{ref}"

    def _instance_body(self, request: ProvisionRequest, zone: str) -> dict[str, Any]:
        settings = request.settings
        size, image = str(settings.get("size") or ""), str(settings.get("image") or "")
        if not size:
            raise InvalidRequest("size: a GCP instance needs a machine type (e.g. e2-medium)")
        if not image.startswith(("projects/", "https://", "global/images/")):
            raise InvalidRequest(
                f"image {image!r}: a GCP image is an image URL or path "
                "(e.g. projects/debian-cloud/global/images/family/debian-12)"
            )
        nic: dict[str, Any] = {}
        if settings.get("subnet"):
            nic["subnetwork"] = self._subnet_link(request, str(settings["subnet"]))
        else:
            nic["network"] = "global/networks/default"
        if settings.get("publicIp"):
            nic["accessConfigs"] = [{"type": "ONE_TO_ONE_NAT", "name": "External NAT", "networkTier": "PREMIUM"}]
        body: dict[str, Any] = {
            "name": request.name,
            "machineType": f"zones/{zone}/machineTypes/{size}",
            "disks": [{"boot": True, "autoDelete": True, "initializeParams": {"sourceImage": image}}],
            "networkInterfaces": [nic],
            "labels": self._labels(request),
        }
        groups = setting_list(settings, "securityGroups")
        if groups:
            body["tags"] = {"items": sorted(groups)}  # network tags: what GCP firewall rules select
        key = str(settings.get("keyName") or "")
        if key:
            if not key.startswith(("ssh-", "ecdsa-")):
                raise InvalidRequest(
                    "keyName: GCP takes the SSH public key text (it goes into the instance's ssh-keys metadata); "
                    "there are no named key pairs"
                )
            body["metadata"] = {"items": [{"key": "ssh-keys", "value": f"daytwo:{key}"}]}
        return body

    def _disk_body(self, request: ProvisionRequest, zone: str) -> dict[str, Any]:
        size = request.settings.get("sizeGb")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise InvalidRequest(f"sizeGb: a volume needs a size in GB (a positive integer), not {size!r}")
        disk_type = str(request.settings.get("diskType") or "pd-balanced")
        return {
            "name": request.name,
            "sizeGb": str(size),
            "type": f"zones/{zone}/diskTypes/{disk_type}",
            "labels": self._labels(request),
        }

    def _subnets(self, request: ProvisionRequest) -> list[tuple[str, str]]:
        entries = setting_list(request.settings, "subnets")
        if not entries:
            cidr = str(request.settings.get("cidr") or "")
            if not cidr:
                raise InvalidRequest("subnets: a GCP network needs subnets (name=cidr) or a cidr for one subnet")
            entries = [f"default={cidr}"]
        pairs = []
        for entry in entries:
            name, _, cidr = entry.partition("=")
            if not name or not cidr:
                raise InvalidRequest(f"subnets: {entry!r} is not name=cidr")
            pairs.append((name, cidr))
        return pairs

    def _create_network(self, request: ProvisionRequest) -> str:
        subnets, region = self._subnets(request), self._region(request)
        link = f"{self._compute}/global/networks/{request.name}"
        body = {
            "name": request.name,
            "autoCreateSubnetworks": False,
            "description": f"{OWNER_TAG_KEY}={request.owner_tag}",
            "routingConfig": {"routingMode": "REGIONAL"},
        }
        what = f"insert network {request.name}"
        operation = self._insert(f"{self._compute}/global/networks", what, request.token, body)
        if operation is None:
            self._owned(self._get(link, f"get network {request.name}") or {}, request, what)
        self._wait(operation, what)
        self._insert_subnets(request, link, subnets, region)
        return link

    def _insert_subnets(
        self, request: ProvisionRequest, link: str, subnets: list[tuple[str, str]], region: str | None = None
    ) -> None:
        """Insert subnetworks <network>-<name> of the network (requestIds per name; 409: there already)."""
        url = f"{self._compute}/regions/{region or self._region(request)}/subnetworks"
        for name, cidr in subnets:
            body = {"name": f"{request.name}-{name}", "network": link, "ipCidrRange": cidr}
            self._insert(url, f"insert subnetwork {request.name}-{name}", request.token, body)

    def _create_bucket(self, request: ProvisionRequest) -> str:
        body = {
            "name": request.name,
            "location": str(request.settings.get("location") or request.region or "US"),
            "storageClass": str(request.settings.get("storageClass") or "STANDARD"),
            "labels": self._labels(request),
            "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"},
        }
        what = f"insert bucket {request.name}"
        answer = self._client.call(
            "POST", f"{self._storage}/b", what, query={"project": self._project}, body=body, passes=frozenset({409})
        )
        link = f"{self._storage}/b/{request.name}"
        if answer.status == 409:
            found = self._get(link, f"get bucket {request.name}")
            if found is None:
                raise Conflict(f"{what}: the name is taken by another project (bucket names are global)")
            self._owned(found, request, what)
        return link

    def _relabel(self, kind: str, link: str, request: ProvisionRequest) -> None:
        labels = self._labels(request)
        if kind == "bucket":
            current = (self._get(link, f"get bucket {request.name}") or {}).get("labels") or {}
            patch: dict[str, Any] = {k: None for k in current if k not in labels}
            patch.update(labels)
            self._client.call("PATCH", link, f"set labels of bucket {request.name}", body={"labels": patch})
            return
        found = self._get(link, f"get {kind} {request.name}") or {}
        body = {"labels": labels, "labelFingerprint": found.get("labelFingerprint", "")}
        answer = self._client.call("POST", f"{link}/setLabels", f"set labels of {kind} {request.name}", body=body)
        self._wait(answer.body, f"set labels of {kind} {request.name}")

    def _desired(self, request: ProvisionRequest, kind: str) -> dict[str, str]:
        """The managed fields the request asks for, normalised as observe() reports them."""
        settings, view = request.settings, managed_view(request)
        wanted = {f"tags.{k}": v for k, v in self._labels(request).items() if k != OWNER_TAG_KEY}
        if kind == "vm":
            wanted["size"] = str(settings.get("size") or "")
            wanted["publicIp"] = view.get("publicIp", "false")
            if "securityGroups" in settings:  # absent: the instance's network tags are not managed
                wanted["securityGroups"] = ",".join(sorted(setting_list(settings, "securityGroups")))
            if settings.get("subnet"):
                wanted["subnetLink"] = _tail(self._subnet_link(request, str(settings["subnet"])))
        elif kind == "volume":
            wanted.update(storageKind="volume", sizeGb=view.get("sizeGb", ""), zone=self._zone(request))
        elif kind == "network":
            wanted = {"subnets": ",".join(sorted(f"{n}={c}" for n, c in self._subnets(request)))}
        else:
            wanted["storageKind"] = "bucket"
        return wanted

    def _instance_managed(self, item: Mapping[str, Any], outputs: dict[str, str]) -> dict[str, str]:
        managed = {"size": _last(item.get("machineType")), "publicIp": "false", "subnetLink": ""}
        managed["securityGroups"] = ",".join(sorted((item.get("tags") or {}).get("items") or ()))
        for nic in item.get("networkInterfaces") or ():
            outputs["private_ip"] = str(nic.get("networkIP", ""))
            managed["subnetLink"] = _tail(str(nic.get("subnetwork", "")))
            for config in nic.get("accessConfigs") or ():
                managed["publicIp"] = "true"
                if config.get("natIP"):
                    outputs["public_ip"] = str(config["natIP"])
            break
        # no "image": Compute reports the image an image family resolved to, not the family asked for
        return managed

    def _network_view(self, item: Mapping[str, Any]) -> ProvisionedResource:
        link = str(item["selfLink"])
        outputs = {"id": str(item.get("id", "")), "self_link": link, "network_id": str(item.get("id", ""))}
        outputs["network"] = str(item.get("name", ""))
        prefix = f"{item.get('name')}-"
        subnets = []
        for subnet_link in item.get("subnetworks") or ():
            subnet = self._get(str(subnet_link), f"get subnetwork {_last(subnet_link)}")
            if subnet is None:
                continue
            short = str(subnet.get("name", "")).removeprefix(prefix)
            outputs[f"subnet:{short}"] = str(subnet.get("selfLink", subnet_link))
            subnets.append(f"{short}={subnet.get('ipCidrRange', '')}")
        managed = {"subnets": ",".join(sorted(subnets))}
        return ProvisionedResource(link, ProvisionState.ACTIVE, outputs, managed, "")

    def _bucket_view(self, item: Mapping[str, Any]) -> ProvisionedResource:
        name = str(item.get("name", ""))
        outputs = {
            "id": str(item.get("id", name)),
            "bucket": name,
            "url": f"gs://{name}",
            "self_link": str(item.get("selfLink", "")),
            "location": str(item.get("location", "")),
        }
        managed = {"storageKind": "bucket", **_label_tags(item)}
        return ProvisionedResource(str(item.get("selfLink", "")), ProvisionState.ACTIVE, outputs, managed, "")


def _tail(link: str) -> str:
    """A selfLink from projects/... on (what the request and the API agree on, whatever the host)."""
    return link[link.find("projects/") :] if "projects/" in link else link


def _label_tags(item: Mapping[str, Any]) -> dict[str, str]:
    return {f"tags.{k}": str(v) for k, v in (item.get("labels") or {}).items() if k != OWNER_TAG_KEY}


def _raise_op_error(operation: Mapping[str, Any], what: str) -> None:
    errors = ((operation.get("error") or {}).get("errors")) or ()
    if not errors:
        return
    first = errors[0]
    code, message = str(first.get("code", "")), str(first.get("message", ""))
    error_type: type[BackendError] = errs.Unavailable if code in _RETRYABLE_OP_ERRORS else errs.InvalidRequest
    raise error_type(f"{what}: {code}: {message}")


def provisioner(params: GcpConnectionParams, *, factory: GcpWriteClientFactory | None = None) -> ResourceProvisioner:
    """The GCP ResourceProvisioner for these connection params (write-scoped clients, cached by a
    process-wide factory unless one is given)."""
    return GcpProvisioner((factory or GcpWriteClientFactory.shared()).get(params))
