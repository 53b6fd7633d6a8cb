"""The spot manager's GPU views (gpu-types, aggregates, contract aggregates, host VMs, target) from an Estate.

Classification, flavor GPUs, usage and the recommendation are the operator's pure GPU views
(``daytwo.operator.shared.gpuviews``); this module only arranges them in the documented JSON.
NetBox is not part of daytwo, so the hosts' ``tenant`` and ``owner_group`` columns are null.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from daytwo.operator.shared.gpuviews import (
    AggregateInfo,
    GpuUsage,
    aggregate_gpu_usage,
    classify,
    gpu_types,
    host_vms,
    recommend_target,
)

from .estate import Estate

__all__ = [
    "PUBLIC_POOLS",
    "aggregates_view",
    "contract_aggregates_view",
    "gpu_types_view",
    "host_vms_view",
    "pool_view",
    "target_view",
    "type_default_capacity",
]

Rules = Sequence[tuple[str, str]]
#: The pools /api/aggregates/{gpu_type}/{aggregate_type} serves (contracts have their own route).
PUBLIC_POOLS = ("ondemand", "spot", "runpod")


def _summary(usage: GpuUsage) -> dict[str, Any]:
    return {
        "gpu_used": usage.used,
        "gpu_capacity": usage.capacity,
        "gpu_usage_ratio": usage.ratio,
        "gpu_usage_percentage": usage.percentage,
    }


def gpu_types_view(estate: Estate, rules: Rules) -> list[dict[str, Any]]:
    """/api/gpu-types: every GPU type the naming rules find, with its aggregates per pool."""
    views = gpu_types([agg.name for agg in estate.aggregates], rules)
    return [
        {
            "name": gpu,
            "display_name": gpu,
            "aggregates": {
                "ondemand": pools["ondemand"],
                "spot": pools["spot"],
                "runpod": pools["runpod"],
                "contracts": pools["contract"],
            },
        }
        for gpu, pools in sorted(views.items())
    ]


def _of_type(estate: Estate, gpu_type: str, rules: Rules) -> dict[str, list[AggregateInfo]]:
    """pool -> aggregates of ``gpu_type``, primary first (shortest name, as the recommendation orders them)."""
    pools: dict[str, list[AggregateInfo]] = {}
    for agg in estate.aggregates:
        found = classify(agg.name, rules)
        if found is not None and found.gpu_type == gpu_type:
            pools.setdefault(found.pool, []).append(agg)
    for members in pools.values():
        members.sort(key=lambda agg: (len(agg.name), agg.name))
    return pools


def type_default_capacity(estate: Estate, gpu_type: str) -> int:
    """GPUs per host when an aggregate has no ``gpu_per_host`` metadata: the largest flavor of the type.

    A flavor is of the type when its ``gpu_type`` extra spec, or an alias of ``pci_passthrough:alias``,
    names it.
    """
    sizes = [0]
    for flavor in estate.flavors.values():
        aliases = {
            a.partition(":")[0].strip() for a in (flavor.extra_specs.get("pci_passthrough:alias") or "").split(",")
        }
        if flavor.extra_specs.get("gpu_type") == gpu_type or gpu_type in aliases:
            sizes.append(flavor.gpus)
    return max(sizes)


def _host_status(estate: Estate, host: str) -> str:
    hypervisor = estate.hypervisors.get(host)
    if hypervisor is None:
        return "unknown"
    if hypervisor.state == "down":
        return "down"
    return "disabled" if hypervisor.status == "disabled" else "active"


def _host_row(estate: Estate, agg: AggregateInfo, host: str, default_per_host: int) -> dict[str, Any]:
    known = (host,) if host in estate.hypervisors else ()
    on_host = estate.on_host(host)
    usage = aggregate_gpu_usage(AggregateInfo(agg.name, (host,), agg.metadata), on_host, known, default_per_host)
    vms = [s for s in on_host if s.status != "DELETED"]
    return {
        "hostname": host,
        "status": _host_status(estate, host),
        "vm_count": len(vms),
        "gpu_used": usage.used,
        "gpu_capacity": usage.capacity,
        "has_vms": bool(vms),
        "tenant": None,
        "owner_group": None,
        "aggregate": agg.name,
    }


def _rows(estate: Estate, aggregates: Sequence[AggregateInfo], default_per_host: int) -> list[dict[str, Any]]:
    """One row per distinct host of ``aggregates`` (a host in two variants counts once, in the first)."""
    rows: dict[str, dict[str, Any]] = {}
    for agg in aggregates:
        for host in agg.hosts:
            if host not in rows:
                rows[host] = _host_row(estate, agg, host, default_per_host)
    return sorted(rows.values(), key=lambda row: row["hostname"])


def _total(rows: Sequence[dict[str, Any]]) -> GpuUsage:
    return GpuUsage(sum(row["gpu_used"] for row in rows), sum(row["gpu_capacity"] for row in rows))


def _block(estate: Estate, members: Sequence[AggregateInfo], default_per_host: int) -> dict[str, Any]:
    rows = _rows(estate, members, default_per_host)
    variants = [
        {
            "name": agg.name,
            "host_count": len(agg.hosts),
            "gpu_summary": _summary(
                aggregate_gpu_usage(
                    agg, [s for h in agg.hosts for s in estate.on_host(h)], list(estate.hypervisors), default_per_host
                )
            ),
        }
        for agg in members
    ]
    return {"name": members[0].name, "hosts": rows, "gpu_summary": _summary(_total(rows)), "variants": variants}


def aggregates_view(estate: Estate, gpu_type: str, rules: Rules) -> dict[str, Any] | None:
    """/api/aggregates/{gpu_type}: ondemand, spot and runpod blocks (null when absent) and the overview.

    The overview counts every distinct host of the type once, contracts included. None = unknown type.
    """
    pools = _of_type(estate, gpu_type, rules)
    if not pools:
        return None
    default = type_default_capacity(estate, gpu_type)
    view: dict[str, Any] = {
        pool: _block(estate, pools[pool], default) if pools.get(pool) else None for pool in PUBLIC_POOLS
    }
    every = [agg for pool in ("ondemand", "spot", "runpod", "contract") for agg in pools.get(pool, [])]
    overview = _total(_rows(estate, every, default))
    view["gpu_overview"] = {"gpu_usage_ratio": overview.ratio, "gpu_usage_percentage": overview.percentage}
    return view


def pool_view(estate: Estate, gpu_type: str, pool: str, rules: Rules) -> dict[str, Any] | None:
    """/api/aggregates/{gpu_type}/{aggregate_type}: one pool's block; None when the type has no such pool."""
    members = _of_type(estate, gpu_type, rules).get(pool)
    return _block(estate, members, type_default_capacity(estate, gpu_type)) if members else None


def contract_aggregates_view(estate: Estate, gpu_type: str, rules: Rules) -> list[dict[str, Any]]:
    """/api/contract-aggregates/{gpu_type}: each contract aggregate with hosts, usage and tenant info.

    ``primary_tenant`` is the aggregate's ``tenant`` metadata, else the project running most VMs on its
    hosts; ``owner_group`` is the ``owner_group`` metadata (NetBox's column; null without it).
    """
    default = type_default_capacity(estate, gpu_type)
    out = []
    for agg in _of_type(estate, gpu_type, rules).get("contract", []):
        rows = _rows(estate, [agg], default)
        projects = Counter(
            s.project_id for h in agg.hosts for s in estate.on_host(h) if s.project_id and s.status != "DELETED"
        )
        tenant = agg.metadata.get("tenant") or (projects.most_common(1)[0][0] if projects else None)
        out.append(
            {
                "aggregate": agg.name,
                "hosts": rows,
                "gpu_summary": _summary(_total(rows)),
                "tenant_info": {"primary_tenant": tenant, "owner_group": agg.metadata.get("owner_group")},
            }
        )
    return sorted(out, key=lambda entry: entry["aggregate"])


def host_vms_view(estate: Estate, hostname: str) -> dict[str, Any] | None:
    """/api/host-vms/{hostname}: the servers on a host (service host or node name); None = unknown host."""
    host = estate.resolve_host(hostname)
    if not estate.knows_host(host):
        return None
    vms = [
        {
            "id": s.id,
            "name": s.name,
            "status": s.status,
            "flavor": s.flavor,
            "tenant": s.project_id,
            "created": s.created,
            "gpus": s.gpus,
        }
        for s in host_vms(estate.on_host(host), host)
    ]
    return {"hostname": host, "vms": vms, "total_vms": len(vms)}


def _current(estate: Estate, host: str, rules: Rules) -> list[tuple[str, str, str]]:
    """(aggregate, gpu type, pool) of every GPU aggregate the host is in."""
    found = []
    for agg in estate.aggregates:
        pool = classify(agg.name, rules) if host in agg.hosts else None
        if pool is not None:
            found.append((agg.name, pool.gpu_type, pool.pool))
    return found


def target_view(estate: Estate, hostname: str, gpu_type: str | None, rules: Rules) -> dict[str, Any] | None:
    """/api/get-target-aggregate: where the host should go and why; None = unknown host.

    Without ``gpu_type`` the host's own GPU aggregates say it. Running VMs are its ACTIVE servers (the
    same count the migration's RunningVMs check uses).
    """
    host = estate.resolve_host(hostname)
    if not estate.knows_host(host):
        return None
    current = _current(estate, host, rules)
    wanted = gpu_type or next((gpu for _, gpu, _ in current), None)
    running = sum(1 for s in estate.on_host(host) if s.status == "ACTIVE")
    if wanted is None:
        return {
            "hostname": host,
            "gpu_type": None,
            "current_aggregates": [],
            "running_vms": running,
            "recommended_aggregate": None,
            "reasoning": "Host is in no GPU aggregate the naming rules recognise; pass gpu_type to choose one",
        }
    recommendation = recommend_target(host, wanted, estate.aggregates, running, rules)
    return {
        "hostname": host,
        "gpu_type": wanted,
        "current_aggregates": [name for name, gpu, _ in current if gpu == wanted],
        "running_vms": running,
        "recommended_aggregate": recommendation.aggregate,
        "reasoning": recommendation.reasoning,
    }
