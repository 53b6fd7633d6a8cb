"""horcrux health, Prometheus /metrics, /api/monitoring/* and /api/cluster/nodes from ProxmoxNode status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.views.horcrux import vms as views
from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from ._shared import MEMO, guests, vm_or_404
from .schemas import ClusterNode, Health, MetricHistory, NodeStats, VmStats

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])
KIND = "ProxmoxNode"
#: metric -> the node-stats field holding its current value (network is not stored).
METRICS = {
    "cpu_usage": "cpu_usage",
    "memory_usage": "memory_usage",
    "disk_usage": "disk_usage",
    "network_rx": None,
    "network_tx": None,
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """Guests, node usage and power operations in Prometheus' text format."""
    text = MEMO.get("prometheus", store.version(KIND), lambda: views.prometheus_text(store.list(KIND)))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


@router.get("/api/monitoring/node", response_model=NodeStats, summary="Node statistics (summed over Proxmox nodes)")
def node_stats(store: StoreDep, user: Principal = require("monitoring:read")) -> dict[str, Any]:
    """Usage summed over every online Proxmox node daytwo knows."""
    return views.node_stats(store.list(KIND), datetime.now(UTC))


@router.get("/api/monitoring/vms", response_model=list[VmStats], summary="Statistics of every VM")
def all_vm_stats(store: StoreDep, user: Principal = require("monitoring:read")) -> list[dict[str, Any]]:
    """Power state of every guest (usage is not stored: null)."""
    return [views.vm_stats(g) for g in guests(store)]


@router.get("/api/monitoring/vms/{vm_id}", response_model=VmStats, summary="Statistics of one VM")
def vm_stats(vm_id: str, store: StoreDep, user: Principal = require("monitoring:read")) -> dict[str, Any]:
    """Power state of one guest (usage is not stored: null)."""
    return views.vm_stats(vm_or_404(store, vm_id))


@router.get(
    "/api/monitoring/history/{metric}", response_model=MetricHistory, summary="Metric history (current value only)"
)
def metric_history(
    metric: Annotated[str, Path(pattern="^(cpu_usage|memory_usage|disk_usage|network_rx|network_tx)$")],
    store: StoreDep,
    start: str | None = None,
    end: str | None = None,
    interval: Annotated[int, Query(ge=1, le=86400)] = 60,
    user: Principal = require("monitoring:read"),
) -> dict[str, Any]:
    """daytwo keeps no time series: one sample, the current value (none for network)."""
    field = METRICS[metric]
    data = []
    if field is not None:
        stats = views.node_stats(store.list(KIND), datetime.now(UTC))
        data.append({"timestamp": _now(), "value": float(stats[field])})
    return {"metric": metric, "start": start, "end": end, "interval": interval, "data": data}


@router.get("/api/cluster/nodes", response_model=list[ClusterNode], summary="Cluster nodes")
def cluster_nodes(store: StoreDep, user: Principal = require("nodes:read")) -> list[dict[str, Any]]:
    """Every Proxmox node of every ProxmoxNode."""
    return views.cluster_nodes(store.list(KIND))
