"""Multicloud /credentials: the API's flat credential bodies <-> a Secret plus a CloudCredential.

Create = a Secret ``<id>-credentials`` with the secret fields (write-only: never read back, never
answered) and a CloudCredential ``<id>`` whose spec names it, with inventory and billing on. ``id`` is
the CloudCredential's name, made from the display name (``AWS Production Account`` ->
``aws-production-account``); the display name and a region the provider block has no place for are
annotations. ``is_active`` is the operator's ``Validated`` condition.

The Secret carries the operator's opt-in label and the facade's mark (:func:`secret_labels`); the facade
rewrites or deletes no other. An update that changes where the credential is sent (an endpoint field of
:data:`ENDPOINT_FIELDS`) must carry the secret again (:data:`RESEND_FIELDS`, :func:`missing_resend`):
otherwise whoever may edit a credential could move its stored secret to a listener of theirs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from daytwo.api.kubewrite import credential_secret_labels
from daytwo.api.views.statuses import credential_status, raw_condition
from daytwo.crds.base import CamelModel
from daytwo.crds.cloudcredential import (
    AwsProvider,
    AzureProvider,
    BillingSync,
    CloudCredentialSpec,
    CredentialSecretRef,
    GcpProvider,
    InventorySync,
    OpenStackProvider,
    Provider,
)
from daytwo.operator.shared.times import format_time

__all__ = [
    "DISPLAY_NAME",
    "ENDPOINT_FIELDS",
    "HTTP_FIELDS",
    "PROVIDER_FIELDS",
    "REGION",
    "RESEND_FIELDS",
    "SECRET_FIELDS",
    "SECRET_OF",
    "credential_item",
    "credential_manifests",
    "credential_name",
    "credential_spec",
    "endpoint_changes",
    "insecure_http",
    "missing_resend",
    "restore_patch",
    "secret_labels",
    "secret_name",
    "secret_owner",
    "update_patches",
]

DISPLAY_NAME = "daytwo.io/display-name"
REGION = "daytwo.io/region"
#: API field -> Secret key (the CloudCredential's logical key names), per provider.
SECRET_FIELDS: dict[str, dict[str, str]] = {
    "aws": {"access_key": "accessKeyId", "secret_key": "secretAccessKey", "session_token": "sessionToken"},
    "azure": {"client_id": "clientId", "client_secret": "clientSecret"},
    "gcp": {"service_account_json": "serviceAccountJson"},
    "openstack": {
        "username": "username",
        "password": "password",
        "application_credential_id": "applicationCredentialId",
        "application_credential_secret": "applicationCredentialSecret",
    },
}
#: The provider block models of CloudCredentialSpec.
_BLOCKS: dict[str, type[CamelModel]] = {
    "aws": AwsProvider,
    "azure": AzureProvider,
    "gcp": GcpProvider,
    "openstack": OpenStackProvider,
}
#: API fields that are provider block fields (the API field is the model's field name), per provider.
_API_BLOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "aws": ("region", "endpoint_url", "assume_role_arn", "allow_insecure_http"),
    "azure": ("tenant_id", "subscription_id", "authority_host", "management_endpoint"),
    "gcp": ("project_id", "endpoint_override", "token_uri_override"),
    "openstack": ("auth_url", "region", "project_name", "allow_insecure_http"),
}
#: API field -> provider block field (camelCase, from the model), per provider.
PROVIDER_FIELDS: dict[str, dict[str, str]] = {
    provider: {field: str(_BLOCKS[provider].model_fields[field].alias) for field in fields}
    for provider, fields in _API_BLOCK_FIELDS.items()
}
_REQUIRED = {
    "aws": (("region", "access_key", "secret_key"),),
    "azure": (("tenant_id", "subscription_id", "client_id", "client_secret"),),
    "gcp": (("project_id", "service_account_json"),),
    "openstack": (
        ("auth_url", "username", "password"),
        ("auth_url", "application_credential_id", "application_credential_secret"),
    ),
}


#: API fields that decide where (or how safely) the secret is sent: changing one needs the secret again.
#: (An OpenStack region only picks endpoints from the catalog of the same Keystone: not listed.)
ENDPOINT_FIELDS: dict[str, tuple[str, ...]] = {
    "aws": ("endpoint_url", "allow_insecure_http"),
    "azure": ("authority_host", "management_endpoint"),
    "gcp": ("endpoint_override", "token_uri_override"),
    "openstack": ("auth_url", "allow_insecure_http"),
}
#: The URL fields that may be http:// only with ``allow_insecure_http: true`` in the same body.
HTTP_FIELDS: dict[str, str] = {"aws": "endpoint_url", "openstack": "auth_url"}
#: The secret fields an endpoint change must carry again, per provider.
RESEND_FIELDS: dict[str, tuple[str, ...]] = {
    "aws": ("access_key", "secret_key"),
    "azure": ("client_secret",),
    "gcp": ("service_account_json",),
    "openstack": ("password",),
}
#: Label naming the credential a facade-made Secret belongs to.
SECRET_OF = "daytwo.io/secret-of"


class InvalidCredential(ValueError):
    """The body cannot become a credential; the message says what to change."""


def credential_name(display: str) -> str:
    """A Kubernetes name from a display name: lower-case, dashes, at most 50 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", display.lower()).strip("-")[:50].strip("-")
    if not slug:
        raise InvalidCredential("name must contain at least one letter or digit")
    return slug if slug[0].isalpha() else f"c-{slug}"[:50]


def secret_name(credential: str) -> str:
    """The Secret holding a credential's values."""
    return f"{credential}-credentials"


def secret_owner(credential: str) -> dict[str, str]:
    """The label naming the credential a Secret this API made belongs to."""
    return {SECRET_OF: credential}


def secret_labels(credential: str) -> dict[str, str]:
    """Labels of the Secret this API makes for a credential: its owner, the facade's mark, the operator's opt-in."""
    return credential_secret_labels(secret_owner(credential))


def _present(body: Mapping[str, Any], field: str) -> bool:
    return body.get(field) not in (None, "")


def credential_manifests(body: Mapping[str, Any], username: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(Secret name, its string data, the CloudCredential body) for a create request (flat API body)."""
    provider = str(body.get("provider", ""))
    if provider not in SECRET_FIELDS:
        raise InvalidCredential(f"provider must be one of {', '.join(SECRET_FIELDS)}")
    values = dict(body)
    if provider == "gcp" and not _present(values, "project_id") and _present(values, "service_account_json"):
        try:
            values["project_id"] = json.loads(str(values["service_account_json"])).get("project_id")
        except (ValueError, AttributeError):
            raise InvalidCredential("service_account_json is not a service account key (JSON)") from None
    options = _REQUIRED[provider]
    if not any(all(_present(values, f) for f in option) for option in options):
        wanted = " or ".join(", ".join(option) for option in options)
        raise InvalidCredential(f"a {provider} credential needs {wanted}")
    name = credential_name(str(values.get("name") or provider))
    data = {key: str(values[field]) for field, key in SECRET_FIELDS[provider].items() if _present(values, field)}
    annotations = {DISPLAY_NAME: str(values.get("name") or name), "daytwo.io/created-by": username}
    if _present(values, "region") and "region" not in PROVIDER_FIELDS[provider]:
        annotations[REGION] = str(values["region"])
    inventory = values.get("inventory") is not False  # absent or null: on
    fields: dict[str, Any] = {
        "provider": Provider(provider),
        "secret_ref": CredentialSecretRef.model_construct(name=secret_name(name)),
        provider: _block(provider, values),
        "inventory": InventorySync.model_construct(enabled=inventory),
        "billing": BillingSync.model_construct(enabled=inventory and values.get("billing") is not False),
    }
    spec = CloudCredentialSpec.model_construct(**fields)
    return secret_name(name), data, {"metadata": {"name": name, "annotations": annotations}, "spec": _body(spec)}


def _block(provider: str, body: Mapping[str, Any]) -> CamelModel:
    """The provider block with the fields ``body`` gives (the others unset: the apiserver's defaults)."""
    given = {field: body[field] for field in PROVIDER_FIELDS[provider] if _present(body, field)}
    return _BLOCKS[provider].model_construct(**given)


def _body(model: CamelModel) -> dict[str, Any]:
    """A spec (or merge patch of one) as written: the fields set here, camelCase. Built without validation:
    the apiserver validates with the same rules (and CEL) and its message is the one the API answers."""
    return model.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json", warnings=False)


def credential_spec(obj: Mapping[str, Any]) -> CloudCredentialSpec:
    """The spec of a CloudCredential object as its model (defaults filled in)."""
    return CloudCredentialSpec.model_validate(obj.get("spec") or {})


def update_patches(provider: str, body: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """(Secret values to merge, CloudCredential merge patch) for an update; empty when nothing changes."""
    data = {key: str(body[field]) for field, key in SECRET_FIELDS[provider].items() if _present(body, field)}
    patch: dict[str, Any] = {}
    annotations: dict[str, str] = {}
    if _present(body, "name"):
        annotations[DISPLAY_NAME] = str(body["name"])
    if _present(body, "region") and "region" not in PROVIDER_FIELDS[provider]:
        annotations[REGION] = str(body["region"])
    if annotations:
        patch["metadata"] = {"annotations": annotations}
    given: dict[str, Any] = {}
    if any(_present(body, field) for field in PROVIDER_FIELDS[provider]):
        given[provider] = _block(provider, body)
    if body.get("inventory") is not None:
        given["inventory"] = InventorySync.model_construct(enabled=bool(body["inventory"]))
    if body.get("billing") is not None:
        given["billing"] = BillingSync.model_construct(enabled=bool(body["billing"]))
    if given:
        patch["spec"] = _body(CloudCredentialSpec.model_construct(**given))
    return data, patch


def _block_of(spec: CloudCredentialSpec, provider: str) -> CamelModel:
    """The spec's block of ``provider`` (its model's defaults when absent)."""
    block: CamelModel | None = getattr(spec, provider)
    return block if block is not None else _BLOCKS[provider].model_construct()


def restore_patch(spec: CloudCredentialSpec, provider: str, fields: list[str]) -> dict[str, Any]:
    """The merge patch putting the API ``fields`` of the provider block back to their values in ``spec``."""
    block = _block_of(spec, provider)
    values = block.model_dump(by_alias=True, mode="json", include=set(fields))
    return {"spec": {provider: values}}


def insecure_http(provider: str, body: Mapping[str, Any], spec: CloudCredentialSpec | None = None) -> str | None:
    """The URL field of ``body`` that is ``http://`` without the opt-out, if any.

    The opt-out is ``allow_insecure_http: true`` in ``body`` or, when ``body`` does not say, already set on
    the credential (``spec``, on update).
    """
    field = HTTP_FIELDS.get(provider)
    if field is None or not str(body.get(field) or "").lower().startswith("http://"):
        return None
    allowed = body.get("allow_insecure_http")
    if allowed is None and spec is not None:
        allowed = getattr(_block_of(spec, provider), "allow_insecure_http", None)
    return None if allowed is True else field


def endpoint_changes(provider: str, spec: CloudCredentialSpec, body: Mapping[str, Any]) -> list[str]:
    """The endpoint fields (:data:`ENDPOINT_FIELDS`) ``body`` gives with a value other than the credential's."""
    block = _block_of(spec, provider)
    return [f for f in ENDPOINT_FIELDS[provider] if _present(body, f) and body[f] != getattr(block, f)]


def missing_resend(provider: str, spec: CloudCredentialSpec, body: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(endpoint fields changed, secret fields to send again that ``body`` lacks); nothing missing: allowed."""
    changed = endpoint_changes(provider, spec, body)
    missing = [f for f in RESEND_FIELDS[provider] if not _present(body, f)] if changed else []
    return changed, missing


def credential_item(obj: Mapping[str, Any]) -> dict[str, Any]:
    """One credential as the API lists it (no secret field, ever)."""
    meta, spec, status = obj["metadata"], credential_spec(obj), credential_status(obj, conditions=False)
    provider = str(spec.provider)
    annotations = meta.get("annotations") or {}
    block = getattr(spec, provider)
    validated, ready = raw_condition(obj, "Validated") or {}, raw_condition(obj, "Ready") or {}
    return {
        "id": meta["name"],
        "provider": provider,
        "name": annotations.get(DISPLAY_NAME) or meta["name"],
        "region": getattr(block, "region", None) or annotations.get(REGION),
        "is_active": validated.get("status") == "True",
        "created_at": meta.get("creationTimestamp"),
        "status": ready.get("reason") or "Pending",
        "message": ready.get("message"),
        "principal": status.identity.principal if status.identity else None,
        "last_validated": format_time(status.last_validated_time) if status.last_validated_time else None,
        "inventory_counts": status.inventory.counts if status.inventory else None,
        "billing_source": status.billing.source if status.billing else None,
    }
