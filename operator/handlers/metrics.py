"""The operator's ``/metrics`` endpoint: served from start-up, fed by one watch handler per kind.

The metrics themselves and their label sets are ``daytwo.operator.metrics``; here only the Kopf glue:
start and stop the HTTP server, report the pass pool's saturation, and keep the Ready status of every
watched object (from the watch events, no extra API call) so ``daytwo_objects{kind, ready}`` counts them.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf
from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.kinds import KINDS

from ..metrics import MetricsServer, forget_object, record_object, serve, watch_pool
from ..settings import OperatorSettings
from .passpool import pass_pool

__all__ = ["ready_status", "register"]

log = logging.getLogger(__name__)


def ready_status(status: dict[str, Any] | None) -> str | None:
    """The ``status`` of the Ready condition in an object's status, None when it has none yet."""
    for condition in (status or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return str(condition.get("status"))
    return None


def register(settings: OperatorSettings) -> None:
    """Serve ``/metrics`` while the operator runs (unless ``metrics_port`` is 0) and count objects per kind."""
    running: list[MetricsServer] = []

    @kopf.on.startup(id="metrics")
    def start_metrics(**_: Any) -> None:
        watch_pool(lambda: pass_pool().usage())
        if not settings.metrics_port:
            return
        try:
            running.append(serve(settings.metrics_address, settings.metrics_port))
        except OSError as error:  # the operator works on without metrics; the scrape target shows down
            log.error(
                "cannot serve /metrics on %s:%d (%s): set DAYTWO_METRICS_PORT to a free port, or 0 for none",
                settings.metrics_address,
                settings.metrics_port,
                error.strerror or error,
            )
            return
        log.info("metrics at http://%s:%d/metrics", settings.metrics_address, running[-1].port)

    @kopf.on.cleanup(id="metrics")
    def stop_metrics(**_: Any) -> None:
        watch_pool(None)
        while running:
            running.pop().stop()

    for definition in KINDS:

        def observe(
            type: str | None,
            name: str,
            namespace: str | None,
            status: kopf.Status,
            _kind: str = definition.info.kind,
            **_: Any,
        ) -> None:
            if type == "DELETED":
                forget_object(_kind, str(namespace), name)
            else:
                record_object(_kind, str(namespace), name, ready_status(dict(status)))

        kopf.on.event(GROUP, VERSION, definition.info.plural, id="metrics")(observe)
