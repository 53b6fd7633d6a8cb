"""Which other objects a daytwo object depends on, and the conditions that follow when they are missing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from daytwo.crds.cloudcredential import DEFAULT_SECRET_KEYS

from ..errors import BackendError, CredentialsNotFound
from .conditions import ConditionUpdate
from .secretaccess import SecretRefused, not_allowed_message

__all__ = [
    "REFERENCE_REASONS",
    "ObjectRef",
    "SecretMeta",
    "SecretRef",
    "credential_endpoint",
    "credential_reference_condition",
    "missing_reference_condition",
    "object_refs",
    "reference_error",
    "secret_refs",
]

#: Ready reasons that mean "a referenced object or Secret is missing or refused": the object backs off and
#: is retried when the reference changes, not on a fixed short delay.
REFERENCE_REASONS = frozenset(
    {"CredentialsNotFound", "ReferenceNotFound", "SecretNotFound", "SecretNotAllowed", "KeyMissing"}
)


# Duplicate scan: frozen dataclasses like shared/gpuviews' in shape only; deliberate (unrelated values).
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


@dataclass(frozen=True)
class SecretMeta:
    """What the operator keeps of a Secret in memory: no values; key names only when it opted in."""

    resource_version: str
    allowed: bool
    keys: frozenset[str] = frozenset()


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


def _url_endpoint(provider: str, url: str | None, default: str) -> str:
    """``provider:host[:port]`` of an API URL (scheme and path dropped), or ``provider:default``."""
    netloc = urlsplit(url).netloc if url else ""
    return f"{provider}:{netloc or default}"


def credential_endpoint(kind: str, spec: Mapping[str, Any]) -> str:
    """The cloud endpoint a CloudCredential or ProxmoxNode talks to (what concurrency limits are per):
    a Proxmox host:port, a Keystone host, an AWS region or endpoint override, an Azure or GCP API host."""
    if kind == "ProxmoxNode":
        return f"proxmox:{spec.get('host')}:{spec.get('port', 8006)}"
    provider = str(spec.get("provider"))
    block = spec.get(provider) or {}
    if provider == "openstack":
        return _url_endpoint(provider, block.get("authUrl"), "keystone")
    if provider == "aws":
        return _url_endpoint(provider, block.get("endpointUrl"), str(block.get("region")))
    if provider == "azure":
        return _url_endpoint(provider, block.get("managementEndpoint"), "management.azure.com")
    return _url_endpoint(provider, block.get("endpointOverride"), "googleapis.com")


def credential_reference_condition(
    ref: ObjectRef, spec: Mapping[str, Any] | None, secrets: Mapping[str, SecretMeta]
) -> ConditionUpdate | None:
    """Whether a user (DriftRule, SnapshotPolicy...) can use the credential ``ref`` names, from what is in
    memory: ``spec`` of the credential (None when it does not exist) and the Secrets of the namespace by
    name. Ready=False CredentialsNotFound (missing credential, Secret or key) or SecretNotAllowed, else None.

    A pre-check only: the values are still read, and the opt-in label and endpoint binding checked again,
    where the backend is built (``handlers.credentials``).
    """
    if spec is None:
        return missing_reference_condition({ref: False}, {})
    refs = secret_refs(ref.kind, dict(spec))
    keys = {secret: (None if secret.name not in secrets else set(secrets[secret.name].keys)) for secret in refs}
    refused = [secret.name for secret in refs if secret.name in secrets and not secrets[secret.name].allowed]
    problem = missing_reference_condition({}, keys, refused)
    if problem is None or problem.reason == "SecretNotAllowed":
        return problem
    return ConditionUpdate("Ready", False, "CredentialsNotFound", f"{ref.kind} {ref.name!r}: {problem.message}")


def reference_error(problem: ConditionUpdate) -> BackendError:
    """The error building the backend would raise for a broken reference found in memory (``problem``, a
    Ready=False update of :func:`credential_reference_condition`): SecretRefused for a Secret without the
    opt-in label, else CredentialsNotFound; either way with the same message, and no call made."""
    if problem.reason == "SecretNotAllowed":
        return SecretRefused(problem.reason, problem.message)
    return CredentialsNotFound(problem.message)
