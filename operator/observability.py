"""OpenTelemetry export of traces and metrics over OTLP/HTTP, for the operator and the facade alike.

The configuration lives in one ConfigMap the release owns (``daytwo-observability``; the facade writes it
through ``POST /horcrux/api/observability/config``) and, for header values (API keys of a collector), in the
Secret named after it with ``-headers`` appended. :func:`parse_config` turns the ConfigMap's ``data`` into an
:class:`ObservabilityConfig`; :class:`Telemetry` (one per process) builds a TracerProvider and a MeterProvider
exporting to ``<endpoint>/v1/traces`` and ``<endpoint>/v1/metrics`` and rebuilds them when the configuration
changes (no restart); :class:`ConfigPoller` re-reads the configuration on an interval (the operator) and flushes
when ``export_requested_at`` changes (the facade's "export now" reaches the operator that way).

This module does no Kubernetes I/O: the caller hands :class:`ConfigPoller` a function that reads the ConfigMap
and the header Secret. Header values are never logged and never leave :class:`Telemetry`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import Counter, Histogram
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, MetricsData, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Tracer

__all__ = [
    "DEFAULT_CONFIGMAP",
    "TELEMETRY",
    "ConfigPoller",
    "ObservabilityConfig",
    "Telemetry",
    "config_data",
    "headers_secret_name",
    "parse_config",
    "redacted",
    "start_polling",
]

log = logging.getLogger("daytwo.observability")

#: The ConfigMap's default name (the chart's ``<fullname>-observability``).
DEFAULT_CONFIGMAP = "daytwo-observability"
_TRUE = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class ObservabilityConfig:
    """What to export where; ``header_names`` only names the headers (their values live in a Secret)."""

    enabled: bool = False
    endpoint: str = ""
    service_name: str = "daytwo"
    trace_enabled: bool = True
    metrics_enabled: bool = True
    sampling_ratio: float = 1.0
    export_interval_seconds: float = 60.0
    header_names: tuple[str, ...] = ()
    #: token of the last "export now" request (changing it flushes every process; not part of the set-up)
    export_requested_at: str = field(default="", compare=False)

    @property
    def active(self) -> bool:
        """Whether anything is exported at all."""
        return self.enabled and bool(self.endpoint) and (self.trace_enabled or self.metrics_enabled)


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None or value == "" else value.strip().lower() in _TRUE


def _number(value: str | None, default: float, low: float, high: float) -> float:
    try:
        number = float(value) if value not in (None, "") else default
    except ValueError:
        return default
    return min(high, max(low, number))


def parse_config(data: Mapping[str, str] | None) -> ObservabilityConfig:
    """The configuration in a ConfigMap's ``data`` (absent or malformed values take their defaults)."""
    data = data or {}
    names = tuple(sorted({n.strip() for n in (data.get("header_names") or "").split(",") if n.strip()}))
    return ObservabilityConfig(
        enabled=_flag(data.get("enabled"), False),
        endpoint=(data.get("endpoint") or "").strip().rstrip("/"),
        service_name=(data.get("service_name") or "").strip() or "daytwo",
        trace_enabled=_flag(data.get("trace_enabled"), True),
        metrics_enabled=_flag(data.get("metrics_enabled"), True),
        sampling_ratio=_number(data.get("sampling_ratio"), 1.0, 0.0, 1.0),
        export_interval_seconds=_number(data.get("export_interval_seconds"), 60.0, 1.0, 86400.0),
        header_names=names,
        export_requested_at=data.get("export_requested_at") or "",
    )


def config_data(config: ObservabilityConfig) -> dict[str, str]:
    """The ConfigMap ``data`` of ``config`` (the inverse of :func:`parse_config`)."""
    return {
        "enabled": str(config.enabled).lower(),
        "endpoint": config.endpoint,
        "service_name": config.service_name,
        "trace_enabled": str(config.trace_enabled).lower(),
        "metrics_enabled": str(config.metrics_enabled).lower(),
        "sampling_ratio": repr(config.sampling_ratio),
        "export_interval_seconds": repr(config.export_interval_seconds),
        "header_names": ",".join(config.header_names),
        "export_requested_at": config.export_requested_at,
    }


def headers_secret_name(configmap: str) -> str:
    """The Secret holding the header values of the configuration in ConfigMap ``configmap``."""
    return f"{configmap}-headers"


class _CountingMetricExporter(OTLPMetricExporter):
    """The OTLP metric exporter, remembering how many metrics its last successful export carried."""

    last_count = 0

    def export(
        self, metrics_data: MetricsData, timeout_millis: float | None = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Export and count the metrics sent (for "export now"'s ``metrics_count``)."""
        result = super().export(metrics_data, timeout_millis, **kwargs)
        if result is MetricExportResult.SUCCESS:
            self.last_count = sum(
                len(scope.metrics) for resource in metrics_data.resource_metrics for scope in resource.scope_metrics
            )
        return result


@dataclass
class _Pipeline:
    """The providers built for one configuration."""

    tracer_provider: TracerProvider | None
    tracer: Tracer | None
    meter_provider: MeterProvider | None
    metric_exporter: _CountingMetricExporter | None
    counters: dict[str, Counter] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)

    def shutdown(self) -> None:
        """Flush and stop both providers (what was recorded so far is still sent)."""
        for provider in (self.tracer_provider, self.meter_provider):
            if provider is not None:
                try:
                    provider.shutdown()
                except Exception:  # a collector gone away must not stop a reconfiguration
                    log.warning("observability: shutting down the previous exporter failed", exc_info=True)


class Telemetry:
    """This process's OpenTelemetry pipeline, (re)built by :meth:`apply`; every call is a no-op while disabled.

    ``component`` (``api`` or ``operator``) is appended to the configured service name:
    ``<service_name>-<component>`` is the ``service.name`` of everything this process exports.
    """

    def __init__(self, component: str) -> None:
        self.component = component
        self.config = ObservabilityConfig()
        self._headers: dict[str, str] = {}
        self._pipeline: _Pipeline | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether something is being exported."""
        return self._pipeline is not None

    def apply(self, config: ObservabilityConfig, headers: Mapping[str, str] | None = None) -> bool:
        """Switch to ``config`` (with these header values); True when the pipeline was rebuilt."""
        headers = {k: v for k, v in (headers or {}).items() if k in config.header_names}
        with self._lock:
            same = config == self.config and headers == self._headers
            self.config = config
            if same and (self._pipeline is not None) == config.active:
                return False
            old, self._pipeline, self._headers = self._pipeline, None, headers
            if config.active:
                self._pipeline = self._build(config, headers)
        if old is not None:
            old.shutdown()
        log.info(
            "observability: %s",
            f"exporting to {config.endpoint} as {self.service_name}" if config.active else "export off",
        )
        return True

    @property
    def service_name(self) -> str:
        """The ``service.name`` this process exports under."""
        return f"{self.config.service_name}-{self.component}"

    def _build(self, config: ObservabilityConfig, headers: Mapping[str, str]) -> _Pipeline:
        resource = Resource.create({"service.name": self.service_name, "daytwo.component": self.component})
        tracer_provider = tracer = meter_provider = exporter = None
        if config.trace_enabled:
            tracer_provider = TracerProvider(
                resource=resource, sampler=ParentBased(TraceIdRatioBased(config.sampling_ratio))
            )
            span_exporter = OTLPSpanExporter(endpoint=f"{config.endpoint}/v1/traces", headers=dict(headers), timeout=10)
            tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter, schedule_delay_millis=2000))
            tracer = tracer_provider.get_tracer("daytwo")
        if config.metrics_enabled:
            exporter = _CountingMetricExporter(
                endpoint=f"{config.endpoint}/v1/metrics", headers=dict(headers), timeout=10
            )
            reader = PeriodicExportingMetricReader(
                exporter, export_interval_millis=config.export_interval_seconds * 1000
            )
            meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        return _Pipeline(tracer_provider, tracer, meter_provider, exporter)

    @contextmanager
    def span(self, name: str, attributes: Mapping[str, str] | None = None) -> Iterator[None]:
        """A span around the block (none while tracing is off)."""
        pipeline = self._pipeline
        if pipeline is None or pipeline.tracer is None:
            yield
            return
        with pipeline.tracer.start_as_current_span(name, attributes=dict(attributes or {})):
            yield

    def record_span(
        self, name: str, start_ns: int, end_ns: int, attributes: Mapping[str, Any], kind: SpanKind = SpanKind.SERVER
    ) -> None:
        """A span that already happened (the facade's front door records each request when it is answered)."""
        pipeline = self._pipeline
        if pipeline is None or pipeline.tracer is None:
            return
        span = pipeline.tracer.start_span(name, kind=kind, attributes=dict(attributes), start_time=start_ns)
        span.end(end_time=end_ns)

    def count(self, name: str, attributes: Mapping[str, str], value: int = 1) -> None:
        """Add ``value`` to counter ``name``."""
        pipeline = self._pipeline
        if pipeline is None or pipeline.meter_provider is None:
            return
        counter = pipeline.counters.get(name)
        if counter is None:
            counter = pipeline.counters.setdefault(
                name, pipeline.meter_provider.get_meter("daytwo").create_counter(name)
            )
        counter.add(value, dict(attributes))

    def observe(self, name: str, value: float, attributes: Mapping[str, str], unit: str = "s") -> None:
        """Record ``value`` in histogram ``name``."""
        pipeline = self._pipeline
        if pipeline is None or pipeline.meter_provider is None:
            return
        histogram = pipeline.histograms.get(name)
        if histogram is None:
            created = pipeline.meter_provider.get_meter("daytwo").create_histogram(name, unit=unit)
            histogram = pipeline.histograms.setdefault(name, created)
        histogram.record(value, dict(attributes))

    @contextmanager
    def timed(self, kind: str, name: str, attributes: Mapping[str, str]) -> Iterator[None]:
        """A span named ``name`` plus ``daytwo.<kind>.count`` / ``daytwo.<kind>.duration`` for the block."""
        started = time.monotonic()
        outcome = "error"
        try:
            with self.span(name, attributes):
                yield
            outcome = "success"
        finally:
            labels = {**attributes, "outcome": outcome}
            self.count(f"daytwo.{kind}.count", labels)
            self.observe(f"daytwo.{kind}.duration", time.monotonic() - started, labels)

    def flush(self, timeout_millis: int = 10_000) -> int:
        """Export what is pending now (spans and metrics); the number of metrics the export carried."""
        pipeline = self._pipeline
        if pipeline is None:
            return 0
        count = 0
        # metrics first: a pass's span ends before its metrics are recorded, so every span whose metrics
        # were just sent is in the queue the trace flush empties
        if pipeline.meter_provider is not None and pipeline.metric_exporter is not None:
            pipeline.meter_provider.force_flush(timeout_millis)
            count = pipeline.metric_exporter.last_count
        if pipeline.tracer_provider is not None:
            pipeline.tracer_provider.force_flush(timeout_millis)
        return count

    def shutdown(self) -> None:
        """Flush and stop (process exit)."""
        with self._lock:
            old, self._pipeline = self._pipeline, None
        if old is not None:
            old.shutdown()


#: Reads (ConfigMap data or None, header values); raises when Kubernetes cannot be reached.
ConfigReader = Callable[[], tuple[Mapping[str, str] | None, Mapping[str, str]]]


class ConfigPoller:
    """Re-reads the configuration every ``interval`` seconds and applies it to ``telemetry`` (no restart);
    a new ``export_requested_at`` token flushes at once."""

    def __init__(self, telemetry: Telemetry, read: ConfigReader, interval: float) -> None:
        self.telemetry = telemetry
        self.read = read
        self.interval = interval
        self._token: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> None:
        """One read and apply (a failed read keeps the current configuration)."""
        try:
            data, headers = self.read()
        except Exception as error:
            log.warning(
                "observability: reading the configuration failed (%s); keeping the current one", type(error).__name__
            )
            return
        config = parse_config(data)
        self.telemetry.apply(config, headers)
        if self._token is not None and config.export_requested_at != self._token:
            count = self.telemetry.flush()
            log.info("observability: exported on request (%d metrics)", count)
        self._token = config.export_requested_at

    def start(self) -> ConfigPoller:
        """Poll in a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stop.is_set():
                self.poll()
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="observability-config", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling and flush what is pending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.telemetry.shutdown()


def redacted(header_names: Sequence[str]) -> dict[str, str]:
    """Header names with their values hidden, as the API shows them."""
    return {name: "********" for name in header_names}


#: The operator's pipeline (the facade has its own, ``daytwo.api.observability.TELEMETRY``).
TELEMETRY = Telemetry("operator")


def start_polling(
    where: str,
    interval: float,
    read_configmap: Callable[[str, str], Mapping[str, str] | None],
    read_secret: Callable[[str, str], Mapping[str, str]],
) -> ConfigPoller | None:
    """Poll ConfigMap ``where`` (``namespace/name``) for the operator's :data:`TELEMETRY`; None when unset."""
    namespace, _, name = where.partition("/")
    if not namespace or not name:
        return None

    def read() -> tuple[Mapping[str, str] | None, Mapping[str, str]]:
        data = read_configmap(namespace, name)
        names = parse_config(data).header_names
        return data, (read_secret(namespace, headers_secret_name(name)) if names else {})

    return ConfigPoller(TELEMETRY, read, interval).start()
