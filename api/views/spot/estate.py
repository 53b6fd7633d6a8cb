"""The OpenStack estate the spot manager's views read, rebuilt from a CloudCredential's inventory ConfigMaps.

The operator writes ``<cred>-inventory`` (``manifest.json`` + the first chunk of ``records.json``) and
``<cred>-inventory-<n>`` (further chunks). With inventory kind ``compute`` the records include types
``aggregate`` (metadata ``hosts`` comma-joined, ``properties`` JSON, ``availability_zone``),
``hypervisor`` (``host`` = the compute service host) and ``flavor`` (``gpus``, ``extra_specs`` JSON)
next to the ``vm`` records (``host``, ``flavor``, ``gpus``, ``project_id``). Pure: ConfigMap dicts in,
frozen values out (the GPU views' own types from ``daytwo.operator.shared.gpuviews``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from daytwo.operator.shared.gpuviews import AggregateInfo, ServerInfo, flavor_gpus

__all__ = ["Estate", "FlavorInfo", "HypervisorInfo", "estate_of", "inventory_records"]

ConfigMapLookup = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class HypervisorInfo:
    """A compute node: its service host (what aggregates list), node name and state."""

    host: str
    hostname: str
    status: str  # "enabled" / "disabled" / "unknown"
    state: str  # "up" / "down" / "unknown"


@dataclass(frozen=True)
class FlavorInfo:
    """A flavor's GPU facts."""

    name: str
    gpus: int
    extra_specs: Mapping[str, str]


@dataclass(frozen=True)
class Estate:
    """Everything the spot views need, with lookups built once."""

    aggregates: tuple[AggregateInfo, ...] = ()
    zones: Mapping[str, str] = field(default_factory=dict)  # aggregate name -> availability zone
    hypervisors: Mapping[str, HypervisorInfo] = field(default_factory=dict)  # by service host
    servers: tuple[ServerInfo, ...] = ()
    flavors: Mapping[str, FlavorInfo] = field(default_factory=dict)  # by name
    by_host: Mapping[str, tuple[ServerInfo, ...]] = field(default_factory=dict)  # servers per host
    synced_at: str | None = None
    has_compute: bool = False

    def on_host(self, host: str) -> tuple[ServerInfo, ...]:
        """The servers on ``host`` (any status)."""
        return self.by_host.get(host, ())

    def aggregate(self, name: str) -> AggregateInfo | None:
        """The aggregate called ``name``, if any."""
        return next((agg for agg in self.aggregates if agg.name == name), None)

    def resolve_host(self, name: str) -> str:
        """The compute service host for ``name``, which may also be a hypervisor's node name (FQDN)."""
        if name in self.hypervisors:
            return name
        return next((h.host for h in self.hypervisors.values() if h.hostname == name), name)

    def knows_host(self, host: str) -> bool:
        """Whether ``host`` is a hypervisor, an aggregate member or runs a server."""
        return host in self.hypervisors or any(host in agg.hosts for agg in self.aggregates) or host in self.by_host


def inventory_records(
    head: Mapping[str, Any] | None, lookup: ConfigMapLookup
) -> tuple[list[dict[str, Any]], str | None]:
    """All records of an inventory (head ConfigMap + the chunks its manifest lists) and its syncedAt.

    A chunk that is missing (mid-rewrite) is skipped; the next sync completes the view.
    """
    if head is None:
        return [], None
    data = head.get("data") or {}
    try:
        manifest = json.loads(data.get("manifest.json") or "{}")
    except ValueError:
        return [], None
    records: list[dict[str, Any]] = []
    for index, chunk in enumerate(manifest.get("chunks") or []):
        source = head if index == 0 else lookup(str(chunk.get("name", "")))
        text = ((source or {}).get("data") or {}).get("records.json") or "[]"
        try:
            loaded = json.loads(text)
        except ValueError:
            continue
        records.extend(r for r in loaded if isinstance(r, dict))
    synced = manifest.get("syncedAt")
    return records, str(synced) if synced else None


def _json_map(text: str | None) -> dict[str, str]:
    try:
        loaded = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def estate_of(records: Sequence[Mapping[str, Any]], synced_at: str | None = None) -> Estate:
    """The estate in inventory ``records`` (unknown types are ignored)."""
    aggregates: list[AggregateInfo] = []
    zones: dict[str, str] = {}
    hypervisors: dict[str, HypervisorInfo] = {}
    flavors: dict[str, FlavorInfo] = {}
    vms: list[Mapping[str, Any]] = []
    for record in records:
        kind, meta, name = record.get("type"), record.get("metadata") or {}, str(record.get("name") or "")
        if kind == "aggregate":
            hosts = tuple(h for h in str(meta.get("hosts") or "").split(",") if h)
            aggregates.append(AggregateInfo(name, hosts, _json_map(meta.get("properties"))))
            if meta.get("availability_zone"):
                zones[name] = str(meta["availability_zone"])
        elif kind == "hypervisor":
            host = str(meta.get("host") or name.split(".")[0])
            state = str(meta.get("state") or "unknown").lower()
            hypervisors[host] = HypervisorInfo(host, name, str(record.get("status") or "unknown").lower(), state)
        elif kind == "flavor":
            specs = _json_map(meta.get("extra_specs"))
            gpus = _int(meta.get("gpus"))
            flavors[name] = FlavorInfo(name, gpus if gpus is not None else flavor_gpus(specs), specs)
        elif kind == "vm":
            vms.append(record)
    servers = []
    for record in vms:
        meta = record.get("metadata") or {}
        flavor = str(meta.get("flavor") or "")
        gpus = _int(meta.get("gpus"))
        if gpus is None:
            gpus = flavors[flavor].gpus if flavor in flavors else 0
        servers.append(
            ServerInfo(
                id=str(record.get("resource_id") or ""),
                name=str(record.get("name") or ""),
                status=str(record.get("status") or "unknown").upper(),
                host=str(meta["host"]) if meta.get("host") else None,
                flavor=flavor,
                gpus=gpus,
                project_id=str(meta["project_id"]) if meta.get("project_id") else None,
                created=str(record["created_at"]) if record.get("created_at") else None,
            )
        )
    by_host: dict[str, list[ServerInfo]] = {}
    for server in servers:
        if server.host:
            by_host.setdefault(server.host, []).append(server)
    return Estate(
        aggregates=tuple(sorted(aggregates, key=lambda agg: agg.name)),
        by_host={host: tuple(found) for host, found in by_host.items()},
        zones=zones,
        hypervisors=hypervisors,
        servers=tuple(servers),
        flavors=flavors,
        synced_at=synced_at,
        has_compute=bool(aggregates or hypervisors or flavors),
    )
