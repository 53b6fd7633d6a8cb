"""Which Secrets the operator may read, and where it may send them: the opt-in label and the endpoint binding.

Pure: the handlers read the Secret's metadata and the objects' status, pass plain data in, and refuse
(before any cloud call) when a decision says so.

* **Opt-in label.** A Secret is read only if it carries ``daytwo.io/credential: "true"``
  (:data:`daytwo.crds.secrets.CREDENTIAL_SECRET_LABEL`); otherwise ``SecretNotAllowed``. Whoever may
  create a CloudCredential or a ProxmoxNode but not read Secrets can therefore not point the operator
  at the facade's JWT key or bootstrap admin.
* **Endpoint binding.** Where a credential is sent is a fingerprint of the endpoint fields, the CA
  reference and the TLS flags (:func:`endpoint_fingerprint`). The object stores
  ``status.secretBinding`` (Secret uid, resourceVersion, fingerprint) when it sends the Secret. Moving
  the endpoint without writing the Secret again is ``SecretNotRebound``; a new object that sends an
  already-bound, unchanged Secret elsewhere is ``SecretBoundElsewhere`` (:func:`binding_decision`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from daytwo.crds.cloudcredential import CloudCredentialSpec
from daytwo.crds.proxmoxnode import ProxmoxNodeSpec
from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL, CREDENTIAL_SECRET_LABEL_VALUE

from ..errors import TerminalError

__all__ = [
    "REBOUND_ANNOTATION",
    "REFUSAL_REASONS",
    "Binding",
    "BindingDecision",
    "Bound",
    "SecretRefused",
    "binding_decision",
    "endpoint_fields",
    "endpoint_fingerprint",
    "not_allowed_message",
    "rewrite_hint",
    "typed_spec",
]

#: Condition reasons of a refused Secret (a person has to act: label it, or write it again).
REFUSAL_REASONS = frozenset({"SecretNotAllowed", "SecretNotRebound", "SecretBoundElsewhere"})

#: An annotation to touch a Secret with, so its resourceVersion changes without changing its values.
REBOUND_ANNOTATION = "daytwo.io/rebound-at"
#: Per provider: the spec fields of its block that say where the credential goes (endpoints, CA, TLS).
_ENDPOINT_FIELDS: dict[str, tuple[str, ...]] = {
    "openstack": ("authUrl", "interface", "caSecretRef", "allowInsecureHttp"),
    "aws": ("endpointUrl", "caSecretRef", "allowInsecureHttp"),
    "azure": ("authorityHost", "managementEndpoint", "caSecretRef"),
    "gcp": ("endpointOverride", "tokenUriOverride", "caSecretRef"),
}
#: A spec as the models of ``daytwo.crds`` hold it (their defaults filled in, so an object written with or
#: without them has one fingerprint); a plain mapping is parsed into its kind's model first.
Spec = CloudCredentialSpec | ProxmoxNodeSpec


class SecretRefused(TerminalError):
    """The operator will not read or send this Secret (``reason`` is one of :data:`REFUSAL_REASONS`)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Binding:
    """Which version of which Secret an object last sent, and to where."""

    secret_uid: str
    secret_resource_version: str
    endpoint_fingerprint: str

    @classmethod
    def from_status(cls, status: Mapping[str, Any] | None) -> Binding | None:
        """``status.secretBinding`` of an object, or None when it has none (or an incomplete one)."""
        found = (status or {}).get("secretBinding") or {}
        try:
            return cls(str(found["secretUid"]), str(found["secretResourceVersion"]), str(found["endpointFingerprint"]))
        except KeyError:
            return None

    def to_status(self) -> dict[str, str]:
        """The ``status.secretBinding`` value."""
        return {
            "secretUid": self.secret_uid,
            "secretResourceVersion": self.secret_resource_version,
            "endpointFingerprint": self.endpoint_fingerprint,
        }


# Plain frozen dataclasses: their shape matches others' (duplicate scan), their meaning does not.
@dataclass(frozen=True)
class Bound:
    """Another CloudCredential or ProxmoxNode of the namespace and its binding."""

    kind: str
    name: str
    binding: Binding


@dataclass(frozen=True)
class BindingDecision:
    """Whether the Secret may be sent; when refused, ``reason`` and ``message`` say why and what to do."""

    allowed: bool
    reason: str | None = None
    message: str | None = None

    def refusal(self) -> SecretRefused:
        """The error that carries a refusal into conditions."""
        return SecretRefused(str(self.reason), str(self.message))


def not_allowed_message(secret: str) -> str:
    """The SecretNotAllowed message: names the Secret and the label to add."""
    label = f"{CREDENTIAL_SECRET_LABEL}={CREDENTIAL_SECRET_LABEL_VALUE}"
    return (
        f"Secret {secret!r} is not labelled {label}; daytwo only reads Secrets that opt in: "
        f"kubectl label secret {secret} {label}"
    )


def typed_spec(kind: str, spec: Spec | Mapping[str, Any]) -> Spec:
    """``spec`` as its kind's model (ProxmoxNode or CloudCredential); a model is returned as it is."""
    if isinstance(spec, CloudCredentialSpec | ProxmoxNodeSpec):
        return spec
    model = ProxmoxNodeSpec if kind == "ProxmoxNode" else CloudCredentialSpec
    return model.model_validate(dict(spec))


def _endpoint(kind: str, spec: Spec) -> dict[str, Any]:
    fields: dict[str, Any]
    if isinstance(spec, ProxmoxNodeSpec):
        tls = spec.tls.model_dump(by_alias=True, mode="json")
        fields = {
            "host": spec.host,
            "port": spec.port,
            "caSecretRef": tls["caSecretRef"],
            "insecureSkipVerify": tls["insecureSkipVerify"],
        }
    else:
        provider = str(spec.provider)
        block = getattr(spec, provider)
        dumped = block.model_dump(by_alias=True, mode="json") if block is not None else {}
        fields = {key: dumped.get(key) for key in _ENDPOINT_FIELDS.get(provider, ())}
        fields["provider"] = provider
    fields["kind"] = kind
    return fields


def endpoint_fingerprint(kind: str, spec: Spec | Mapping[str, Any]) -> str:
    """sha256 (hex, 32 characters) of where ``spec`` sends its credential: endpoints, CA reference, TLS flags."""
    canonical = json.dumps(_endpoint(kind, typed_spec(kind, spec)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def endpoint_fields(kind: str, spec: Spec | Mapping[str, Any]) -> str:
    """The spec fields the fingerprint covers, for messages (``spec.openstack.authUrl, ...``)."""
    typed = typed_spec(kind, spec)
    if isinstance(typed, ProxmoxNodeSpec):
        return "spec.host, spec.port or spec.tls"
    provider = str(typed.provider)
    names = [f"spec.{provider}.{key}" for key in _ENDPOINT_FIELDS.get(provider, ())]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def rewrite_hint(secret: str) -> str:
    """How to write a Secret again without changing its values (a no-op apply keeps its resourceVersion)."""
    return f"rotate it, or touch it: kubectl annotate secret {secret} {REBOUND_ANNOTATION}=$(date +%s) --overwrite"


def binding_decision(
    kind: str,
    spec: Spec | Mapping[str, Any],
    secret: str,
    current: Binding,
    stored: Binding | None,
    others: Sequence[Bound],
) -> BindingDecision:
    """May the Secret (as it is now: ``current``) be sent where ``spec`` says?

    ``stored`` is this object's ``status.secretBinding``; ``others`` the bindings of the other
    CloudCredentials and ProxmoxNodes of the namespace (only consulted while ``stored`` is None).

    * no binding yet: allowed, unless another object sent this very version of the Secret (same uid and
      resourceVersion) to a different endpoint: ``SecretBoundElsewhere``;
    * same endpoint: allowed (a rotated Secret just moves the binding to its new version);
    * different endpoint: allowed only if the Secret was written since (uid or resourceVersion differs),
      else ``SecretNotRebound``.
    """
    if stored is None:
        for other in others:
            binding = other.binding
            if (
                binding.secret_uid == current.secret_uid
                and binding.secret_resource_version == current.secret_resource_version
                and binding.endpoint_fingerprint != current.endpoint_fingerprint
            ):
                return BindingDecision(
                    False,
                    "SecretBoundElsewhere",
                    f"Secret {secret!r} is in use for another endpoint by {other.kind}/{other.name}; "
                    f"write the Secret again to use it here ({rewrite_hint(secret)})",
                )
        return BindingDecision(True)
    if stored.endpoint_fingerprint == current.endpoint_fingerprint:
        return BindingDecision(True)
    if (stored.secret_uid, stored.secret_resource_version) != (current.secret_uid, current.secret_resource_version):
        return BindingDecision(True)
    return BindingDecision(
        False,
        "SecretNotRebound",
        f"{endpoint_fields(kind, spec)} changed where this credential is sent; write Secret {secret!r} again "
        f"so daytwo may send it to the new endpoint ({rewrite_hint(secret)})",
    )
