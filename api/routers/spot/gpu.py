"""Spot read routes: GPU types, aggregates, contract aggregates, host VMs, recommended target.

All of them read the served CloudCredential's inventory (kind ``compute``) from the cache; none calls
OpenStack. get-target-aggregate is a POST in the reference but only reads, so it needs ``inventory:read``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from daytwo.api.cached import memo
from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.spot import gpu
from fastapi import APIRouter, Path

from .common import SpotSettings, SpotSettingsDep, credential_name, estate, ok
from .models import AggregatesData, Block, ContractAggregate, Envelope, GpuType, HostVms, Target, TargetRequest, errors

__all__ = ["router"]

InventoryReader = Annotated[Principal, require("inventory:read")]

router = APIRouter(tags=["spot: GPU views"])
GpuTypePath = Annotated[
    str, Path(min_length=1, max_length=64, description="GPU type, e.g. L40, RTX-A6000, A100, H100.")
]
HostPath = Annotated[str, Path(min_length=1, max_length=255, description="Compute host or hypervisor node name.")]
ERRORS = errors(
    e401="Not authenticated",
    e403="The role lacks inventory:read",
    e422="Invalid request",
    e503="No OpenStack CloudCredential with a compute inventory yet",
)
NOT_FOUND = {**ERRORS, **errors(e404="Unknown GPU type, pool or host")}


def _view(store: ObjectStore, settings: SpotSettings, key: tuple[str, ...], compute: Any) -> Any:
    """A view memoised on the inventory's version (recomputed when any daytwo ConfigMap changes)."""
    versions = (
        id(settings),
        credential_name(store, settings),
        store.version("ConfigMap"),
        store.version("CloudCredential"),
    )
    return memo(store).get(("spot", *key), versions, lambda: compute(estate(store, settings), settings.naming_rules()))


@router.get("/api/gpu-types", response_model=Envelope[list[GpuType]], responses=ERRORS)
def gpu_types(store: StoreDep, settings: SpotSettingsDep, user: InventoryReader) -> dict[str, Any]:
    """GPU types and their aggregates per pool, from the aggregate naming rules."""
    return ok(_view(store, settings, ("types",), gpu.gpu_types_view))


@router.get("/api/aggregates/{gpu_type}", response_model=Envelope[AggregatesData], responses=NOT_FOUND)
def aggregates(
    store: StoreDep, settings: SpotSettingsDep, gpu_type: GpuTypePath, user: InventoryReader
) -> dict[str, Any]:
    """Ondemand, spot and runpod aggregates of a GPU type with hosts and GPU usage."""
    view = _view(store, settings, ("aggregates", gpu_type), lambda e, r: gpu.aggregates_view(e, gpu_type, r))
    if view is None:
        raise ApiError(404, f"No aggregate of GPU type {gpu_type!r}; see /api/gpu-types", "NOT_FOUND")
    return ok(view)


@router.get("/api/aggregates/{gpu_type}/{aggregate_type}", response_model=Envelope[Block], responses=NOT_FOUND)
def pool(
    store: StoreDep,
    settings: SpotSettingsDep,
    aggregate_type: Literal["ondemand", "spot", "runpod"],
    gpu_type: GpuTypePath,
    user: InventoryReader,
) -> dict[str, Any]:
    """One pool (ondemand, spot or runpod) of a GPU type."""
    view = _view(
        store, settings, ("pool", gpu_type, aggregate_type), lambda e, r: gpu.pool_view(e, gpu_type, aggregate_type, r)
    )
    if view is None:
        raise ApiError(404, f"GPU type {gpu_type!r} has no {aggregate_type} aggregate", "NOT_FOUND")
    return ok(view)


@router.get(
    "/api/contract-aggregates/{gpu_type}", response_model=Envelope[list[ContractAggregate]], responses=NOT_FOUND
)
def contract_aggregates(
    store: StoreDep, settings: SpotSettingsDep, gpu_type: GpuTypePath, user: InventoryReader
) -> dict[str, Any]:
    """Contract aggregates of a GPU type with hosts, usage and tenant info (empty list when none)."""
    return ok(
        _view(store, settings, ("contracts", gpu_type), lambda e, r: gpu.contract_aggregates_view(e, gpu_type, r))
    )


@router.get("/api/host-vms/{hostname}", response_model=Envelope[HostVms], responses=NOT_FOUND)
def host_vms(
    store: StoreDep,
    settings: SpotSettingsDep,
    hostname: HostPath,
    user: InventoryReader,
) -> dict[str, Any]:
    """The VMs on a host."""
    view = _view(store, settings, ("host", hostname), lambda e, r: gpu.host_vms_view(e, hostname))
    if view is None:
        raise ApiError(404, f"Host {hostname!r} is not a known hypervisor or aggregate member", "NOT_FOUND")
    return ok(view)


@router.post(
    "/api/get-target-aggregate",
    response_model=Envelope[Target],
    responses={**NOT_FOUND, **errors(e400="The body is not JSON")},
)
def target(body: TargetRequest, store: StoreDep, settings: SpotSettingsDep, user: InventoryReader) -> dict[str, Any]:
    """The aggregate a host should move to, with the reasoning (idle -> spot, busy -> on-demand)."""
    key = ("target", body.hostname, body.gpu_type or "")
    view = _view(store, settings, key, lambda e, r: gpu.target_view(e, body.hostname, body.gpu_type, r))
    if view is None:
        raise ApiError(404, f"Host {body.hostname!r} is not a known hypervisor or aggregate member", "NOT_FOUND")
    return ok(view)
