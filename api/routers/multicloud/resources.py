"""Multicloud Terraform /resources: nothing in daytwo provisions cloud resources, so each route answers 501."""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.api.deps import Principal, require
from daytwo.api.errors import ApiError
from fastapi import APIRouter, Body, Path

from .schemas import errors

__all__ = ["router"]

router = APIRouter(tags=["multicloud: resources (not implemented)"])
RESPONSES = errors(401, 403, 501)
IdPath = Annotated[str, Path(min_length=1, max_length=253)]


def _unsupported() -> ApiError:
    return ApiError(
        501,
        "Terraform-managed resources are not supported by daytwo: it manages credentials, inventory and billing, "
        "not provisioning; use your Terraform pipeline and see /inventory for what it created",
        "NOT_IMPLEMENTED",
    )


@router.get("/resources/", responses=RESPONSES)
def list_resources(user: Annotated[Principal, require("inventory:read")]) -> None:
    """Not implemented (501)."""
    raise _unsupported()


@router.post("/resources/", responses=RESPONSES)
def create_resource(
    user: Annotated[Principal, require("inventory:write")], body: Annotated[dict[str, Any] | None, Body()] = None
) -> None:
    """Not implemented (501)."""
    raise _unsupported()


@router.get("/resources/{resource_id}", responses=RESPONSES)
def get_resource(resource_id: IdPath, user: Annotated[Principal, require("inventory:read")]) -> None:
    """Not implemented (501)."""
    raise _unsupported()


@router.delete("/resources/{resource_id}", responses=RESPONSES)
def delete_resource(resource_id: IdPath, user: Annotated[Principal, require("inventory:write")]) -> None:
    """Not implemented (501)."""
    raise _unsupported()
