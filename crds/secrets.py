"""The label a Kubernetes Secret carries to opt in to being read by the daytwo operator.

The operator reads a Secret named by a CloudCredential or a ProxmoxNode (``secretRef``,
``tokenSecretRef``, ``caSecretRef``) only if it carries
``daytwo.io/credential: "true"``. Without the opt-in, anyone allowed to create those kinds could
make the operator send any Secret of the namespace to an endpoint of their choosing (a confused
deputy). The facade labels the credential Secrets it creates; its own Secrets (JWT signing key,
bootstrap admin, users, API keys) never carry the label.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from .base import CamelModel

__all__ = ["CREDENTIAL_SECRET_LABEL", "CREDENTIAL_SECRET_LABEL_VALUE", "SecretBinding", "is_credential_secret"]

CREDENTIAL_SECRET_LABEL = "daytwo.io/credential"
"""Label key a Secret must carry for the operator to read it."""

CREDENTIAL_SECRET_LABEL_VALUE = "true"
"""The only label value that opts a Secret in."""


def is_credential_secret(labels: Mapping[str, str] | None) -> bool:
    """Whether Secret ``labels`` opt the Secret in to being read by the operator."""
    return (labels or {}).get(CREDENTIAL_SECRET_LABEL) == CREDENTIAL_SECRET_LABEL_VALUE


class SecretBinding(CamelModel):
    """Which version of the credential Secret the operator last sent, and where to.

    Sending it to another endpoint (a change of endpoint, CA reference or TLS verification) needs the
    Secret written again (a new resourceVersion); until then the object is Ready=False SecretNotRebound.
    """

    secret_uid: str = Field(description="uid of the Secret that was sent.", max_length=64)
    secret_resource_version: str = Field(description="Its resourceVersion when it was sent.", max_length=64)
    endpoint_fingerprint: str = Field(
        description="sha256 (hex, truncated) of the endpoint fields, the CA reference and the TLS flags it was "
        "sent with.",
        max_length=64,
    )
