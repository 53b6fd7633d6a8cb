"""The memo facility (api/cached.py): each store owns its memos, so two stores never share an answer."""

from __future__ import annotations

from daytwo.api.cached import memo, rendered
from daytwo.api.routers.multicloud._shared import inventory
from daytwo.api.store import ObjectStore

from .multicloud.data import credential, records
from .multicloud.data import inventory as inventory_configmaps


def test_two_stores_at_the_same_version_keep_their_own_inventory() -> None:
    east = credential("aws-east-4c1d", "aws")
    west = credential("aws-west-9e07", "aws")
    first = ObjectStore.of([east, *inventory_configmaps(east, records("aws", "us-east-1", 2))])
    second = ObjectStore.of([west, *inventory_configmaps(west, records("aws", "us-west-2", 3))])
    assert first.version("ConfigMap") == second.version("ConfigMap")
    assert set(inventory(first).synced) == {"aws-east-4c1d"}
    assert set(inventory(second).synced) == {"aws-west-9e07"}
    assert len(inventory(first).items) != len(inventory(second).items)


def test_memos_and_rendered_answers_belong_to_their_store() -> None:
    first, second = ObjectStore.of([]), ObjectStore.of([])
    assert memo(first) is first.views and memo(second) is second.views and first.views is not second.views
    assert memo(first).get("view", 1, lambda: "first") == "first"
    assert memo(second).get("view", 1, lambda: "second") == "second"
    assert rendered(first, "obj", "7", lambda: {"of": 1}).body == b'{"of":1}'
    assert rendered(second, "obj", "7", lambda: {"of": 2}).body == b'{"of":2}'
