"""GPU views with plain data: naming rules from settings, usage, host VMs, recommended target."""

from __future__ import annotations

import json

import pytest
from daytwo.operator.settings import OperatorSettings
from daytwo.operator.shared.gpuviews import (
    AggregateInfo,
    GpuUsage,
    ServerInfo,
    aggregate_gpu_usage,
    classify,
    flavor_gpus,
    gpu_types,
    host_vms,
    recommend_target,
)

RULES = OperatorSettings().naming_rules()


@pytest.mark.parametrize(
    ("name", "gpu", "pool"),
    [
        ("L40-n3", "L40", "ondemand"),
        ("L40-n3-NVLink", "L40", "ondemand"),
        ("L40-n3-spot", "L40", "spot"),
        ("RTX-A6000-n3-runpod", "RTX-A6000", "runpod"),
        ("Contract-L40-Customer1", "L40", "contract"),
        ("Contract-RTX-A6000-Acme", "RTX-A6000", "contract"),
        ("H100-n3-contract-acme", "H100", "contract"),
    ],
)
def test_default_naming(name: str, gpu: str, pool: str) -> None:
    found = classify(name, RULES)
    assert found is not None and (found.gpu_type, found.pool) == (gpu, pool)


def test_names_without_a_rule_are_not_gpu_pools() -> None:
    assert classify("az-east", RULES) is None


def test_rules_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cloud with other naming changes the environment, not code."""
    rules = [
        {"pattern": r"gpu-(?P<gpu>\w+)-preemptible", "pool": "spot"},
        {"pattern": r"gpu-(?P<gpu>\w+)", "pool": "ondemand"},
    ]
    monkeypatch.setenv("DAYTWO_AGGREGATE_NAMING", json.dumps(rules))
    custom = OperatorSettings().naming_rules()
    assert classify("gpu-a100-preemptible", custom) is not None
    assert gpu_types(["gpu-a100", "gpu-a100-preemptible", "L40-n3"], custom) == {
        "a100": {"ondemand": ["gpu-a100"], "spot": ["gpu-a100-preemptible"], "runpod": [], "contract": []}
    }


def test_gpu_types_groups_by_pool() -> None:
    views = gpu_types(
        ["L40-n3", "L40-n3-NVLink", "L40-n3-spot", "L40-n3-runpod", "Contract-L40-Customer1", "az-east"], RULES
    )
    assert views == {
        "L40": {
            "ondemand": ["L40-n3", "L40-n3-NVLink"],
            "spot": ["L40-n3-spot"],
            "runpod": ["L40-n3-runpod"],
            "contract": ["Contract-L40-Customer1"],
        }
    }


def test_flavor_gpus_from_count_or_pci_alias() -> None:
    assert flavor_gpus({"gpu_count": "4"}) == 4
    assert flavor_gpus({"pci_passthrough:alias": "L40:2,nic:1"}) == 3
    assert flavor_gpus({}) == 0


def server(name: str, host: str, gpus: int, status: str = "ACTIVE") -> ServerInfo:
    return ServerInfo(name, name, status, host, f"n3-L40x{gpus}", gpus)


def test_usage_counts_flavor_gpus_on_member_hypervisors() -> None:
    agg = AggregateInfo("L40-n3", ("h1", "h2", "ghost"), {"gpu_per_host": "8"})
    servers = [server("a", "h1", 4), server("b", "h2", 2), server("c", "h3", 8)]
    usage = aggregate_gpu_usage(agg, servers, ["h1", "h2", "h3"], default_per_host=4)
    assert (usage.used, usage.capacity, usage.ratio, usage.percentage) == (6, 16, "6/16", 37.5)
    plain = AggregateInfo("L40-n3-spot", ("h3",), {})
    assert aggregate_gpu_usage(plain, servers, ["h3"], default_per_host=8).ratio == "8/8"
    assert GpuUsage(0, 0).percentage == 0.0


def test_host_vms_sorted() -> None:
    assert [s.name for s in host_vms([server("b", "h1", 1), server("a", "h1", 1), server("c", "h2", 1)], "h1")] == [
        "a",
        "b",
    ]


AGGS = [
    AggregateInfo("L40-n3", ("idle", "busy"), {}),
    AggregateInfo("L40-n3-NVLink", (), {}),
    AggregateInfo("L40-n3-spot", ("spotidle",), {}),
    AggregateInfo("Contract-L40-Acme", ("reserved",), {}),
]


def test_idle_host_goes_to_spot() -> None:
    found = recommend_target("idle", "L40", AGGS, 0, RULES)
    assert found.aggregate == "L40-n3-spot" and "no running VMs" in found.reasoning


def test_busy_host_belongs_on_demand() -> None:
    found = recommend_target("busy", "L40", AGGS, 3, RULES)
    assert found.aggregate is None and "3 running VM(s)" in found.reasoning and "already in ondemand" in found.reasoning


def test_idle_spot_host_returns_on_demand_and_contracts_stay() -> None:
    assert recommend_target("spotidle", "L40", AGGS, 0, RULES).aggregate == "L40-n3"
    contract = recommend_target("reserved", "L40", AGGS, 0, RULES)
    assert contract.aggregate is None and "contract" in contract.reasoning


def test_missing_pool_is_explained() -> None:
    found = recommend_target("idle", "H100", [AggregateInfo("H100-n3", ("idle",), {})], 0, RULES)
    assert found.aggregate is None and "no H100 spot aggregate" in found.reasoning
