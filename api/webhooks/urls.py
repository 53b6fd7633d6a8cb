"""Where webhooks may deliver, and how their URLs are shown to callers who may not manage them.

Policy (:func:`check_url`): a webhook URL must be ``https://`` to a host that is not loopback,
link-local or unspecified (``localhost``, ``127.0.0.0/8``, ``::1``, ``169.254.0.0/16`` (cloud
metadata), ``fe80::/10``, ``0.0.0.0``). Hosts on the ``webhook_allowed_hosts`` setting
(``DAYTWO_API_WEBHOOK_ALLOWED_HOSTS``: comma-separated names, IPs or CIDRs) may also be reached
over plain ``http://`` and may be loopback/link-local (a receiver on the same machine or pod).
Names are checked as written, not resolved: the facade does not follow DNS to decide.

:func:`redact` shows ``scheme://host[:port]/…`` (path, query and credentials masked) to callers
without ``webhooks:write``; a URL's path often carries the receiver's token (Slack, Teams).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["allowed_hosts", "check_url", "redact"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def allowed_hosts(setting: str) -> tuple[frozenset[str], tuple[Network, ...]]:
    """(host names, networks) of a ``webhook_allowed_hosts`` value (entries that are no IP/CIDR are names)."""
    names: set[str] = set()
    networks: list[Network] = []
    for item in (part.strip().lower() for part in setting.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item.rstrip("."))
    return frozenset(names), tuple(networks)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str, setting: str = "") -> str:
    """``url`` if webhooks may deliver there (see module doc); ValueError with the reason otherwise."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
        _ = parts.port  # a bad port raises
    except ValueError as error:
        raise ValueError(f"not a valid URL ({error})") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("must be an https:// URL with a host")
    names, networks = allowed_hosts(setting)
    address = _ip(host)
    listed = host in names or (address is not None and any(address in net for net in networks))
    if listed:
        return url.strip()
    if parts.scheme != "https":
        raise ValueError(
            f"must use https:// (plain http:// only to hosts on DAYTWO_API_WEBHOOK_ALLOWED_HOSTS; {host} is not)"
        )
    local = host in _LOCAL_NAMES or host.endswith(".localhost")
    if address is not None:
        local = address.is_loopback or address.is_link_local or address.is_unspecified
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            local = local or mapped.is_loopback or mapped.is_link_local or mapped.is_unspecified
    if local:
        raise ValueError(
            f"may not target {host}: loopback and link-local hosts only when listed in DAYTWO_API_WEBHOOK_ALLOWED_HOSTS"
        )
    return url.strip()


def redact(url: str) -> str:
    """``scheme://host[:port]/…``: what a caller who may not manage webhooks sees of a webhook URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}/…"
