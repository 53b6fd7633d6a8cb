"""How to reach one Azure subscription as a service principal: a frozen value the factory caches by."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ...errors import InvalidRequest
from ..checks import require_https
from ..runtime import digest

__all__ = ["AzureConnectionParams"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")  # tenant / subscription: GUIDs, or a tenant domain name


@dataclass(frozen=True, slots=True)
class AzureConnectionParams:
    """spec.azure + the Secret's clientId/clientSecret; the secret never appears in the repr.

    ``authority_host`` is Entra's login endpoint, ``management_endpoint`` ARM's; both can point at a
    local stand-in (their TLS CA in ``ca_bundle_pem``).
    """

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    subscription_id: str
    authority_host: str = "https://login.microsoftonline.com"
    management_endpoint: str = "https://management.azure.com"
    ca_bundle_pem: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not _ID.match(self.tenant_id):
            raise InvalidRequest(f"tenant id {self.tenant_id!r} is not a tenant GUID or domain")
        if not _ID.match(self.subscription_id):
            raise InvalidRequest(f"subscription id {self.subscription_id!r} is not a subscription GUID")
        if not self.client_id or any(c.isspace() or c in "/?#" for c in self.client_id):
            raise InvalidRequest("the client id is empty or not an application id")
        if not self.client_secret:
            raise InvalidRequest(f"the client secret of application {self.client_id} is empty")
        require_https("authority host", self.authority_host)
        require_https("management endpoint", self.management_endpoint)
        if self.timeout_seconds <= 0:
            raise InvalidRequest(f"timeout_seconds must be positive, not {self.timeout_seconds}")

    @property
    def endpoint(self) -> str:
        """host:port of ARM: the key of the per-endpoint concurrency limit."""
        return urlsplit(self.management_endpoint).netloc

    @property
    def arm_base(self) -> str:
        """The management endpoint without a trailing slash."""
        return self.management_endpoint.rstrip("/")

    @property
    def scope(self) -> str:
        """The token scope for ARM: <management endpoint>/.default."""
        return f"{self.arm_base}/.default"

    @property
    def principal(self) -> str:
        """Who these params authenticate as (the factory replaces an older client of the same principal)."""
        return self.client_id

    def fingerprint(self) -> str:
        """A stable digest of every field, secret included, so a rotated secret gives a new client."""
        return digest(
            b"daytwo.azure.v1",
            self.tenant_id,
            self.client_id,
            self.client_secret,
            self.subscription_id,
            self.authority_host,
            self.management_endpoint,
            self.ca_bundle_pem or "",
            repr(float(self.timeout_seconds)),
        )
