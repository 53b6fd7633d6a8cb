"""Free-address arithmetic for a subnet: allocation pools minus addresses already in use."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = ["free_addresses"]


def free_addresses(
    cidr: str,
    pools: Sequence[tuple[str, str]],
    used: Iterable[str],
    *,
    gateway_ip: str | None,
    limit: int,
) -> tuple[tuple[str, ...], int]:
    """Return (up to ``limit`` free addresses in pool order, total number free).

    Without allocation pools the whole CIDR minus network/broadcast (IPv4) is the pool.
    The gateway and every address in ``used`` are excluded. Counting is arithmetic, so
    large IPv6 pools are cheap.
    """
    network = ipaddress.ip_network(cidr, strict=False)
    ranges: list[tuple[int, int]] = []
    if pools:
        ranges = [(int(ipaddress.ip_address(a)), int(ipaddress.ip_address(b))) for a, b in pools]
    else:
        first, last = int(network.network_address), int(network.broadcast_address)
        if network.version == 4 and network.num_addresses > 2:
            first, last = first + 1, last - 1
        ranges = [(first, last)]
    taken = {int(ipaddress.ip_address(ip)) for ip in used if ip}
    if gateway_ip:
        taken.add(int(ipaddress.ip_address(gateway_ip)))
    total = 0
    listed: list[str] = []
    for start, end in sorted(ranges):
        in_range = sum(1 for t in taken if start <= t <= end)
        total += end - start + 1 - in_range
        value = start
        while len(listed) < limit and value <= end:
            if value not in taken:
                listed.append(str(ipaddress.ip_address(value)))
            value += 1
    return tuple(listed), total
