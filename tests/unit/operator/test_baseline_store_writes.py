"""A DriftRule's first baseline save costs only the creates it needs (no replace tried, no listing of other
parts); later saves replace the index and drop the old parts; an index found existing after all is replaced
(issue 18 item 3)."""

from __future__ import annotations

from typing import Any

from daytwo.operator.baselines import BaselineStore
from kubernetes import client
from kubernetes.client.exceptions import ApiException

NS = "team-baseline"
RULE = "server-flavor"
OWNER = {
    "apiVersion": "daytwo.io/v1alpha1",
    "kind": "DriftRule",
    "metadata": {"name": RULE, "uid": "0b6f3a9e-2d41-4c7a-8e15-7f9c2a4d6b10"},
}


class ConfigMaps:
    """The ConfigMap calls of CoreV1Api over a dict, recording each call's verb."""

    def __init__(self) -> None:
        self.items: dict[str, client.V1ConfigMap] = {}
        self.calls: list[str] = []

    def create_namespaced_config_map(self, namespace: str, body: client.V1ConfigMap) -> None:
        self.calls.append("create")
        if body.metadata.name in self.items:
            raise ApiException(status=409)
        self.items[body.metadata.name] = body

    def replace_namespaced_config_map(self, name: str, namespace: str, body: client.V1ConfigMap) -> None:
        self.calls.append("replace")
        if name not in self.items:
            raise ApiException(status=404)
        self.items[name] = body

    def read_namespaced_config_map(self, name: str, namespace: str) -> client.V1ConfigMap:
        self.calls.append("read")
        if name not in self.items:
            raise ApiException(status=404)
        return self.items[name]

    def list_namespaced_config_map(self, namespace: str, label_selector: str) -> Any:
        self.calls.append("list")
        return client.V1ConfigMapList(items=list(self.items.values()))

    def delete_namespaced_config_map(self, name: str, namespace: str) -> None:
        self.calls.append("delete")
        self.items.pop(name, None)


ENTRIES = {"vm-1": ["m1.small", "web", "p1", "2026-12-03T00:00:00Z"]}


def test_a_first_save_only_creates() -> None:
    maps = ConfigMaps()
    store = BaselineStore(maps)
    assert store.save(NS, RULE, OWNER, ENTRIES, fresh=True) == f"{RULE}-drift-baseline"
    assert maps.calls == ["create"]  # the index, holding a baseline that fits one part
    assert store.load(NS, RULE) == ENTRIES


def test_a_later_save_replaces_and_drops_the_old_parts() -> None:
    maps = ConfigMaps()
    store = BaselineStore(maps)
    store.save(NS, RULE, OWNER, ENTRIES, fresh=True)
    changed = {"vm-1": ["m1.large", "web", "p1", "2026-12-03T01:00:00Z"]}
    maps.calls.clear()
    store.save(NS, RULE, OWNER, changed)
    assert maps.calls == ["replace", "list"]
    assert len(maps.items) == 1 and store.load(NS, RULE) == changed


def test_a_fresh_save_over_an_existing_index_replaces_it() -> None:
    maps = ConfigMaps()
    store = BaselineStore(maps)
    store.save(NS, RULE, OWNER, ENTRIES, fresh=True)
    changed = {"vm-2": ["m1.tiny", "db", "p1", "2026-12-03T02:00:00Z"]}
    store.save(NS, RULE, OWNER, changed, fresh=True)  # the status lost its baselineRef (crash before the patch)
    assert len(maps.items) == 1 and store.load(NS, RULE) == changed


def test_a_baseline_larger_than_a_part_is_split_and_its_old_parts_dropped() -> None:
    maps = ConfigMaps()
    store = BaselineStore(maps, part_bytes=4_000)
    many = {f"vm-{index}": [f"flavor-{index}", f"name-{index}", "p1", "2026-12-03T00:00:00Z"] for index in range(3000)}
    store.save(NS, RULE, OWNER, many, fresh=True)
    parts = [name for name in maps.items if name != f"{RULE}-drift-baseline"]
    assert len(parts) > 1 and store.load(NS, RULE) == many
    store.save(NS, RULE, OWNER, ENTRIES)  # fits one part again: inline, the old parts go
    assert list(maps.items) == [f"{RULE}-drift-baseline"] and store.load(NS, RULE) == ENTRIES
