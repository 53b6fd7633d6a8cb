"""GPU views over host aggregates: pools from naming rules, GPU usage, host VMs, a recommended target.

Pure: callers pass plain data read from Nova (aggregates, hypervisors, servers with their flavors).
The naming rules come from operator settings (``DAYTWO_AGGREGATE_NAMING``), never from code here,
so a cloud that names its aggregates differently only changes configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "POOLS",
    "VOLATILE_POOLS",
    "AggregateInfo",
    "GpuUsage",
    "PoolOf",
    "Recommendation",
    "ServerInfo",
    "aggregate_gpu_usage",
    "classify",
    "flavor_gpus",
    "gpu_types",
    "host_vms",
    "recommend_target",
]

POOLS = ("ondemand", "spot", "runpod", "contract")
#: Pools whose hosts run preemptible or third-party workloads: moving them out with VMs loses work.
VOLATILE_POOLS = frozenset({"spot", "runpod"})


@dataclass(frozen=True)
class PoolOf:
    """What an aggregate name says: its GPU type and pool."""

    gpu_type: str
    pool: str


@dataclass(frozen=True)
class AggregateInfo:
    """An aggregate as the views need it."""

    name: str
    hosts: tuple[str, ...]
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class ServerInfo:
    """A server as the views need it; ``gpus`` comes from its flavor (see :func:`flavor_gpus`)."""

    id: str
    name: str
    status: str
    host: str | None
    flavor: str
    gpus: int
    project_id: str | None = None
    created: str | None = None


@dataclass(frozen=True)
class GpuUsage:
    """GPUs in use against capacity, in the spot manager's shape."""

    used: int
    capacity: int

    @property
    def ratio(self) -> str:
        """``used/capacity``."""
        return f"{self.used}/{self.capacity}"

    @property
    def percentage(self) -> float:
        """Share in use, 0-100, two decimals (0 when there is no capacity)."""
        return round(100 * self.used / self.capacity, 2) if self.capacity else 0.0


@dataclass(frozen=True)
class Recommendation:
    """Where a host should go, and why, in words a person can check."""

    aggregate: str | None
    reasoning: str


def classify(name: str, rules: Sequence[tuple[str, str]]) -> PoolOf | None:
    """GPU type and pool of an aggregate name by the first matching (pattern, pool) rule; None = not a GPU pool."""
    for pattern, pool in rules:
        match = re.fullmatch(pattern, name)
        if match and match.groupdict().get("gpu"):
            return PoolOf(match.group("gpu"), pool)
    return None


def gpu_types(names: Sequence[str], rules: Sequence[tuple[str, str]]) -> dict[str, dict[str, list[str]]]:
    """GPU type -> pool -> aggregate names (sorted), for every name a rule recognises."""
    views: dict[str, dict[str, list[str]]] = {}
    for name in sorted(names):
        found = classify(name, rules)
        if found is not None:
            pools = views.setdefault(found.gpu_type, {pool: [] for pool in POOLS})
            pools[found.pool].append(name)
    return views


def flavor_gpus(extra_specs: Mapping[str, str]) -> int:
    """GPUs a flavor asks for: ``gpu_count``, else the counts in ``pci_passthrough:alias`` (``H100:8,...``)."""
    count = extra_specs.get("gpu_count")
    if count and count.isdigit():
        return int(count)
    total = 0
    for alias in (extra_specs.get("pci_passthrough:alias") or "").split(","):
        _, _, number = alias.partition(":")
        if number.strip().isdigit():
            total += int(number)
    return total


def aggregate_gpu_usage(
    aggregate: AggregateInfo, servers: Sequence[ServerInfo], hypervisors: Sequence[str], default_per_host: int
) -> GpuUsage:
    """GPU usage of an aggregate: flavor GPUs of the servers on its hosts against per-host capacity.

    Capacity counts member hosts that are known hypervisors, each with the aggregate's
    ``gpu_per_host`` metadata or ``default_per_host`` (the largest GPU flavor of the type).
    """
    members = set(aggregate.hosts)
    per_host = aggregate.metadata.get("gpu_per_host", "")
    capacity_each = int(per_host) if per_host.isdigit() else default_per_host
    known = members & set(hypervisors)
    used = sum(server.gpus for server in servers if server.host in members and server.status != "DELETED")
    return GpuUsage(used, capacity_each * len(known))


def host_vms(servers: Sequence[ServerInfo], host: str) -> list[ServerInfo]:
    """The servers on ``host``, by name."""
    return sorted((server for server in servers if server.host == host), key=lambda server: server.name)


def recommend_target(
    host: str,
    gpu_type: str,
    aggregates: Sequence[AggregateInfo],
    running_vms: int,
    rules: Sequence[tuple[str, str]],
) -> Recommendation:
    """The aggregate ``host`` should move to within ``gpu_type``: idle hosts go to spot, busy ones to on-demand."""
    pools: dict[str, list[str]] = {}
    current: PoolOf | None = None
    for aggregate in aggregates:
        found = classify(aggregate.name, rules)
        if found is None or found.gpu_type != gpu_type:
            continue
        pools.setdefault(found.pool, []).append(aggregate.name)
        if host in aggregate.hosts:
            current = found
    if current is not None and current.pool == "contract":
        return Recommendation(None, f"Host is reserved by a {gpu_type} contract aggregate; contracts move only by hand")
    if running_vms:
        wanted, why = "ondemand", f"Host has {running_vms} running VM(s); on-demand keeps them from being preempted"
    elif current is not None and current.pool == "spot":
        wanted, why = "ondemand", "Host has no running VMs and is already in spot; on-demand makes it sellable again"
    else:
        wanted, why = "spot", "Host has no running VMs, suitable for spot aggregate"
    if current is not None and current.pool == wanted:
        return Recommendation(None, f"{why}; it is already in {wanted}, nothing to move")
    names = sorted(pools.get(wanted) or [], key=lambda name: (len(name), name))
    if not names:
        return Recommendation(None, f"{why}, but no {gpu_type} {wanted} aggregate exists")
    return Recommendation(names[0], why)
