"""Multicloud /credentials: list, get, create (Secret + CloudCredential), update and delete, as the caller.

The secret fields are write-only: they go into the Secret through the caller's impersonated identity
and nothing of them is ever answered or logged. A credential still named by other daytwo objects
(``status.users``) is not deleted (409): deleting it would leave them without credentials.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, WriterDep, require
from daytwo.api.errors import ApiError
from daytwo.api.views.multicloud import credentials as views
from fastapi import APIRouter, Path, Response

from .schemas import CredentialCreate, CredentialOut, CredentialUpdate, errors

__all__ = ["router"]

log = logging.getLogger("daytwo.api.multicloud")
router = APIRouter(tags=["multicloud: credentials"])
Reader = Annotated[Principal, require("credentials:read")]
Writer = Annotated[Principal, require("credentials:write")]
IdPath = Annotated[str, Path(min_length=1, max_length=253, description="The credential id (CloudCredential name).")]
KIND = "CloudCredential"


def _get(store: StoreDep, credential_id: str) -> dict[str, Any]:
    found = store.get(KIND, credential_id)
    if found is None:
        raise ApiError(404, f"Credential {credential_id!r} not found", "NOT_FOUND")
    return found


@router.get("/credentials/", response_model=list[CredentialOut], responses=errors(401, 403))
def list_credentials(store: StoreDep, user: Reader) -> list[dict[str, Any]]:
    """Every cloud credential (never a secret value)."""
    return [views.credential_item(obj) for obj in store.list(KIND)]


@router.get("/credentials/{credential_id}", response_model=CredentialOut, responses=errors(401, 403, 404))
def get_credential(credential_id: IdPath, store: StoreDep, user: Reader) -> dict[str, Any]:
    """One credential, with the operator's validation result."""
    return views.credential_item(_get(store, credential_id))


@router.post("/credentials/", status_code=201, response_model=CredentialOut, responses=errors(400, 401, 403, 409, 422))
def create_credential(body: CredentialCreate, store: StoreDep, writer: WriterDep, user: Writer) -> dict[str, Any]:
    """A Secret with the secret fields and a CloudCredential naming it (inventory and billing on)."""
    try:
        secret, data, manifest = views.credential_manifests(body.plain(), user.username)
    except views.InvalidCredential as error:
        raise ApiError(400, str(error), "BAD_REQUEST") from None
    name = manifest["metadata"]["name"]
    if store.get(KIND, name) is not None:
        raise ApiError(409, f"A credential with id {name!r} exists; choose another name", "CONFLICT")
    writer.create_secret(secret, data, views.secret_labels(name))
    try:
        created = writer.create(KIND, manifest)
    except ApiError:
        try:
            writer.delete_secret(secret)
        except ApiError:
            log.warning("could not remove Secret %s after a failed credential create", secret)
        raise
    log.info("credential %s (%s) created by %s", name, body.provider, user.username)
    return views.credential_item(created)


@router.patch("/credentials/{credential_id}", response_model=CredentialOut, responses=errors(400, 401, 403, 404, 422))
def update_credential(
    credential_id: IdPath, body: CredentialUpdate, store: StoreDep, writer: WriterDep, user: Writer
) -> dict[str, Any]:
    """Change the display name, provider fields or secret values (a new secret value is revalidated at once).

    ``provider`` must be the credential's (it cannot change: 409); no other field given changes nothing.
    """
    current = _get(store, credential_id)
    spec = current.get("spec") or {}
    if body.provider != spec.get("provider"):
        raise ApiError(
            409, f"Credential {credential_id!r} is provider {spec.get('provider')}; it cannot change", "CONFLICT"
        )
    data, patch = views.update_patches(body.provider, body.plain())
    if not data and not patch:
        return views.credential_item(current)  # nothing to change
    if data:
        renames = (spec.get("secretRef") or {}).get("keys") or {}
        writer.patch_secret(spec["secretRef"]["name"], {renames.get(k, k): v for k, v in data.items()})
    updated = writer.patch(KIND, credential_id, patch) if patch else current
    return views.credential_item(updated)


@router.delete("/credentials/{credential_id}", status_code=204, responses=errors(401, 403, 404, 409))
def delete_credential(credential_id: IdPath, store: StoreDep, writer: WriterDep, user: Writer) -> Response:
    """Delete the credential (its inventory and billing go with it) and the Secret this API made for it."""
    current = _get(store, credential_id)
    users = [f"{u.get('kind')}/{u.get('name')}" for u in (current.get("status") or {}).get("users") or ()]
    if users:
        raise ApiError(
            409, f"Credential {credential_id!r} is in use by {', '.join(users)}; remove them first", "CONFLICT"
        )
    writer.delete(KIND, credential_id)
    ours = (current["metadata"].get("annotations") or {}).get("daytwo.io/created-by")
    secret = (current.get("spec") or {}).get("secretRef", {}).get("name")
    if ours and secret == views.secret_name(credential_id):
        try:
            writer.delete_secret(secret)
        except ApiError as error:
            if error.status_code != 404:
                raise
    return Response(status_code=204)
