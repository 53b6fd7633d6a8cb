"""Connection parameters for one OpenStack cloud, as the CloudCredential handler reads them from a Secret."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

from ..runtime import RetryPolicy

__all__ = ["OpenStackClientSettings", "OpenStackConnectionParams"]

_SECRET_FIELDS = frozenset({"password", "application_credential_secret"})


@dataclass(frozen=True, slots=True)
class OpenStackConnectionParams:
    """Everything needed to authenticate against Keystone v3 and pick endpoints.

    Exactly one auth method is used: application credentials when
    ``application_credential_id`` is set, otherwise password (``username`` + ``password``).
    ``repr()`` hides the secret fields; ``fingerprint()`` covers them, so a rotated
    Secret yields a different fingerprint and therefore a new, re-authenticated connection.
    """

    auth_url: str
    region: str | None = None
    interface: str = "public"
    project_name: str | None = None
    project_id: str | None = None
    project_domain: str = "Default"
    user_domain: str = "Default"
    username: str | None = None
    password: str | None = None
    application_credential_id: str | None = None
    application_credential_secret: str | None = None
    ca_bundle_pem: str | None = None
    verify_tls: bool = True
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if self.application_credential_id is None and not self.username:
            raise ValueError("either application_credential_id or username is required")

    @property
    def uses_application_credential(self) -> bool:
        """True when the application-credential method authenticates this connection."""
        return self.application_credential_id is not None

    @property
    def secret_values(self) -> tuple[str, ...]:
        """The secret strings, so error messages can be scrubbed of them."""
        return tuple(v for v in (self.password, self.application_credential_secret) if v)

    def fingerprint(self) -> str:
        """A SHA-256 over every field (secrets included); equal params give equal fingerprints."""
        digest = hashlib.sha256()
        for f in fields(self):
            digest.update(f.name.encode())
            digest.update(b"\0")
            digest.update(repr(getattr(self, f.name)).encode())
            digest.update(b"\1")
        return digest.hexdigest()

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS and value is not None:
                shown = "'***'"
            elif f.name == "ca_bundle_pem" and value is not None:
                shown = f"<{len(value)} chars>"
            else:
                shown = repr(value)
            parts.append(f"{f.name}={shown}")
        return f"OpenStackConnectionParams({', '.join(parts)})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class OpenStackClientSettings:
    """How calls are made: per-endpoint concurrency, retry budget and backoff (from operator settings)."""

    max_concurrency_per_endpoint: int = 8
    retry_attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0

    def __post_init__(self) -> None:
        if self.max_concurrency_per_endpoint < 1:
            raise ValueError("max_concurrency_per_endpoint must be >= 1")
        if self.retry_attempts < 1:
            raise ValueError("retry_attempts must be >= 1")

    def retry_policy(self) -> RetryPolicy:
        """The shared retry policy these settings give (``retry_attempts`` counts the first try)."""
        return RetryPolicy(
            retries=self.retry_attempts - 1,
            backoff_seconds=self.backoff_base_seconds,
            max_backoff_seconds=self.backoff_max_seconds,
        )
