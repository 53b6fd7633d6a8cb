"""ObjectStore against scripted list/watch streams: sync, events, resume, relist on 410, readiness."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from daytwo.api.store import CACHED, Gone, KindSpec, ObjectStore

DRIFT = next(spec for spec in CACHED if spec.kind == "DriftEvent")


def obj(name: str, rv: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftEvent",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "resourceVersion": rv,
            "labels": labels or {},
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}", "keep": "me"},
        },
        "spec": spec,
    }


class Script:
    """A WatchSource that plays lists and watch streams in order; records the resourceVersions asked."""

    def __init__(self, lists: list[tuple[list[dict[str, Any]], str]], watches: list[list[Any]]) -> None:
        self.lists = lists
        self.watches = watches
        self.asked: list[str] = []
        self.done = threading.Event()

    def list(self, spec: KindSpec, namespace: str) -> tuple[list[dict[str, Any]], str]:
        if spec.kind != "DriftEvent":
            return [], "1"
        return self.lists.pop(0)

    def watch(self, spec: KindSpec, namespace: str, resource_version: str) -> Iterator[dict[str, Any]]:
        if spec.kind != "DriftEvent":
            self.done.wait(5)
            return
        self.asked.append(resource_version)
        if not self.watches:
            self.done.set()
            threading.Event().wait(5)
            return
        for item in self.watches.pop(0):
            if isinstance(item, Exception):
                raise item
            yield item


def run(script: Script) -> tuple[ObjectStore, list[tuple[str, str]]]:
    store = ObjectStore("ns", script)
    seen: list[tuple[str, str]] = []
    store.subscribe(lambda kind, o: seen.append((kind, o["metadata"]["name"])))
    store.start()
    assert store.wait_synced(5)
    assert script.done.wait(5)
    store.stop(0.1)
    return store, seen


def test_list_then_watch_resume_and_relist_after_gone() -> None:
    script = Script(
        lists=[([obj("b", "1"), obj("a", "2")], "10"), ([obj("a", "30"), obj("c", "31")], "40")],
        watches=[
            [
                {"type": "ADDED", "object": obj("d", "11")},
                {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "15"}}},
            ],
            [{"type": "MODIFIED", "object": obj("b", "16", x=1)}, Gone("too old")],
            [{"type": "DELETED", "object": obj("c", "41")}],
        ],
    )
    store, seen = run(script)
    assert script.asked == ["10", "15", "40", "41"]  # resumed after the bookmark, relisted after 410
    assert [o["metadata"]["name"] for o in store.list("DriftEvent")] == ["a"]
    # initial list is silent; the relist reports its differences (b, d gone; a changed; c new)
    assert seen[:2] == [("ADDED", "d"), ("MODIFIED", "b")]
    assert sorted(seen[2:-1]) == [("ADDED", "c"), ("DELETED", "b"), ("DELETED", "d"), ("MODIFIED", "a")]
    assert seen[-1] == ("DELETED", "c")
    assert store.synced() and store.status()["DriftEvent"]["objects"] == 1


def test_objects_are_slimmed_and_read_only_views() -> None:
    store = ObjectStore.of([obj("x", "1", labels={"tier": "gold"}), obj("y", "2")], "ns")
    x = store.get("DriftEvent", "x")
    assert x is not None and "managedFields" not in x["metadata"]
    assert x["metadata"]["annotations"] == {"keep": "me"}
    assert store.get("DriftEvent", "x", namespace="other") is None
    assert [o["metadata"]["name"] for o in store.list("DriftEvent", labels={"tier": "gold"})] == ["x"]
    assert store.list("DriftEvent", namespace="elsewhere") == []
    assert store.list("SnapshotPolicy") == []


def test_version_bumps_on_change_and_sorted_list_is_memoised() -> None:
    store = ObjectStore.of([obj(f"e{i:03d}", str(i)) for i in range(300, 0, -1)], "ns")
    watcher = store._watchers["DriftEvent"]
    before = store.version("DriftEvent")
    first = watcher.sorted_objects()
    assert watcher.sorted_objects() is first  # no re-sort without a change
    watcher.apply({"type": "ADDED", "object": obj("a", "999")})
    assert store.version("DriftEvent") == before + 1
    assert store.list("DriftEvent")[0]["metadata"]["name"] == "a"


def test_unknown_kind_names_the_cached_ones() -> None:
    store = ObjectStore.of([], "ns")
    try:
        store.get("Secret", "x")
    except KeyError as error:
        assert "ConfigMap" in str(error)
    else:
        raise AssertionError("Secrets are never cached")


def test_watch_error_event_410_relists() -> None:
    script = Script(
        lists=[([obj("a", "1")], "5"), ([obj("b", "7")], "8")],
        watches=[[{"type": "ERROR", "object": {"code": 410, "message": "too old resource version"}}]],
    )
    store, _ = run(script)
    assert [o["metadata"]["name"] for o in store.list("DriftEvent")] == ["b"]
