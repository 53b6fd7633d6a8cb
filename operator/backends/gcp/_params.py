"""How to reach one GCP project as a service account: a frozen value the factory caches by."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...errors import InvalidRequest
from ..checks import require_https
from ..runtime import digest

__all__ = ["GcpConnectionParams"]

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REQUIRED = ("type", "client_email", "private_key", "private_key_id")


@dataclass(frozen=True, slots=True)
class GcpConnectionParams:
    """spec.gcp + the Secret's serviceAccountJson; the key never appears in the repr or an error.

    ``endpoint_override`` replaces https://compute.googleapis.com, ``token_uri_override`` the key's
    token_uri; both can point at a local stand-in (its TLS CA in ``ca_bundle_pem``).
    """

    service_account_json: str = field(repr=False)
    project_id: str
    endpoint_override: str | None = None
    token_uri_override: str | None = None
    ca_bundle_pem: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0
    page_size: int = 500

    def __post_init__(self) -> None:
        if not _PROJECT.match(self.project_id):
            raise InvalidRequest(f"project id {self.project_id!r} is not a GCP project id")
        info = self.key_info()  # validates the JSON's shape (messages never quote its content)
        if info.get("type") != "service_account":
            raise InvalidRequest("serviceAccountJson is not a service account key (type must be service_account)")
        for name, url in (("endpoint override", self.endpoint_override), ("token URI", self.token_uri_override)):
            if url is not None:
                require_https(name, url)
        if self.timeout_seconds <= 0:
            raise InvalidRequest(f"timeout_seconds must be positive, not {self.timeout_seconds}")
        if not 1 <= self.page_size <= 500:
            raise InvalidRequest(f"page_size must be 1-500 (the Compute API's maxResults), not {self.page_size}")

    def key_info(self) -> dict[str, Any]:
        """The parsed key JSON, with the token URI override applied."""
        try:
            info = json.loads(self.service_account_json)
        except ValueError:
            info = None
        if not isinstance(info, dict):
            raise InvalidRequest("serviceAccountJson is not a JSON object (paste the whole key file)") from None
        missing = [k for k in _REQUIRED if not info.get(k)]
        if missing:
            raise InvalidRequest(f"serviceAccountJson lacks {', '.join(missing)}: is it a service account key file?")
        if self.token_uri_override:
            info["token_uri"] = self.token_uri_override
        return info

    @property
    def service_account_email(self) -> str:
        """client_email of the key."""
        return str(self.key_info()["client_email"])

    @property
    def principal(self) -> str:
        """Who these params authenticate as (the factory replaces an older client of the same principal)."""
        return self.service_account_email

    @property
    def api_base(self) -> str:
        """The Compute API root, ending in /compute/v1."""
        base = (self.endpoint_override or "https://compute.googleapis.com").rstrip("/")
        return base if base.endswith("/compute/v1") else f"{base}/compute/v1"

    @property
    def storage_base(self) -> str:
        """The Cloud Storage JSON API root, ending in /storage/v1: https://storage.googleapis.com, or the
        endpoint override's host (one stand-in or private endpoint serving both APIs)."""
        if not self.endpoint_override:
            return "https://storage.googleapis.com/storage/v1"
        parts = urlsplit(self.endpoint_override)
        return f"{parts.scheme}://{parts.netloc}/storage/v1"

    @property
    def endpoint(self) -> str:
        """host:port of the Compute API: the key of the per-endpoint concurrency limit."""
        return urlsplit(self.api_base).netloc

    def fingerprint(self) -> str:
        """A stable digest of every field, key included, so a rotated key gives a new client."""
        return digest(
            b"daytwo.gcp.v1",
            self.service_account_json,
            self.project_id,
            self.endpoint_override or "",
            self.token_uri_override or "",
            self.ca_bundle_pem or "",
            repr(float(self.timeout_seconds)),
            str(self.page_size),
        )
