"""How to reach one AWS account: a frozen value the factory turns into a cached client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ...errors import InvalidRequest
from ..runtime import digest

__all__ = ["AwsConnectionParams"]

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")


@dataclass(frozen=True, slots=True)
class AwsConnectionParams:
    """Access key, region and optional role of a CloudCredential (spec.aws + its Secret).

    The secret access key and session token never appear in the repr. ``endpoint_url`` points every
    service (STS, EC2, Cost Explorer) at one endpoint, e.g. a local moto server.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    region: str
    session_token: str | None = field(default=None, repr=False)
    assume_role_arn: str | None = None
    external_id: str | None = field(default=None, repr=False)
    role_session_name: str = "daytwo"
    endpoint_url: str | None = None
    ca_bundle_pem: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0
    page_size: int = 1000

    def __post_init__(self) -> None:
        if not self.access_key_id or any(c.isspace() for c in self.access_key_id):
            raise InvalidRequest("the AWS access key id is empty or contains whitespace")
        if not self.secret_access_key:
            raise InvalidRequest(f"the secret access key of {self.access_key_id} is empty")
        if not _REGION.match(self.region):
            raise InvalidRequest(f"region {self.region!r} is not an AWS region name such as eu-west-1")
        if self.assume_role_arn is not None and not _ROLE_ARN.match(self.assume_role_arn):
            raise InvalidRequest(f"{self.assume_role_arn!r} is not a role ARN (arn:aws:iam::<account>:role/<name>)")
        if self.endpoint_url is not None:
            parts = urlsplit(self.endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidRequest(f"endpoint URL {self.endpoint_url!r} is not an http(s):// URL")
        if self.timeout_seconds <= 0:
            raise InvalidRequest(f"timeout_seconds must be positive, not {self.timeout_seconds}")
        if not 5 <= self.page_size <= 1000:
            raise InvalidRequest(f"page_size must be 5-1000 (the EC2 limits), not {self.page_size}")

    @property
    def endpoint(self) -> str:
        """The key of the per-endpoint concurrency limit: the override's host:port, or the region."""
        if self.endpoint_url:
            return urlsplit(self.endpoint_url).netloc
        return f"aws:{self.region}"

    @property
    def principal(self) -> str:
        """Who these params authenticate as (the factory replaces an older client of the same principal)."""
        return self.access_key_id

    def fingerprint(self) -> str:
        """A stable digest of every field, secrets included, so rotated keys give a new client."""
        return digest(
            b"daytwo.aws.v1",
            self.access_key_id,
            self.secret_access_key,
            self.region,
            self.session_token or "",
            self.assume_role_arn or "",
            self.external_id or "",
            self.role_session_name,
            self.endpoint_url or "",
            self.ca_bundle_pem or "",
            repr(float(self.timeout_seconds)),
            str(self.page_size),
        )
