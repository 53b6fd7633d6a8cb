"""horcrux health, Prometheus /metrics, /api/monitoring/* and /api/cluster/nodes.

Node figures: ProxmoxNode ``status.nodes``. Guests and their usage: the guest inventory ConfigMaps (else
the bounded ``status.guests``, usage null). History: the inventories' ``history.json`` samples.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.cached import JsonResponse, dumps
from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.errors import ApiError
from daytwo.api.views.horcrux import history as history_views
from daytwo.api.views.horcrux import vms as views
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from ._shared import guests, inventories, memo, vm_or_404
from .schemas import ClusterNode, Health, MetricHistory, NodeStats, VmStats

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])
KIND = "ProxmoxNode"
#: Set on guest lists while some ProxmoxNode's guests are its bounded status list (its inventory is not written).
COMPLETE_HEADER = "X-Inventory-Complete"


def _now() -> str:
    return format_time(datetime.now(UTC))


@router.get("/api/health", response_model=Health, tags=["health"], summary="Health check (public)")
def health() -> dict[str, Any]:
    """The facade is up."""
    return {"status": "healthy", "version": "1.0.0", "timestamp": _now()}


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    summary="Prometheus metrics of the Proxmox estate",
)
def metrics(store: StoreDep, user: Principal = require("metrics:read")) -> PlainTextResponse:
    """Guests with their usage, node usage and power operations in Prometheus' text format."""
    nodes = inventories(store)
    versions = (nodes, store.version(KIND))
    text = memo(store).get("horcrux-prometheus", versions, lambda: views.prometheus_text(store.list(KIND), nodes))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


@router.get("/api/monitoring/node", response_model=NodeStats, summary="Node statistics (summed over Proxmox nodes)")
def node_stats(store: StoreDep, user: Principal = require("monitoring:read")) -> dict[str, Any]:
    """Usage summed over every online Proxmox node daytwo knows; network: the guests' counters summed."""
    return views.node_stats(store.list(KIND), inventories(store), datetime.now(UTC))


@router.get("/api/monitoring/vms", response_model=list[VmStats], summary="Statistics of every VM")
def all_vm_stats(store: StoreDep, user: Principal = require("monitoring:read")) -> JsonResponse:
    """Usage of every guest at the last inventory pass (rendered once per inventory change); null for guests
    only the bounded status lists (header ``X-Inventory-Complete: false`` then)."""
    nodes = inventories(store)
    body = memo(store).get("horcrux-vm-stats", nodes, lambda: dumps([views.vm_stats(g) for g in guests(store)]))
    return JsonResponse(body, headers={COMPLETE_HEADER: str(views.complete(nodes)).lower()})


@router.get("/api/monitoring/vms/{vm_id}", response_model=VmStats, summary="Statistics of one VM")
def vm_stats(vm_id: str, store: StoreDep, user: Principal = require("monitoring:read")) -> dict[str, Any]:
    """Usage of one guest at the last inventory pass (null while only the bounded status lists it)."""
    return views.vm_stats(vm_or_404(store, vm_id))


@router.get(
    "/api/monitoring/history/{metric}",
    response_model=MetricHistory,
    summary="Metric history (cluster totals sampled at each inventory pass)",
)
def metric_history(
    metric: Annotated[str, Path(pattern="^(cpu_usage|memory_usage|disk_usage|network_rx|network_tx)$")],
    store: StoreDep,
    start: Annotated[str | None, Query(max_length=64, description="ISO 8601; default: the oldest sample")] = None,
    end: Annotated[str | None, Query(max_length=64, description="ISO 8601; default: now")] = None,
    interval: Annotated[int, Query(ge=1, le=86400, description="Seconds per point (samples averaged)")] = 60,
    user: Principal = require("monitoring:read"),
) -> dict[str, Any]:
    """Samples in [start, end] averaged per ``interval`` and summed over the ProxmoxNodes (cpu/memory/disk in
    percent, network as byte counters). Before any guest inventory exists: the current value only."""
    try:
        low, high = history_views.parse_range(start, end)
    except ValueError as error:
        raise ApiError(422, str(error), "VALIDATION_ERROR", {"start": start, "end": end}) from error
    nodes = inventories(store)
    if any(node.samples for node in nodes):
        data = history_views.history_points(nodes, metric, low, high, interval)
    else:
        data = _current(store, metric, low, high)
    return {
        "metric": metric,
        "start": (low and format_time(low)) or (str(data[0]["timestamp"]) if data else None),
        "end": (high and format_time(high)) or (str(data[-1]["timestamp"]) if data else None),
        "interval": interval,
        "data": data,
    }


def _current(store: StoreDep, metric: str, low: datetime | None, high: datetime | None) -> list[dict[str, Any]]:
    """The one sample known without a history: the node stats now (if now is in range)."""
    moment = datetime.now(UTC)
    if (low and moment < low) or (high and moment > high):
        return []
    stats = views.node_stats(store.list(KIND), inventories(store), moment)
    field = {"network_rx": "network_rx_bytes", "network_tx": "network_tx_bytes"}.get(metric, metric)
    value = stats.get(field)
    return [] if value is None else [{"timestamp": format_time(moment), "value": float(value)}]


@router.get("/api/cluster/nodes", response_model=list[ClusterNode], summary="Cluster nodes")
def cluster_nodes(store: StoreDep, user: Principal = require("nodes:read")) -> list[dict[str, Any]]:
    """Every Proxmox node of every ProxmoxNode, with its running guests (from the guest inventories)."""
    return views.cluster_nodes(store.list(KIND), inventories(store))
