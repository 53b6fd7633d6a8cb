"""Callers without a daytwo token: a trusted auth proxy's headers, or an API's anonymous role.

Both are off by default (README "Dashboards behind an auth proxy / anonymous access").

Auth proxy (oauth2-proxy and the like): when the TCP peer of a request is one of
``auth_proxy_addresses`` (IPs or CIDRs), its user header (``X-Forwarded-User``,
``X-Auth-Request-User``, ...; the e-mail header when no user header is set) names the caller and its
groups header (comma-separated) decides the role through ``auth_proxy_group_roles`` (the strongest
role any of the groups maps to). The decision is on the socket's peer address only, recorded by
:class:`PeerAddress` before ``X-Forwarded-For`` is applied: a header from any other peer is ignored
as if absent. A trusted proxy naming a user whose groups map to no role gets 403 (api/deps.py). The caller is
``proxy:<user>`` everywhere: principal, audit entries, ``Impersonate-User``; ``Impersonate-Group`` is
the mapped role's ``daytwo:<role>``, so Kubernetes RBAC still decides its writes.

Anonymous: ``anonymous_role_<api>`` (``none`` | ``viewer`` | ``operator``) gives a request of that
API with no credential at all the role, as caller ``anonymous:<api>`` (audit and impersonation).
:func:`warn_anonymous` logs a WARNING per API at start-up.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import FAMILIES, ApiError
from .roles import PENDING, ROLES, groups_rank, permissions_of
from .service import Principal

if TYPE_CHECKING:
    from ..settings import ApiSettings

__all__ = [
    "ANONYMOUS_PREFIX",
    "PEER_SCOPE_KEY",
    "PROXY_PREFIX",
    "PROXY_ROLES",
    "PeerAddress",
    "ProxyAuth",
    "anonymous_principal",
    "anonymous_roles",
    "parse_networks",
    "peer_of",
    "serving_app",
    "warn_anonymous",
]

log = logging.getLogger("daytwo.api.auth")

PROXY_PREFIX = "proxy:"
ANONYMOUS_PREFIX = "anonymous:"
#: ASGI scope key holding the TCP peer address before any X-Forwarded-For rewrite.
PEER_SCOPE_KEY = "daytwo.peer"
#: Roles a proxy group may map to (``pending`` would be no access: leave the group out instead).
PROXY_ROLES = tuple(r for r in ROLES if r != "pending")
#: Longest user name accepted from a proxy header.
MAX_USER_LENGTH = 253

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """Comma-separated IPs or CIDRs as networks; ValueError naming the bad entry."""
    networks: list[Network] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR (e.g. 10.0.0.5 or 10.42.0.0/16)") from None
    return tuple(networks)


def _names(value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


class PeerAddress:
    """Outermost ASGI wrapper: records the socket's peer address (``scope["daytwo.peer"]``) before ``inner``
    (which may rewrite ``scope["client"]`` from ``X-Forwarded-For``) runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            scope[PEER_SCOPE_KEY] = client[0] if client else None
        await self.app(scope, receive, send)


def serving_app(app: ASGIApp, forwarded_allow_ips: str) -> ASGIApp:
    """``app`` as ``daytwo-api`` serves it: the peer recorded first, then (when ``forwarded_allow_ips`` is
    set) uvicorn's X-Forwarded-For handling, so the client IP of logs and rate limits may come from a proxy
    while the auth-proxy trust decision sees the real peer."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    if not forwarded_allow_ips:
        return PeerAddress(app)
    rewrite: Any = ProxyHeadersMiddleware(app, trusted_hosts=forwarded_allow_ips)  # type: ignore[arg-type]
    return PeerAddress(rewrite)


def peer_of(scope: Mapping[str, object]) -> str | None:
    """The TCP peer of a request: the address :class:`PeerAddress` recorded, else the scope's client."""
    if PEER_SCOPE_KEY in scope:
        recorded = scope[PEER_SCOPE_KEY]
        return recorded if isinstance(recorded, str) else None
    client = scope.get("client")
    return str(client[0]) if isinstance(client, tuple | list) and client else None


def _first(headers: Mapping[str, str], names: Iterable[str]) -> str:
    for name in names:
        value = headers.get(name, "").strip()
        if value:
            return value
    return ""


@dataclass(frozen=True)
class ProxyAuth:
    """Which peers are trusted auth proxies, which headers they set, and what their groups mean."""

    networks: tuple[Network, ...] = ()
    user_headers: tuple[str, ...] = ()
    email_headers: tuple[str, ...] = ()
    group_headers: tuple[str, ...] = ()
    group_roles: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> ProxyAuth:
        """The proxy trust the settings describe (no networks: off)."""
        return cls(
            parse_networks(settings.auth_proxy_addresses),
            _names(settings.auth_proxy_user_headers),
            _names(settings.auth_proxy_email_headers),
            _names(settings.auth_proxy_groups_headers),
            tuple(sorted(settings.auth_proxy_group_roles.items())),
        )

    @property
    def enabled(self) -> bool:
        """Whether any peer is trusted."""
        return bool(self.networks)

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer`` (the socket's address, never a forwarded one) is a configured proxy."""
        if not self.networks or not peer:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def role_of(self, groups: Iterable[str]) -> str | None:
        """The strongest role any of ``groups`` maps to; None when none maps."""
        table = dict(self.group_roles)
        best: str | None = None
        for group in groups:
            role = table.get(group)
            if role is not None and groups_rank(role) > groups_rank(best or ""):
                best = role
        return best

    def principal(self, headers: Mapping[str, str], peer: str | None) -> Principal | None:
        """The caller a trusted proxy names; None when the peer is not trusted or names nobody.

        401 for an unusable user name. A user whose groups map to no daytwo role is returned with role
        ``pending`` (no permissions): the caller answers 403 naming no role, and audits it by name.
        """
        if not self.trusts(peer):
            return None
        user = _first(headers, self.user_headers) or _first(headers, self.email_headers)
        if not user:
            return None
        if len(user) > MAX_USER_LENGTH or not user.isprintable():
            raise ApiError(401, "The auth proxy's user header is not a usable user name", "AUTHENTICATION_FAILED")
        groups = [g.strip() for name in self.group_headers for g in headers.get(name, "").split(",") if g.strip()]
        role = self.role_of(groups) or PENDING
        return Principal(PROXY_PREFIX + user, role, permissions_of(role), "proxy")


def anonymous_roles(settings: ApiSettings) -> dict[str, str]:
    """API prefix -> the anonymous role configured for it (only those not ``none``)."""
    found = {family: str(getattr(settings, f"anonymous_role_{family}")) for family in FAMILIES}
    return {family: role for family, role in found.items() if role != "none"}


def anonymous_principal(settings: ApiSettings, family: str) -> Principal | None:
    """The caller ``anonymous:<family>`` with that API's anonymous role; None when it has none."""
    role = anonymous_roles(settings).get(family)
    if role is None:
        return None
    return Principal(ANONYMOUS_PREFIX + family, role, permissions_of(role), "anonymous")


def warn_anonymous(settings: ApiSettings) -> None:
    """A WARNING per API that serves callers without credentials (start-up), naming the API and the role."""
    for family, role in anonymous_roles(settings).items():
        log.warning(
            "ANONYMOUS ACCESS ENABLED: every caller without credentials of the %s API (/%s/) acts as %r with "
            "role %s (DAYTWO_API_ANONYMOUS_ROLE_%s); use this only on a closed network",
            family,
            family,
            ANONYMOUS_PREFIX + family,
            role,
            family.upper(),
        )
