"""Prometheus metrics of the operator, served at ``/metrics`` (what the chart's operator ServiceMonitor scrapes).

One registry per process and small ``record_*`` functions; the callers are central, so every kind and every
cloud is measured the same way: the polling loop records each pass (``handlers/polling.py``), the one retry
loop records each backend call (``backends/runtime.py``), the polling loop also keeps each object's Ready
(from its daemon's start and every status write, forgotten when the daemon ends: the objects this replica
reconciles), and the pass pool reports its saturation through :func:`watch_pool`.

Label sets, all bounded (never an object's name or namespace, nor an id, URL or endpoint):

==============================================================  ==========================================
series                                                          labels
==============================================================  ==========================================
``daytwo_reconcile_passes_total``                               kind, outcome (success | blocked | error)
``daytwo_reconcile_pass_duration_seconds`` (histogram)          kind, outcome
``daytwo_last_pass_timestamp_seconds``                          kind (end of the last pass, any outcome)
``daytwo_last_successful_pass_timestamp_seconds``               kind
``daytwo_backend_calls_total``                                  cloud, operation, outcome
``daytwo_backend_call_duration_seconds`` (histogram)            cloud, operation, outcome
``daytwo_backend_retries_total``                                cloud, operation
``daytwo_objects``                                              kind, ready (True | False | Unknown)
``daytwo_pass_pool_in_flight`` / ``_capacity`` / ``_waiting``   (none)
==============================================================  ==========================================

- kind: a daytwo kind (DriftRule, ProxmoxNode, ...).
- outcome of a pass: ``success`` (it ran to the end; its conditions say what it found), ``blocked`` (a
  reference it needs is broken: it backs off), ``error`` (it raised, it is retried).
- cloud: openstack | proxmox | aws | azure | gcp | other.
- operation: the call's verb phrase with ids, names and paths cut off (:func:`operation_label`:
  ``proxmox read status of node pve-1`` -> ``read status``), at most :data:`MAX_OPERATIONS` distinct values
  per cloud, then ``other``.
- outcome of a call: ``success`` or the error's reason (``Unavailable``, ``NotFound``, ``Timeout``, ...: the
  fixed reasons of ``daytwo.operator.errors``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    platform_collector,
    process_collector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = [
    "CLOUDS",
    "MAX_OPERATIONS",
    "REGISTRY",
    "MetricsServer",
    "PoolUsage",
    "cloud_of_module",
    "forget_object",
    "operation_label",
    "ready_status",
    "record_backend_call",
    "record_object",
    "record_pass",
    "serve",
    "watch_pool",
]

#: The clouds a backend call is labelled with; a call from anywhere else counts as ``other``.
CLOUDS = frozenset({"openstack", "proxmox", "aws", "azure", "gcp"})
#: Distinct ``operation`` values kept per cloud; any further one counts as ``other`` (a hard bound).
MAX_OPERATIONS = 64
#: Words that end an operation phrase: what follows names the object (``of node X``, ``for client Y``).
_STOP_WORDS = frozenset({"of", "for", "to", "in", "on", "at", "from", "by", "with", "page"})
_WORD = re.compile(r"[a-z]+")
_FIRST_WORD = re.compile(r"[a-z][a-z0-9]*")  # a service prefix may hold digits: ec2, s3
_MAX_WORDS = 4
#: Seconds: from a fast GET to a slow listing of tens of thousands of objects.
_CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_PASS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

REGISTRY = CollectorRegistry()
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

_PASSES = Counter(
    "daytwo_reconcile_passes",
    "Reconcile passes run, by kind and outcome (success, blocked: a broken reference, error: it raised).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
_PASS_SECONDS = Histogram(
    "daytwo_reconcile_pass_duration_seconds",
    "Time one reconcile pass took (backend calls and status writes included), by kind and outcome.",
    ["kind", "outcome"],
    buckets=_PASS_BUCKETS,
    registry=REGISTRY,
)
_LAST_PASS = Gauge(
    "daytwo_last_pass_timestamp_seconds",
    "Unix time the last pass of any object of this kind ended, whatever its outcome.",
    ["kind"],
    registry=REGISTRY,
)
_LAST_SUCCESS = Gauge(
    "daytwo_last_successful_pass_timestamp_seconds",
    "Unix time the last successful pass of any object of this kind ended.",
    ["kind"],
    registry=REGISTRY,
)
_CALLS = Counter(
    "daytwo_backend_calls",
    "Calls to a cloud API (retries included in one call), by cloud, operation and outcome (success or reason).",
    ["cloud", "operation", "outcome"],
    registry=REGISTRY,
)
_CALL_SECONDS = Histogram(
    "daytwo_backend_call_duration_seconds",
    "Time a call to a cloud API took, its retries and their waits included, by cloud, operation and outcome.",
    ["cloud", "operation", "outcome"],
    buckets=_CALL_BUCKETS,
    registry=REGISTRY,
)
_RETRIES = Counter(
    "daytwo_backend_retries",
    "Retries of calls to a cloud API after a retryable failure, by cloud and operation.",
    ["cloud", "operation"],
    registry=REGISTRY,
)


# ---------------------------------------------------------------------- passes


def record_pass(kind: str, outcome: str, seconds: float) -> None:
    """Count one finished pass of an object of ``kind`` (``outcome``: success, blocked or error)."""
    _PASSES.labels(kind, outcome).inc()
    _PASS_SECONDS.labels(kind, outcome).observe(max(0.0, seconds))
    now = time.time()
    _LAST_PASS.labels(kind).set(now)
    if outcome == "success":
        _LAST_SUCCESS.labels(kind).set(now)


# ---------------------------------------------------------------------- backend calls


class _Operations:
    """The operation labels seen per cloud, capped at MAX_OPERATIONS each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, set[str]] = {}

    def admit(self, cloud: str, operation: str) -> str:
        with self._lock:
            seen = self._seen.setdefault(cloud, set())
            if operation in seen:
                return operation
            if len(seen) >= MAX_OPERATIONS:
                return "other"
            seen.add(operation)
            return operation


_OPERATIONS = _Operations()


def cloud_of_module(module: str) -> str:
    """The cloud a backend module belongs to (``daytwo.operator.backends.aws._client`` -> ``aws``), else other."""
    parts = module.split(".")
    if "backends" in parts:
        index = parts.index("backends")
        if index + 1 < len(parts) and parts[index + 1] in CLOUDS:
            return parts[index + 1]
    return "other"


def operation_label(what: str, cloud: str = "") -> str:
    """A bounded label for a call described by ``what``: its leading words up to the first that names
    something (a word with digits or punctuation, or after of/for/to/...), at most four, lower case;
    a leading cloud name is dropped. ``proxmox start qemu 101`` -> ``start qemu``."""
    words: list[str] = []
    for position, word in enumerate(what.lower().split()):
        if position == 0 and word == cloud:
            continue
        pattern = _FIRST_WORD if not words else _WORD
        if word in _STOP_WORDS or not pattern.fullmatch(word):
            break
        words.append(word)
        if len(words) == _MAX_WORDS:
            break
    return " ".join(words) or "other"


def record_backend_call(cloud: str, what: str, outcome: str, seconds: float, retries: int = 0) -> None:
    """Count one call to a cloud API (``what`` as the retry loop names it; ``outcome``: success or the
    error's reason) that took ``seconds`` over ``retries`` retries."""
    cloud = cloud if cloud in CLOUDS else "other"
    operation = _OPERATIONS.admit(cloud, operation_label(what, cloud))
    _CALLS.labels(cloud, operation, outcome).inc()
    _CALL_SECONDS.labels(cloud, operation, outcome).observe(max(0.0, seconds))
    if retries:
        _RETRIES.labels(cloud, operation).inc(retries)


# ---------------------------------------------------------------------- objects and their Ready state


class _Objects(Collector):
    """Ready state of every object the operator watches, exported as counts per kind and state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: dict[tuple[str, str, str], str] = {}
        self._kinds: set[str] = set()

    def set(self, kind: str, namespace: str, name: str, ready: str) -> None:
        with self._lock:
            self._ready[(kind, namespace, name)] = ready
            self._kinds.add(kind)

    def forget(self, kind: str, namespace: str, name: str) -> None:
        with self._lock:
            self._ready.pop((kind, namespace, name), None)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counts = {(kind, state): 0 for kind in self._kinds for state in ("True", "False", "Unknown")}
            for (kind, _, _), state in self._ready.items():
                counts[(kind, state)] += 1
        family = GaugeMetricFamily(
            "daytwo_objects",
            "Objects the operator watches, by kind and Ready condition status.",
            labels=["kind", "ready"],
        )
        for (kind, state), count in sorted(counts.items()):
            family.add_metric([kind, state], count)
        yield family


_OBJECTS = _Objects()
REGISTRY.register(_OBJECTS)


def ready_status(status: Mapping[str, Any] | None) -> str | None:
    """The ``status`` of the Ready condition in an object's status, None when it has none yet."""
    for condition in (status or {}).get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return str(condition.get("status"))
    return None


def record_object(kind: str, namespace: str, name: str, ready: str | None) -> None:
    """Remember the Ready status (True, False, else Unknown) of one object; only counts are exported."""
    _OBJECTS.set(kind, namespace, name, ready if ready in ("True", "False") else "Unknown")


def forget_object(kind: str, namespace: str, name: str) -> None:
    """The object is gone: it no longer counts."""
    _OBJECTS.forget(kind, namespace, name)


# ---------------------------------------------------------------------- pass pool saturation


@dataclass(frozen=True, slots=True)
class PoolUsage:
    """What the pass pool is doing right now: passes running, its threads, and passes waiting for one."""

    in_flight: int
    capacity: int
    waiting: int = 0


class _Pool(Collector):
    """Saturation of the pass pool, read at scrape time from the provider given to :func:`watch_pool`."""

    def __init__(self) -> None:
        self.provider: Callable[[], PoolUsage] | None = None

    def collect(self) -> Iterator[Metric]:
        provider = self.provider
        if provider is None:
            return
        usage = provider()
        for suffix, value, help_text in (
            ("in_flight", usage.in_flight, "Passes running on the pass pool now."),
            ("capacity", usage.capacity, "Threads of the pass pool (passes that can run at once)."),
            ("waiting", usage.waiting, "Passes waiting for a thread or for their endpoint's slot."),
        ):
            yield GaugeMetricFamily(f"daytwo_pass_pool_{suffix}", help_text, value=value)


_POOL = _Pool()
REGISTRY.register(_POOL)


def watch_pool(provider: Callable[[], PoolUsage] | None) -> None:
    """Report the pass pool's saturation from ``provider`` at each scrape (None: stop reporting)."""
    _POOL.provider = provider


# ---------------------------------------------------------------------- serving


@dataclass
class MetricsServer:
    """The running ``/metrics`` HTTP server (a daemon thread); :meth:`stop` ends it."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when asked for port 0)."""
        return int(self.server.server_address[1])

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(address: str, port: int) -> MetricsServer:
    """Serve the registry at ``http://<address>:<port>/metrics`` from a daemon thread."""
    server, thread = start_http_server(port, addr=address, registry=REGISTRY)
    return MetricsServer(server, thread)
