"""Multicloud /credentials: list, get, create (Secret + CloudCredential), update and delete, as the caller.

The secret fields are write-only: they go into the Secret through the caller's impersonated identity
and nothing of them is ever answered or logged. A credential still named by other daytwo objects
(``status.users``) is not deleted (409): deleting it would leave them without credentials.

Only Secrets this API made (``app.kubernetes.io/managed-by: daytwo-api`` and ``daytwo.io/secret-of: <id>``)
are rewritten or deleted; a credential whose Secret someone else made gets its secret values from
them (409). Changing an endpoint field needs the secret again in the same request (422 naming the
fields, nothing changed); the credential is patched first, then its Secret rewritten, so the
operator sees the new endpoint together with a Secret written after it.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, WriterDep, require
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import Writer as KubeWriter
from daytwo.api.kubewrite import owned_secret, preconditions_of
from daytwo.api.routers.secrets import owned_or_conflict
from daytwo.api.views.multicloud import credentials as views
from daytwo.api.views.statuses import credential_status
from daytwo.crds.cloudcredential import CloudCredentialSpec
from fastapi import APIRouter, Path, Response
from fastapi.exceptions import RequestValidationError

from ._shared import found_or_404
from .schemas import CredentialCreate, CredentialOut, CredentialUpdate, errors

__all__ = ["router"]

log = logging.getLogger("daytwo.api.multicloud")
# Duplicate scan: the same preamble (router, permission aliases, id path, kind) as resources.py; deliberate
# because each names its own permissions and kind.
router = APIRouter(tags=["multicloud: credentials"])
Reader = Annotated[Principal, require("credentials:read")]
Writer = Annotated[Principal, require("credentials:write")]
IdPath = Annotated[str, Path(min_length=1, max_length=253, description="The credential id (CloudCredential name).")]
KIND = "CloudCredential"


def _get(store: StoreDep, credential_id: str) -> dict[str, Any]:
    return found_or_404(store, KIND, credential_id, "Credential")


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
    """A Secret with the secret fields and a CloudCredential naming it (inventory and billing on).

    An http:// auth_url or endpoint_url needs ``allow_insecure_http: true`` (422 otherwise).
    """
    _refuse_insecure_http(body.provider, body.plain())
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


@router.patch(
    "/credentials/{credential_id}", response_model=CredentialOut, responses=errors(400, 401, 403, 404, 409, 422)
)
def update_credential(
    credential_id: IdPath, body: CredentialUpdate, store: StoreDep, writer: WriterDep, user: Writer
) -> dict[str, Any]:
    """Change the display name, provider fields or secret values (a new secret value is revalidated at once).

    ``provider`` must be the credential's (it cannot change: 409); no other field given changes nothing.
    A new endpoint (auth_url, endpoint_url, authority_host, ...) needs the secret in the same request
    (422 naming the fields: password; access_key and secret_key; client_secret; service_account_json).
    Secret values are rewritten only in a Secret this API made for the credential (409 otherwise).
    """
    current = _get(store, credential_id)
    spec = views.credential_spec(current)
    if body.provider != spec.provider:
        raise ApiError(409, f"Credential {credential_id!r} is provider {spec.provider}; it cannot change", "CONFLICT")
    plain = body.plain()
    _refuse_insecure_http(body.provider, plain, spec)
    changed, missing = views.missing_resend(body.provider, spec, plain)
    if missing:
        raise RequestValidationError([_resend_error(field, changed) for field in missing])
    data, patch = views.update_patches(body.provider, plain)
    if not data and not patch:
        return views.credential_item(current)  # nothing to change
    secret = _owned(writer, spec, credential_id) if data else None
    updated = writer.patch(KIND, credential_id, patch) if patch else current
    if secret is not None:
        renames = spec.secret_ref.keys or {}
        try:
            writer.patch_secret(
                spec.secret_ref.name,
                {renames.get(k, k): v for k, v in data.items()},
                views.secret_labels(credential_id),
                secret.get("resourceVersion"),
            )
        except ApiError:
            if changed:  # the new endpoint must not stay without the Secret written for it
                _undo(writer, credential_id, body.provider, spec, changed)
            raise
    return views.credential_item(updated)


def _refuse_insecure_http(provider: str, body: dict[str, Any], spec: CloudCredentialSpec | None = None) -> None:
    """422 (FastAPI's shape) when an http:// endpoint comes without the opt-out (in ``body`` or already in ``spec``)."""
    field = views.insecure_http(provider, body, spec)
    if field is not None:
        message = (
            f"{field} is http://: the credential would be sent unencrypted; use https://, or set "
            "allow_insecure_http: true in the same request (only for a loopback stand-in or a lab)"
        )
        raise RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": message}])


def _resend_error(field: str, changed: list[str]) -> dict[str, Any]:
    """One FastAPI-shaped validation error: ``field`` must be sent again with the endpoint change."""
    return {
        "type": "missing",
        "loc": ("body", field),
        "msg": f"Changing {', '.join(changed)} sends this credential somewhere new: send {field} again in the same "
        "request (nothing was changed)",
    }


def _owned(writer: KubeWriter, spec: CloudCredentialSpec, credential_id: str) -> dict[str, Any]:
    """The metadata of the credential's Secret if this API made it for this credential, else 409."""
    fix = "change its values where it was made (kubectl), or create the credential through this API"
    owner = views.secret_owner(credential_id)
    return owned_or_conflict(writer, spec.secret_ref.name, owner, f"credential {credential_id!r}", fix)


def _undo(writer: KubeWriter, credential_id: str, provider: str, spec: CloudCredentialSpec, changed: list[str]) -> None:
    """Put the endpoint fields back after the Secret could not be rewritten (best effort, logged)."""
    try:
        writer.patch(KIND, credential_id, views.restore_patch(spec, provider, changed))
    except ApiError:
        log.warning("credential %s: could not restore %s after its Secret was not rewritten", credential_id, changed)


@router.delete("/credentials/{credential_id}", status_code=204, responses=errors(401, 403, 404, 409))
def delete_credential(credential_id: IdPath, store: StoreDep, writer: WriterDep, user: Writer) -> Response:
    """Delete the credential (its inventory and billing go with it) and the Secret this API made for it (only that)."""
    current = _get(store, credential_id)
    users = [f"{u.kind}/{u.name}" for u in credential_status(current, conditions=False).users or ()]
    if users:
        raise ApiError(
            409, f"Credential {credential_id!r} is in use by {', '.join(users)}; remove them first", "CONFLICT"
        )
    writer.delete(KIND, credential_id)
    secret = views.credential_spec(current).secret_ref.name
    found = owned_secret(writer, secret, views.secret_owner(credential_id)) if secret else None
    if found is not None:  # only the Secret this API made for it; a kubectl-made one stays
        try:
            writer.delete_secret(secret, preconditions_of(found))
        except ApiError as error:
            if error.status_code not in (404, 409):  # gone, or replaced since: not ours to delete
                raise
    return Response(status_code=204)
