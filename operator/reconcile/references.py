"""Which other objects a daytwo object depends on, and the conditions that follow when they are missing."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from daytwo.crds.cloudcredential import DEFAULT_SECRET_KEYS

from .conditions import ConditionUpdate
from .secretaccess import not_allowed_message

__all__ = ["ObjectRef", "SecretRef", "missing_reference_condition", "object_refs", "secret_refs"]


@dataclass(frozen=True)
class ObjectRef:
    """A daytwo object in the same namespace."""

    kind: str
    name: str


@dataclass(frozen=True)
class SecretRef:
    """A Secret in the same namespace and the keys that must be in it."""

    name: str
    required_keys: tuple[str, ...] = ()
    any_of_keys: tuple[tuple[str, ...], ...] = ()


def object_refs(kind: str, spec: dict[str, Any]) -> list[ObjectRef]:
    """The daytwo objects ``spec`` names (credentialsRef, ruleRef)."""
    refs: list[ObjectRef] = []
    credentials = spec.get("credentialsRef") or spec.get("target", {}).get("credentialsRef")
    if credentials:
        refs.append(ObjectRef(credentials.get("kind", "CloudCredential"), credentials["name"]))
    if kind == "DriftEvent" and spec.get("ruleRef"):
        refs.append(ObjectRef("DriftRule", spec["ruleRef"]))
    return refs


def _renamed(spec: dict[str, Any], logical: str) -> str:
    return str((spec.get("secretRef", {}).get("keys") or {}).get(logical, logical))


def secret_refs(kind: str, spec: dict[str, Any]) -> list[SecretRef]:
    """The Secrets ``spec`` names, with the keys each must hold."""
    if kind == "ProxmoxNode":
        token = spec["tokenSecretRef"]
        refs = [
            SecretRef(token["name"], (token.get("tokenIdKey", "tokenId"), token.get("tokenSecretKey", "tokenSecret")))
        ]
        ca = spec.get("tls", {}).get("caSecretRef")
        if ca:
            refs.append(SecretRef(ca["name"], (ca["key"],)))
        return refs
    if kind == "CloudCredential":
        provider = spec["provider"]
        name = spec["secretRef"]["name"]
        if provider == "openstack":
            password = (_renamed(spec, "username"), _renamed(spec, "password"))
            app_cred = (_renamed(spec, "applicationCredentialId"), _renamed(spec, "applicationCredentialSecret"))
            refs = [SecretRef(name, any_of_keys=(password, app_cred))]
            ca = (spec.get("openstack") or {}).get("caSecretRef")
            if ca:
                refs.append(SecretRef(ca["name"], (ca["key"],)))
            return refs
        required = {
            "aws": ("accessKeyId", "secretAccessKey"),
            "azure": ("clientId", "clientSecret"),
            "gcp": ("serviceAccountJson",),
        }[provider]
        assert set(required) <= set(DEFAULT_SECRET_KEYS[provider])
        return [SecretRef(name, tuple(_renamed(spec, key) for key in required))]
    return []


def missing_reference_condition(
    objects: dict[ObjectRef, bool],
    secrets: dict[SecretRef, set[str] | None],
    not_allowed: Collection[str] = (),
) -> ConditionUpdate | None:
    """A Ready=False update naming the first missing (or refused) reference, or None when all are usable.

    ``objects`` maps each ref to whether it exists; ``secrets`` maps each ref to the Secret's key
    names (None when the Secret does not exist); ``not_allowed`` names the Secrets without the opt-in
    label ``daytwo.io/credential=true`` (SecretNotAllowed, checked before the keys so nothing is said
    about a Secret the operator may not read). Messages say what to create or label.
    """
    for ref, exists in objects.items():
        if not exists:
            reason = "CredentialsNotFound" if ref.kind in ("CloudCredential", "ProxmoxNode") else "ReferenceNotFound"
            return ConditionUpdate(
                "Ready",
                False,
                reason,
                f"{ref.kind} {ref.name!r} does not exist in this namespace; create it or fix the reference",
            )
    for secret, keys in secrets.items():
        if keys is None:
            return ConditionUpdate(
                "Ready", False, "SecretNotFound", f"Secret {secret.name!r} does not exist in this namespace; create it"
            )
        if secret.name in not_allowed:
            return ConditionUpdate("Ready", False, "SecretNotAllowed", not_allowed_message(secret.name))
        missing = [key for key in secret.required_keys if key not in keys]
        if secret.any_of_keys and not any(all(k in keys for k in group) for group in secret.any_of_keys):
            options = " or ".join("+".join(group) for group in secret.any_of_keys)
            return ConditionUpdate("Ready", False, "KeyMissing", f"Secret {secret.name!r} needs keys {options}")
        if missing:
            return ConditionUpdate(
                "Ready", False, "KeyMissing", f"Secret {secret.name!r} has no key(s) {', '.join(missing)}; add them"
            )
    return None
