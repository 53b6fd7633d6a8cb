"""The facade's OpenTelemetry export (daytwo.operator.observability does the OTel part): its configuration
from the ConfigMap in the served namespace, applied whenever the cache sees it change (no restart), and one
span plus request metrics per request (the front door calls :func:`record_request`).

The ConfigMap (``DAYTWO_API_OBSERVABILITY_CONFIGMAP``, default ``daytwo-observability``) carries the label
``app.kubernetes.io/part-of=daytwo`` so the facade's cache holds it; header values live in the Secret
``<configmap>-headers`` (read as the facade, values never logged nor answered).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from daytwo.operator.observability import (
    ObservabilityConfig,
    Telemetry,
    headers_secret_name,
    parse_config,
)
from starlette.types import Scope

from .kube import request_json

if TYPE_CHECKING:
    from .deps import Services

__all__ = ["TELEMETRY", "ConfigWatch", "current_config", "record_request"]

log = logging.getLogger("daytwo.api.observability")

#: The facade's pipeline (``service.name`` ``<service_name>-api``).
TELEMETRY = Telemetry("api")


def current_config(services: Services) -> ObservabilityConfig:
    """The configuration as the cache holds it (defaults when the ConfigMap does not exist)."""
    found = services.store.get("ConfigMap", services.settings.observability_configmap)
    return parse_config((found or {}).get("data"))


def _header_values(services: Services, config: ObservabilityConfig) -> dict[str, str]:
    """The header values from their Secret, read as the facade ({} without header names or Secret)."""
    if not config.header_names or services.kube is None:
        return {}
    name = headers_secret_name(services.settings.observability_configmap)
    try:
        found = request_json(services.kube, "GET", f"/api/v1/namespaces/{services.settings.namespace}/secrets/{name}")
    except Exception as error:
        log.warning("observability: cannot read Secret %s (%s); exporting without headers", name, type(error).__name__)
        return {}
    data = (found or {}).get("data") or {}
    return {key: base64.b64decode(value).decode() for key, value in data.items() if key in config.header_names}


class ConfigWatch:
    """Applies the ConfigMap to :data:`TELEMETRY` at start-up and on every change the cache sees (in its own
    thread: rebuilding flushes the old exporter, which must not hold up the watch); a new
    ``export_requested_at`` (another replica's "export now") flushes."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._token: str | None = None
        self._thread = threading.Thread(target=self._loop, name="observability-config", daemon=True)

    def _on_event(self, _type: str, obj: dict[str, Any]) -> None:
        if obj.get("metadata", {}).get("name") == self.services.settings.observability_configmap:
            self._changed.set()

    def apply(self) -> None:
        """Read the cached configuration (and header Secret) and apply it now."""
        config = current_config(self.services)
        TELEMETRY.apply(config, _header_values(self.services, config))
        if self._token is not None and config.export_requested_at != self._token:
            TELEMETRY.flush()
        self._token = config.export_requested_at

    def _loop(self) -> None:
        self.services.store.wait_synced(self.services.settings.startup_timeout_seconds)
        while not self._stop.is_set():
            self._changed.clear()
            try:
                self.apply()
            except Exception:
                log.exception("observability: applying the configuration failed")
            # the Secret is not watched: re-read it now and then even when the ConfigMap stays the same
            self._changed.wait(self.services.settings.observability_reload_seconds)

    def start(self) -> ConfigWatch:
        """Subscribe to the cache and start applying."""
        self.services.store.subscribe(self._on_event)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Unsubscribe, stop, flush."""
        self.services.store.unsubscribe(self._on_event)
        self._stop.set()
        self._changed.set()
        self._thread.join(timeout=5)
        TELEMETRY.shutdown()


def record_request(scope: Scope, status: int, started_ns: int) -> None:
    """One span (``<METHOD> <route template>``) and the request metrics for an answered request."""
    if not TELEMETRY.active:
        return
    method = str(scope.get("method", ""))
    route = getattr(scope.get("route"), "path", None)
    template = f"{scope.get('root_path', '')}{route}" if route else "unmatched"
    attributes = {"http.request.method": method, "http.route": template, "http.response.status_code": status}
    ended = time.time_ns()
    TELEMETRY.record_span(f"{method} {template}", started_ns, ended, attributes)
    labels: Mapping[str, str] = {"method": method, "route": template, "status": str(status)}
    TELEMETRY.count("daytwo.api.requests", labels)
    TELEMETRY.observe("daytwo.api.request.duration", (ended - started_ns) / 1e9, labels)
