"""Multicloud /resources/: the API's Terraform-shaped bodies <-> CloudResource objects.

``id`` is the CloudResource's name; ``terraform_output`` is ``status.outputs``; ``status`` is provisioning,
active, failed or destroying (from the Ready/Stalled conditions and the deletion timestamp). A create's
``configuration`` keys are the API's (instance_type, ami, subnet_id, key_name, security_groups, ...); they map
onto the CloudResource spec, and the CRD's own validation (CEL) has the last word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from daytwo.crds.base import API_VERSION
from daytwo.crds.cloudresource import CloudResourceSpec

__all__ = [
    "InvalidResource",
    "api_status",
    "credential_for",
    "log_line",
    "resource_item",
    "resource_manifest",
    "settled",
]

KIND = "CloudResource"
_FAILED = {"ProvisioningFailed", "ExternallyDeleted", "UpdateRefused"}
#: configuration key -> spec block key, per type (aliases: the API's Terraform names and daytwo's own).
_VM_KEYS = {
    "instance_type": "size",
    "size": "size",
    "ami": "image",
    "image": "image",
    "subnet_id": "subnet",
    "subnet": "subnet",
    "key_name": "keyName",
    "security_groups": "securityGroups",
    "public_ip": "publicIp",
}
_STORAGE_KEYS = {"kind": "kind", "size_gb": "sizeGb", "zone": "zone"}
_NETWORK_KEYS = {"cidr": "cidr", "subnets": "subnets"}
_BLOCK_KEYS = {"vm": _VM_KEYS, "storage": _STORAGE_KEYS, "network": _NETWORK_KEYS}
#: Keys every type accepts: where, which credential, tags; vpc_id is implied by subnet_id on AWS.
_COMMON = {"region", "credential_id", "tags", "deletion_policy", "vpc_id"}


class InvalidResource(ValueError):
    """The request cannot become a CloudResource; the message says what to fix."""


def _condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    conditions = (obj.get("status") or {}).get("conditions") or ()
    return next((c for c in conditions if c.get("type") == type_), {})


def api_status(obj: Mapping[str, Any]) -> str:
    """provisioning, active, failed or destroying."""
    if obj["metadata"].get("deletionTimestamp"):
        return "destroying"
    ready = _condition(obj, "Ready")
    if ready.get("status") == "True":
        return "active"
    if ready.get("reason") in _FAILED or _condition(obj, "Stalled").get("status") == "True":
        return "failed"
    return "provisioning"


def settled(obj: Mapping[str, Any]) -> bool:
    """Whether the deployment is over (active or failed; a resource being destroyed is not settled)."""
    return api_status(obj) in ("active", "failed")


def _details(spec: Mapping[str, Any], region: str) -> str:
    kind = spec.get("type")
    where = f" in {region}" if region else ""
    if kind == "vm":
        vm = spec.get("vm") or {}
        return f"{vm.get('size')} VM from {vm.get('image')}{where}"
    if kind == "storage":
        storage = spec.get("storage") or {}
        if storage.get("kind") == "volume":
            return f"{storage.get('sizeGb')} GiB volume{where}"
        return f"bucket{where}"
    network = spec.get("network") or {}
    return f"network {network.get('cidr')} with {len(network.get('subnets') or [])} subnet(s){where}"


def resource_item(obj: Mapping[str, Any], provider: str | None, *, with_logs: bool = False) -> dict[str, Any]:
    """One resource in the API's shape; ``with_logs`` adds ``terraform_output.logs`` (the GET of one)."""
    spec, status, metadata = obj.get("spec") or {}, obj.get("status") or {}, obj["metadata"]
    output: dict[str, Any] = dict(status.get("outputs") or {})
    if with_logs:
        output["logs"] = "\n".join(log_line(line) for line in status.get("steps") or ())
    changed = [str(c.get("lastTransitionTime")) for c in status.get("conditions") or () if c.get("lastTransitionTime")]
    created = str(metadata.get("creationTimestamp") or "")
    return {
        "id": metadata["name"],
        "name": metadata["name"],
        "provider": status.get("provider") or provider or "",
        "type": spec.get("type"),
        "status": api_status(obj),
        "details": _details(spec, str(spec.get("region") or "")),
        "terraform_output": output,
        "created_at": created,
        "updated_at": max([created, *changed]),
    }


def log_line(line: Mapping[str, Any]) -> str:
    """``[2024-02-11 22:00:00] message``: the documented deployment-log format."""
    when = str(line.get("time") or "")
    try:
        stamp = datetime.fromisoformat(when.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        stamp = when
    return f"[{stamp}] {line.get('message', '')}"


def credential_for(provider: str, wanted: str | None, credentials: Iterable[Mapping[str, Any]]) -> str:
    """The CloudCredential to provision with: ``wanted`` (it must be of ``provider``), else the first of the
    provider by name that is Ready. InvalidResource says what to create or name."""
    of_provider = sorted(
        (c for c in credentials if (c.get("spec") or {}).get("provider") == provider),
        key=lambda c: str(c["metadata"]["name"]),
    )
    if wanted is not None:
        if not any(c["metadata"]["name"] == wanted for c in of_provider):
            raise InvalidResource(
                f"configuration.credential_id {wanted!r} is not a {provider} credential; see /credentials/"
            )
        return wanted
    ready = [c for c in of_provider if _condition(c, "Ready").get("status") == "True"]
    chosen = ready or of_provider
    if not chosen:
        raise InvalidResource(f"no {provider} credential exists; create one with POST /credentials/ first")
    return str(chosen[0]["metadata"]["name"])


def resource_manifest(name: str, kind: str, configuration: Mapping[str, Any], credential: str) -> dict[str, Any]:
    """The CloudResource for a create request; InvalidResource names an unknown configuration key or a bad value."""
    keys = _BLOCK_KEYS.get(kind)
    if keys is None:
        raise InvalidResource(f"type {kind!r} is not vm, storage or network")
    unknown = sorted(set(configuration) - set(keys) - _COMMON)
    if unknown:
        accepted = ", ".join(sorted(set(keys) | _COMMON))
        raise InvalidResource(f"configuration key(s) {', '.join(unknown)} are not supported for {kind}; use {accepted}")
    block = {keys[k]: v for k, v in configuration.items() if k in keys}
    spec: dict[str, Any] = {
        "credentialsRef": {"kind": "CloudCredential", "name": credential},
        "type": kind,
        kind: block,
    }
    if configuration.get("region"):
        spec["region"] = configuration["region"]
    if configuration.get("tags"):
        spec["tags"] = configuration["tags"]
    if configuration.get("deletion_policy"):
        spec["deletionPolicy"] = configuration["deletion_policy"]
    try:
        CloudResourceSpec.model_validate(spec)
    except ValueError as error:
        first = error.errors()[0] if hasattr(error, "errors") else {"loc": (), "msg": str(error)}
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidResource(f"configuration: {where}: {first['msg']}") from None
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}
