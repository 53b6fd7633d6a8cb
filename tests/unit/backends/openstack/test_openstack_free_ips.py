"""Free-address arithmetic and quota parsing (pure functions)."""

from __future__ import annotations

from daytwo.operator.backends.openstack._freeips import free_addresses
from daytwo.operator.backends.openstack._quota import quota_usages


def test_pools_minus_used_and_gateway() -> None:
    listed, total = free_addresses(
        "10.0.0.0/24", [("10.0.0.10", "10.0.0.19")], ["10.0.0.10", "10.0.0.12", "10.9.9.9"],
        gateway_ip="10.0.0.11", limit=3,
    )  # fmt: skip
    assert listed == ("10.0.0.13", "10.0.0.14", "10.0.0.15")
    assert total == 7


def test_whole_cidr_without_pools_skips_network_and_broadcast() -> None:
    listed, total = free_addresses("192.168.1.0/29", [], [], gateway_ip="192.168.1.1", limit=100)
    assert listed == ("192.168.1.2", "192.168.1.3", "192.168.1.4", "192.168.1.5", "192.168.1.6")
    assert total == 5


def test_large_ipv6_pool_is_counted_not_enumerated() -> None:
    listed, total = free_addresses(
        "2001:db8::/64", [("2001:db8::2", "2001:db8::ffff:ffff:ffff:ffff")], [], gateway_ip="2001:db8::1", limit=2
    )
    assert listed == ("2001:db8::2", "2001:db8::3")
    assert total == 2**64 - 2


def test_several_pools_in_order() -> None:
    listed, total = free_addresses(
        "10.0.0.0/24", [("10.0.0.200", "10.0.0.201"), ("10.0.0.5", "10.0.0.6")], [], gateway_ip=None, limit=10
    )
    assert listed == ("10.0.0.5", "10.0.0.6", "10.0.0.200", "10.0.0.201") and total == 4


def test_quota_usage_parsing() -> None:
    body = {"quota_set": {"id": "p", "cores": {"limit": 20, "in_use": 4, "reserved": 1}, "instances": 10}}
    (cores,) = quota_usages("compute", "p", body)
    assert (cores.resource, cores.limit, cores.in_use, cores.reserved) == ("cores", 20, 4, 1)
    assert quota_usages("compute", "p", None) == []
