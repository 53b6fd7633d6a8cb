"""A local OTLP/HTTP receiver: decodes ExportTraceServiceRequest and ExportMetricsServiceRequest (protobuf,
opentelemetry-proto) posted to ``/v1/traces`` and ``/v1/metrics`` and keeps what arrived.

    with OtlpReceiver() as receiver:
        receiver.endpoint                 # http://127.0.0.1:<port>, the base URL daytwo is configured with
        receiver.spans("daytwo-api")      # [(span name, {attribute: value})] from that service.name
        receiver.metric_names("daytwo-operator"), receiver.headers
"""

from __future__ import annotations

import gzip
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

__all__ = ["OtlpReceiver"]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _attributes(items: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items if isinstance(item, KeyValue)}


class OtlpReceiver:
    """The receiver on a free loopback port, in a thread of the test process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self._metrics: dict[str, set[str]] = defaultdict(set)
        #: request headers of every export (lower-case names)
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                with receiver._lock:
                    receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path == "/v1/traces":
                    receiver._traces(body)
                    answer = ExportTraceServiceResponse().SerializeToString()
                elif self.path == "/v1/metrics":
                    receiver._metrics_of(body)
                    answer = ExportMetricsServiceResponse().SerializeToString()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL to configure (exporters post to /v1/traces and /v1/metrics under it)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _traces(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            for resource_spans in request.resource_spans:
                service = str(_attributes(resource_spans.resource.attributes).get("service.name"))
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self._spans[service].append((span.name, _attributes(span.attributes)))

    def _metrics_of(self, body: bytes) -> None:
        request = ExportMetricsServiceRequest.FromString(body)
        with self._lock:
            for resource_metrics in request.resource_metrics:
                service = str(_attributes(resource_metrics.resource.attributes).get("service.name"))
                for scope in resource_metrics.scope_metrics:
                    self._metrics[service].update(metric.name for metric in scope.metrics)

    def spans(self, service: str) -> list[tuple[str, dict[str, Any]]]:
        """(name, attributes) of every span received from ``service``."""
        with self._lock:
            return list(self._spans.get(service, []))

    def metric_names(self, service: str) -> set[str]:
        """Names of the metrics received from ``service``."""
        with self._lock:
            return set(self._metrics.get(service, set()))

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
