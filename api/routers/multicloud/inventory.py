"""Multicloud /inventory: VMs, storage and networks from the CloudCredential inventory ConfigMaps (never a cloud)."""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.errors import ApiError
from daytwo.api.views.multicloud.inventory import page
from fastapi import APIRouter, Path, Query, Response

from ._shared import inventory
from .schemas import InventoryItem, errors

__all__ = ["router"]

router = APIRouter(tags=["multicloud: inventory"])
Reader = Annotated[Principal, require("inventory:read")]
Provider = Annotated[str | None, Query(max_length=32, description="aws, azure, gcp or openstack.")]
Region = Annotated[str | None, Query(max_length=64, description="Region, e.g. us-east-1.")]
Status = Annotated[str | None, Query(max_length=32, description="Status, e.g. running, stopped.")]
Credential = Annotated[str | None, Query(max_length=253, description="Only this credential's resources.")]
Skip = Annotated[int, Query(ge=0, le=1_000_000, description="Pagination offset.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
PAGED = {
    200: {
        "headers": {
            name: {"schema": {"type": "string"}, "description": text}
            for name, text in (
                ("X-Total-Count", "Items matching the filters."),
                ("X-Page-Size", "limit."),
                ("X-Page-Number", "skip // limit + 1."),
            )
        }
    },
    **errors(401, 403, 422),
}


def _list_route(path: str, resource_type: str, name: str, doc: str) -> None:
    """Add ``GET path``: the inventory items of ``resource_type``, filtered and paged (X-Total-Count etc.)."""

    def list_items(
        store: StoreDep,
        response: Response,
        user: Reader,
        provider: Provider = None,
        region: Region = None,
        status: Status = None,
        credential: Credential = None,
        skip: Skip = 0,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        selected = inventory(store).select(
            resource_type, provider=provider, region=region, status=status, credential=credential
        )
        items, headers = page(selected, skip, limit)
        response.headers.update(headers)
        return items

    list_items.__name__ = list_items.__qualname__ = name
    list_items.__doc__ = doc
    router.add_api_route(path, list_items, methods=["GET"], response_model=list[InventoryItem], responses=PAGED)


# before /inventory/{resource_id}, which would otherwise take these paths
_list_route("/inventory/vms", "vm", "list_vms", "Virtual machines, filtered and paged.")
_list_route("/inventory/storage", "storage", "list_storage", "Disks and volumes, filtered and paged.")
_list_route("/inventory/networks", "network", "list_networks", "VPCs, VNets and networks, filtered and paged.")


@router.get("/inventory/{resource_id}", response_model=InventoryItem, responses=errors(401, 403, 404))
def get_resource(
    resource_id: Annotated[str, Path(min_length=1, max_length=2048, description="The item id, or a resource_id.")],
    store: StoreDep,
    user: Reader,
) -> dict[str, Any]:
    """One resource by its id (or its cloud resource_id when that has no slash)."""
    found = inventory(store).find(resource_id)
    if found is None:
        raise ApiError(404, f"Resource {resource_id!r} not found", "NOT_FOUND")
    return found
