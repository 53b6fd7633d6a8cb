"""ObjectStore: the facade's watch-backed, in-memory cache of daytwo objects (list + watch once, serve many).

One daemon thread per cached kind lists the served namespace once, then watches from the list's
resourceVersion (bookmarks on), resumes from the last seen resourceVersion when a watch ends, and
lists again when the apiserver answers 410 Gone. Requests only read the cache: they never wait on
the apiserver. ``metadata.managedFields`` and kubectl's last-applied annotation are dropped on the
way in, which is most of what an object weighs (10,000 DriftEvents: see tests/bench/bench_facade.py).

Cached: the seven daytwo kinds and ConfigMaps labelled ``app.kubernetes.io/part-of=daytwo``. Never
Secrets (the auth module runs its own instance of :class:`Watcher` for its labelled Secrets).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from daytwo.crds.base import API_VERSION
from daytwo.crds.kinds import KINDS

from .cached import Memo

__all__ = [
    "CACHED",
    "Gone",
    "KindSpec",
    "ObjectStore",
    "Subscriber",
    "WatchSource",
    "Watcher",
    "slim",
]

log = logging.getLogger("daytwo.api.store")

Subscriber = Callable[[str, dict[str, Any]], None]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class Gone(Exception):
    """The resourceVersion a watch resumed from is too old (HTTP 410): list again."""


@dataclass(frozen=True)
class KindSpec:
    """One cached collection: Kind, its API path prefix and plural, an optional label selector."""

    kind: str
    api_prefix: str  # "/apis/daytwo.io/v1alpha1" or "/api/v1"
    plural: str
    label_selector: str = ""

    @property
    def api_version(self) -> str:
        """``daytwo.io/v1alpha1`` or ``v1``."""
        return self.api_prefix.removeprefix("/apis/").removeprefix("/api/")

    def path(self, namespace: str) -> str:
        """The collection's path in ``namespace``."""
        return f"{self.api_prefix}/namespaces/{namespace}/{self.plural}"


CACHED: tuple[KindSpec, ...] = (
    *(KindSpec(d.info.kind, f"/apis/{API_VERSION}", d.info.plural) for d in KINDS),
    KindSpec("ConfigMap", "/api/v1", "configmaps", "app.kubernetes.io/part-of=daytwo"),
)


class WatchSource(Protocol):
    """Where objects come from: the apiserver (api/kube.py) or a unit test's scripted streams."""

    def list(self, spec: KindSpec, namespace: str) -> tuple[list[dict[str, Any]], str]:
        """All objects and the collection's resourceVersion."""
        ...

    def watch(self, spec: KindSpec, namespace: str, resource_version: str) -> Iterator[dict[str, Any]]:
        """Watch events (``{"type", "object"}``) from ``resource_version``; raises :class:`Gone` on 410."""
        ...


def slim(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop what no view reads and most bytes are: managedFields and kubectl's last-applied copy."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            del annotations[LAST_APPLIED]
    return obj


def _name(obj: Mapping[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


@dataclass
class Watcher:
    """The cache of one kind in one namespace, kept current by a thread (or fed by hand in tests)."""

    spec: KindSpec
    namespace: str
    source: WatchSource | None
    on_event: Callable[[str, dict[str, Any]], None] = lambda _type, _obj: None
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    resource_version: str = ""
    synced: threading.Event = field(default_factory=threading.Event)
    last_error: str = ""
    _sorted: tuple[int, list[dict[str, Any]]] = (-1, [])
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sorted_objects(self) -> list[dict[str, Any]]:
        """All objects sorted by name, memoised on the version (a list page must not sort 10,000 each time)."""
        version, items = self._sorted
        if version != self.version:
            with self._lock:
                version = self.version
                items = [self.objects[name] for name in sorted(self.objects)]
                self._sorted = (version, items)
        return items

    def replace(self, items: Iterable[dict[str, Any]], resource_version: str, notify: bool) -> None:
        """Install a full list; with ``notify``, emit the differences (after a 410 relist)."""
        fresh = {_name(obj): slim(obj) for obj in items}
        with self._lock:
            old = self.objects
            self.objects = fresh
            self.resource_version = resource_version
            self.version += 1
        if notify:
            for name, obj in old.items():
                if name not in fresh:
                    self.on_event("DELETED", obj)
            for name, obj in fresh.items():
                before = old.get(name)
                if before is None:
                    self.on_event("ADDED", obj)
                elif before.get("metadata", {}).get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                    self.on_event("MODIFIED", obj)
        self.synced.set()

    def apply(self, event: dict[str, Any]) -> None:
        """Apply one watch event (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR)."""
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Gone(str(obj.get("message", "resourceVersion too old")))
            raise RuntimeError(f"watch error: {obj.get('message', obj)}")
        rv = str(obj.get("metadata", {}).get("resourceVersion", ""))
        if kind == "BOOKMARK":
            self.resource_version = rv or self.resource_version
            return
        if kind not in ("ADDED", "MODIFIED", "DELETED"):
            return
        obj = slim(obj)
        with self._lock:
            if kind == "DELETED":
                self.objects.pop(_name(obj), None)
            else:
                self.objects[_name(obj)] = obj
            self.resource_version = rv or self.resource_version
            self.version += 1
        self.on_event(str(kind), obj)

    def run(self, stop: threading.Event, backoff: float = 1.0) -> None:
        """List, then watch until ``stop``: resume on the last resourceVersion, relist on 410 Gone."""
        assert self.source is not None
        relist = True
        delay = backoff
        while not stop.is_set():
            try:
                if relist:
                    items, rv = self.source.list(self.spec, self.namespace)
                    self.replace(items, rv, notify=self.synced.is_set())
                    relist = False
                for event in self.source.watch(self.spec, self.namespace, self.resource_version):
                    self.apply(event)
                    if stop.is_set():
                        return
                delay = backoff
                self.last_error = ""
            except Gone:
                log.info("%s: resourceVersion %s gone, listing again", self.spec.kind, self.resource_version)
                relist = True
            except Exception as error:
                if stop.is_set():
                    return  # the stream was closed to stop this thread (ObjectStore.stop, app shutdown)
                self.last_error = f"{type(error).__name__}: {error}"[:300]
                log.warning("%s watch failed (%s); retrying in %.0fs", self.spec.kind, self.last_error, delay)
                relist = relist or not self.resource_version
                stop.wait(delay)
                delay = min(delay * 2, 30.0)


class ObjectStore:
    """Read-only views over the watched kinds; see api/README.md for the contract."""

    def __init__(self, namespace: str, source: WatchSource | None = None, specs: Iterable[KindSpec] = CACHED) -> None:
        self.namespace = namespace
        self._source = source
        #: derived views of every API, keyed by view name (+ parameters) and the versions they read
        self.views = Memo(max_entries=2048)
        #: rendered single objects, keyed by object and memoised on its (and its relations')
        #: resourceVersions; cleared whole past 50,000 entries (names of deleted objects linger until then)
        self.answers = Memo(max_entries=50_000)
        self._subscribers: list[Subscriber] = []
        self._watchers = {spec.kind: Watcher(spec, namespace, source, on_event=self._publish) for spec in specs}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def of(cls, objects: Iterable[dict[str, Any]], namespace: str = "daytwo") -> ObjectStore:
        """A store filled from plain dicts and marked synced (route unit tests; no network)."""
        store = cls(namespace)
        grouped: dict[str, list[dict[str, Any]]] = {kind: [] for kind in store._watchers}
        for obj in objects:
            grouped.setdefault(obj["kind"], []).append(obj)
        for kind, items in grouped.items():
            if kind not in store._watchers:
                raise KeyError(f"{kind} is not cached by the facade")
            store._watchers[kind].replace(items, "1", notify=False)
        return store

    def start(self) -> None:
        """Start one watch thread per kind (idempotent)."""
        if self._threads:
            return
        for watcher in self._watchers.values():
            thread = threading.Thread(
                target=watcher.run, args=(self._stop,), name=f"watch-{watcher.spec.kind}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 2.0) -> None:
        """End the watch threads: ask them to stop, close the source's open streams (when it can), join.

        Waits at most ``timeout`` in all; the threads are daemons, so one stuck in a list call does
        not hold the process's exit.
        """
        self._stop.set()
        close = getattr(self._source, "close", None)
        if callable(close):
            close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))

    def threads(self) -> list[threading.Thread]:
        """The watch threads started by :meth:`start` (shutdown checks)."""
        return list(self._threads)

    def synced(self) -> bool:
        """True once every kind has been listed once: answers from here on are complete."""
        return all(w.synced.is_set() for w in self._watchers.values())

    def wait_synced(self, timeout: float) -> bool:
        """Block until synced or ``timeout`` (start-up and tests)."""
        return all(w.synced.wait(timeout) for w in self._watchers.values())

    def waiting(self) -> list[str]:
        """What the cache still waits for, one line per kind not listed yet (readiness), with its last error."""
        return [
            f"cache: waiting for the first list of {kind}" + (f" (last error: {w.last_error})" if w.last_error else "")
            for kind, w in self._watchers.items()
            if not w.synced.is_set()
        ]

    def status(self) -> dict[str, Any]:
        """Per-kind sync state, object count and last watch error (for /health)."""
        return {
            kind: {
                "synced": w.synced.is_set(),
                "objects": len(w.objects),
                **({"error": w.last_error} if w.last_error else {}),
            }
            for kind, w in self._watchers.items()
        }

    def _watcher(self, kind: str) -> Watcher:
        try:
            return self._watchers[kind]
        except KeyError:
            raise KeyError(f"{kind} is not cached by the facade (cached: {', '.join(self._watchers)})") from None

    def _check_namespace(self, namespace: str | None) -> bool:
        return namespace is None or namespace == self.namespace

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The cached object, or None; the dict is the cache's own: do not modify it."""
        if not self._check_namespace(namespace):
            return None
        return self._watcher(kind).objects.get(name)

    def list(
        self, kind: str, namespace: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Objects of ``kind`` sorted by (namespace, name), optionally with all of ``labels``; read-only."""
        if not self._check_namespace(namespace):
            return []
        items = self._watcher(kind).sorted_objects()
        if not labels:
            return list(items)
        wanted = dict(labels).items()
        return [obj for obj in items if wanted <= (obj.get("metadata", {}).get("labels") or {}).items()]

    def version(self, kind: str) -> int:
        """A counter that changes whenever an object of ``kind`` does (memoise derived views on it)."""
        return self._watcher(kind).version

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(event_type, obj)`` on every change after the initial sync (in a watch thread: be quick)."""
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        """Stop calling ``callback`` (a no-op when it is not subscribed)."""
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _publish(self, event_type: str, obj: dict[str, Any]) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event_type, obj)
            except Exception:
                log.exception("store subscriber %r failed on %s", callback, event_type)
