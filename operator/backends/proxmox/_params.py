"""How to reach one Proxmox VE endpoint: a frozen value the factory turns into a cached client."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ...errors import InvalidRequest

__all__ = ["ProxmoxConnectionParams"]

# PVE's token id: user@realm!tokenname (realm and token name are PVE identifiers).
_TOKEN_ID = re.compile(r"^(?P<user>[^@!\s]+@[A-Za-z][A-Za-z0-9._-]*)!(?P<name>[A-Za-z][A-Za-z0-9._-]*)$")


@dataclass(frozen=True, slots=True)
class ProxmoxConnectionParams:
    """Endpoint, API token and TLS settings of a ProxmoxNode; the secret never appears in its repr."""

    host: str
    token_id: str
    token_secret: str = field(repr=False)
    port: int = 8006
    verify_tls: bool = True
    ca_bundle_pem: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.host or any(c.isspace() or c in "/?#@" for c in self.host):
            raise InvalidRequest(f"host {self.host!r} is not a hostname or IP address")
        if not 0 < self.port < 65536:
            raise InvalidRequest(f"port {self.port} is out of range 1-65535")
        if not _TOKEN_ID.match(self.token_id):
            raise InvalidRequest(
                f"token id {self.token_id!r} is not of the form user@realm!tokenname (e.g. root@pam!daytwo)"
            )
        if not self.token_secret:
            raise InvalidRequest(f"the secret of API token {self.token_id} is empty")
        if self.timeout_seconds <= 0:
            raise InvalidRequest(f"timeout_seconds must be positive, not {self.timeout_seconds}")

    @property
    def principal(self) -> str:
        """Who these params authenticate as: the token id (the cache replaces an older client of it)."""
        return self.token_id

    @property
    def endpoint(self) -> str:
        """host:port, the key of the per-endpoint concurrency limit (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"

    @property
    def token_user(self) -> str:
        """The user@realm part of the token id."""
        return self.token_id.partition("!")[0]

    @property
    def token_name(self) -> str:
        """The tokenname part of the token id."""
        return self.token_id.partition("!")[2]

    def fingerprint(self) -> str:
        """A stable digest of every field, secret included, so a rotated token or CA gives a new client.

        It is a one-way SHA-256 over the values (the secret is high-entropy), safe to log or keep in status.
        """
        digest = hashlib.sha256(b"daytwo.proxmox.v1")
        for part in (
            self.host,
            str(self.port),
            self.token_id,
            self.token_secret,
            "1" if self.verify_tls else "0",
            self.ca_bundle_pem or "",
            repr(float(self.timeout_seconds)),
        ):
            encoded = part.encode()
            digest.update(len(encoded).to_bytes(4, "big") + encoded)
        return digest.hexdigest()[:32]
