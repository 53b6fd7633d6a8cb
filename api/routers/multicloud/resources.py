"""Multicloud /resources/: list, create (202), get and delete (202) of CloudResources, as the caller.

A create becomes a CloudResource named ``name`` (its id and task id) in the served namespace, provisioned by
the operator through the provider's API; ``configuration.credential_id`` names the CloudCredential (default:
the first Ready credential of ``provider``). Reads come from the cache; ``terraform_output`` is the
resource's ``status.outputs`` (the GET of one adds ``logs``). The deployment logs stream over the WebSocket
in :mod:`.deployments`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from daytwo.api.deps import Principal, StoreDep, WriterDep, require
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.multicloud import resources as views
from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ._shared import found_or_404
from .schemas import errors

__all__ = ["router"]

log = logging.getLogger("daytwo.api.multicloud")
router = APIRouter(tags=["multicloud: resources"])
Reader = Annotated[Principal, require("inventory:read")]
Writer = Annotated[Principal, require("inventory:write")]
IdPath = Annotated[str, Path(min_length=1, max_length=253, description="The resource id (CloudResource name).")]
KIND = "CloudResource"
_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ResourceCreate(BaseModel):
    """A resource to provision."""

    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=_NAME,
        description="Lower-case letters, digits and '-' (it becomes the CloudResource name and the id).",
    )
    provider: Literal["aws", "azure", "gcp"]
    type: Literal["vm", "storage", "network"]
    configuration: dict[str, Any] = Field(default_factory=dict)


class ResourceOut(BaseModel):
    """One resource."""

    id: str
    name: str
    provider: str
    type: str
    status: Literal["provisioning", "active", "failed", "destroying"]
    details: str
    terraform_output: dict[str, Any]
    created_at: str
    updated_at: str


class ResourceAccepted(BaseModel):
    """The answer of a create."""

    id: str
    name: str
    provider: str
    type: str
    status: Literal["provisioning"]
    task_id: str
    message: str


class DestroyAccepted(BaseModel):
    """The answer of a delete."""

    message: str
    task_id: str


def provider_of(store: ObjectStore, obj: dict[str, Any]) -> str | None:
    """The provider of the credential a resource names (before the operator recorded it in status)."""
    ref = (obj.get("spec") or {}).get("credentialsRef") or {}
    credential = store.get("CloudCredential", str(ref.get("name", "")))
    return None if credential is None else (credential.get("spec") or {}).get("provider")


def _get(store: ObjectStore, resource_id: str) -> dict[str, Any]:
    return found_or_404(store, KIND, resource_id, "Resource")


@router.get("/resources/", response_model=list[ResourceOut], responses=errors(401, 403))
def list_resources(store: StoreDep, user: Reader) -> list[dict[str, Any]]:
    """Every resource with its status and outputs."""
    return [views.resource_item(obj, provider_of(store, obj)) for obj in store.list(KIND)]


@router.post("/resources/", status_code=202, response_model=ResourceAccepted, responses=errors(401, 403, 409, 422))
def create_resource(body: ResourceCreate, store: StoreDep, writer: WriterDep, user: Writer) -> dict[str, Any]:
    """Provision a VM, bucket/volume or network (202: poll GET /resources/{id} or stream the WebSocket logs)."""
    if store.get(KIND, body.name) is not None:
        raise ApiError(409, f"A resource with id {body.name!r} exists; choose another name", "CONFLICT")
    try:
        wanted = body.configuration.get("credential_id")
        credential = views.credential_for(body.provider, wanted, store.list("CloudCredential"))
        manifest = views.resource_manifest(body.name, body.type, body.configuration, credential)
    except views.InvalidResource as error:
        raise ApiError(422, str(error), "VALIDATION_ERROR") from None
    writer.create(KIND, manifest)
    log.info("resource %s (%s %s) created by %s", body.name, body.provider, body.type, user.username)
    return {
        "id": body.name,
        "name": body.name,
        "provider": body.provider,
        "type": body.type,
        "status": "provisioning",
        "task_id": body.name,
        "message": "Resource provisioning started",
    }


@router.get("/resources/{resource_id}", response_model=ResourceOut, responses=errors(401, 403, 404))
def get_resource(resource_id: IdPath, store: StoreDep, user: Reader) -> dict[str, Any]:
    """One resource; ``terraform_output`` holds its outputs and ``logs`` its progress lines."""
    obj = _get(store, resource_id)
    return views.resource_item(obj, provider_of(store, obj), with_logs=True)


@router.delete(
    "/resources/{resource_id}", status_code=202, response_model=DestroyAccepted, responses=errors(401, 403, 404)
)
def delete_resource(resource_id: IdPath, store: StoreDep, writer: WriterDep, user: Writer) -> JSONResponse:
    """Destroy the resource (its deletionPolicy decides whether the cloud resource goes too); 202 at once."""
    _get(store, resource_id)
    writer.delete(KIND, resource_id)
    body = {"message": "Resource destruction started", "task_id": resource_id}
    return JSONResponse(body, status_code=202)
