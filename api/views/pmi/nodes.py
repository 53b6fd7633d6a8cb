"""pmi nodes and resources from ProxmoxNode objects (status: conditions, nodes, history) and their guests.

A ProxmoxNode is one pmi "node" (a configured Proxmox endpoint); its status holds the cluster nodes'
usage. Its resources (guests) come from its guest inventory ConfigMaps, every guest with usage
(:mod:`.guests`); until those exist, from the bounded ``status.guests`` (at most 50, usage ``None``,
``truncated`` when there are more). The facade never calls Proxmox.

A node's token Secret carries the operator's opt-in label and the facade's mark (:func:`token_secret_labels`);
moving a node (host, port, ssl_verify: :func:`endpoint_changes`) needs its token secret again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from daytwo.api.kubewrite import credential_secret_labels
from daytwo.api.views.platform9.common import iso
from daytwo.api.views.statuses import condition_of, node_status
from daytwo.crds.base import Condition
from daytwo.crds.proxmoxnode import NodeInfo, ProxmoxNodeSpec, ProxmoxNodeStatus, ProxmoxTLS, TokenSecretRef
from daytwo.operator.shared.times import parse_time

from .guests import Guest, NodeGuests

__all__ = [
    "DISPLAY_NAME",
    "ENDPOINT_FIELDS",
    "SECRET_OF",
    "condition",
    "connection",
    "endpoint_changes",
    "node_id_for",
    "node_name",
    "node_patch",
    "node_spec",
    "node_view",
    "proxmoxnode_body",
    "resource_view",
    "resources_view",
    "token_owner",
    "token_secret_labels",
    "token_secret_name",
]

#: Annotation holding the display name pmi showed (CR names are DNS labels).
DISPLAY_NAME = "daytwo.io/display-name"
#: Label naming the ProxmoxNode a facade-made token Secret belongs to.
SECRET_OF = "daytwo.io/proxmox-node"
#: pmi fields that decide where (and how safely) the token is sent: changing one needs the token secret again.
ENDPOINT_FIELDS = ("host", "port", "ssl_verify")


def node_spec(obj: Mapping[str, Any]) -> ProxmoxNodeSpec:
    """The spec of a ProxmoxNode object as its model (defaults filled in)."""
    return ProxmoxNodeSpec.model_validate(obj.get("spec") or {})


def _pct(part: float, whole: float) -> float:
    return round(part * 100.0 / whole, 1) if whole > 0 else 0.0


def condition(obj: Mapping[str, Any] | ProxmoxNodeStatus, type_: str) -> Condition | None:
    """The status condition ``type_`` of a ProxmoxNode (the object, or its parsed status), if any."""
    status = obj if isinstance(obj, ProxmoxNodeStatus) else node_status(obj)
    return condition_of(status.conditions, type_)


def node_name(obj: Mapping[str, Any]) -> str:
    """The display name (annotation) or the object name."""
    metadata = obj.get("metadata") or {}
    return str((metadata.get("annotations") or {}).get(DISPLAY_NAME) or metadata.get("name", ""))


def connection(obj: Mapping[str, Any] | ProxmoxNodeStatus) -> tuple[bool | None, str]:
    """(connected, message) from the Connected condition; None when the operator has not looked yet."""
    entry = condition(obj, "Connected")
    if entry is None:
        return None, "the operator has not contacted this node yet"
    return entry.status == "True", entry.message or entry.reason


def _status_word(status: ProxmoxNodeStatus, nodes: Sequence[NodeInfo]) -> str:
    connected, _ = connection(status)
    if connected is None:
        return "offline"
    if connected:
        return "online" if any(n.online and n.maxmem for n in nodes) else "connected"
    entry = condition(status, "Connected")
    return "offline" if entry is not None and entry.reason == "Unreachable" else "error"


def node_view(obj: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """One pmi node: connection, version and usage summed over the cluster's online nodes."""
    spec, status = node_spec(obj), node_status(obj)
    nodes = [n for n in status.nodes or [] if n.online]
    cpus = sum(n.maxcpu or 0 for n in nodes)
    cpu_weighted = sum((n.cpu or 0.0) * (n.maxcpu or 0) for n in nodes)
    mem, maxmem = sum(n.mem or 0 for n in nodes), sum(n.maxmem or 0 for n in nodes)
    disk, maxdisk = sum(n.disk or 0 for n in nodes), sum(n.maxdisk or 0 for n in nodes)
    booted = [b for b in (iso(n.booted_at) for n in nodes) if b]
    first_boot = parse_time(min(booted)) if booted else None
    uptime = int((now - first_boot).total_seconds()) if first_boot else 0
    connected, _ = connection(status)
    cond = condition(status, "Connected")
    return {
        "id": obj["metadata"]["name"],
        "name": node_name(obj),
        "host": spec.host,
        "port": spec.port,
        "status": _status_word(status, nodes),
        "version": status.version,
        "is_connected": bool(connected),
        "cpu_usage": round(cpu_weighted * 100.0 / cpus, 1) if cpus else 0.0,
        "cpu_count": cpus,
        "memory_usage": mem,
        "memory_total": maxmem,
        "memory_percentage": _pct(mem, maxmem),
        "disk_usage": disk,
        "disk_total": maxdisk,
        "disk_percentage": _pct(disk, maxdisk),
        "uptime": max(uptime, 0),
        "last_connected": iso(cond.last_transition_time) if cond and connected else None,
        "last_updated": iso(status.last_inventory_time),
        "ssl_verify": not spec.tls.insecure_skip_verify,
        "timeout": spec.timeout_seconds,
    }


def resource_view(guest: Guest) -> dict[str, Any]:
    """One VM or container with its usage (None when only the ProxmoxNode's status lists it)."""
    return {
        "vmid": guest.vmid,
        "name": guest.name,
        "node": guest.node or None,
        "type": "lxc" if guest.kind == "lxc" else "qemu",
        "status": guest.status,
        "uptime": guest.uptime,
        "cpu_usage": None if guest.cpu is None else round(guest.cpu * 100.0, 1),
        "cpu_count": guest.cpus,
        "memory_usage": guest.mem,
        "memory_total": guest.maxmem,
        "memory_percentage": None if guest.mem is None or guest.maxmem is None else _pct(guest.mem, guest.maxmem),
        "disk_usage": guest.disk,
        "disk_total": guest.maxdisk,
        "disk_percentage": None if guest.disk is None or guest.maxdisk is None else _pct(guest.disk, guest.maxdisk),
        "network_in": guest.netin,
        "network_out": guest.netout,
        "tags": None if guest.tags is None else list(guest.tags),
        "last_updated": guest.synced_at,
    }


def resources_view(node: NodeGuests) -> dict[str, Any]:
    """``{vms, containers}`` of a ProxmoxNode, the true counts, whether some are missing and where they came from."""
    rows = [resource_view(g) for g in node.guests]
    return {
        "vms": [g for g in rows if g["type"] == "qemu"],
        "containers": [g for g in rows if g["type"] == "lxc"],
        "total_vms": node.total_vms,
        "total_containers": node.total_containers,
        "truncated": not node.complete,
        "source": node.source,
        "synced_at": node.synced_at,
    }


def node_id_for(name: str, taken: set[str], suffix: str) -> str:
    """A ProxmoxNode name for display name ``name``: a DNS label, ``-<suffix>`` added when taken."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower().encode("ascii", "ignore").decode())
    slug = "-".join(part for part in slug.split("-") if part)[:40] or "node"
    if not slug[0].isalpha():
        slug = f"pve-{slug}"[:40]
    return slug if slug not in taken else f"{slug}-{suffix}"


def token_secret_name(node_id: str) -> str:
    """The Secret the facade creates for a node's API token."""
    return f"{node_id}-token"


def token_owner(node_id: str) -> dict[str, str]:
    """The label naming the node a token Secret this API made belongs to."""
    return {SECRET_OF: node_id}


def token_secret_labels(node_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Labels of a token Secret the facade makes: its node, the facade's mark, the operator's opt-in."""
    return {**(extra or {}), "app.kubernetes.io/part-of": "daytwo", **credential_secret_labels(token_owner(node_id))}


def endpoint_changes(spec: ProxmoxNodeSpec, fields: Mapping[str, Any]) -> list[str]:
    """The pmi endpoint fields (host, port, ssl_verify) ``fields`` gives with a value other than the node's."""
    current = {"host": spec.host, "port": spec.port, "ssl_verify": not spec.tls.insecure_skip_verify}
    return [f for f in ENDPOINT_FIELDS if fields.get(f) is not None and fields[f] != current[f]]


def proxmoxnode_body(
    node_id: str, display: str, host: str, port: int, ssl_verify: bool, timeout: int, labels: Mapping[str, str]
) -> dict[str, Any]:
    """The ProxmoxNode pmi's "add node" creates (token in :func:`token_secret_name`); the spec holds the fields
    pmi gave, the apiserver fills in the others' defaults."""
    spec = ProxmoxNodeSpec(
        host=host,
        port=port,
        token_secret_ref=TokenSecretRef(name=token_secret_name(node_id)),
        tls=ProxmoxTLS(insecure_skip_verify=not ssl_verify),
        timeout_seconds=min(timeout, 300),
    )
    return {
        "metadata": {
            "name": node_id,
            "labels": {"app.kubernetes.io/managed-by": "daytwo-api", **labels},
            "annotations": {DISPLAY_NAME: display},
        },
        "spec": _body(spec),
    }


def node_patch(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch of pmi's "update node" (only the fields given; the token is patched separately)."""
    given: dict[str, Any] = {}
    if fields.get("host") is not None:
        given["host"] = fields["host"]
    if fields.get("port") is not None:
        given["port"] = fields["port"]
    if fields.get("ssl_verify") is not None:
        given["tls"] = ProxmoxTLS(insecure_skip_verify=not fields["ssl_verify"])
    if fields.get("timeout") is not None:
        given["timeout_seconds"] = min(int(fields["timeout"]), 300)
    spec = _body(ProxmoxNodeSpec.model_construct(**given))  # a merge patch: only the given fields
    patch: dict[str, Any] = {"spec": spec} if spec else {}
    if fields.get("name"):
        patch["metadata"] = {"annotations": {DISPLAY_NAME: fields["name"]}}
    return patch


def _body(spec: ProxmoxNodeSpec) -> dict[str, Any]:
    """The spec as written to the apiserver: the fields set here (defaults stay the apiserver's), camelCase."""
    return spec.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json")
