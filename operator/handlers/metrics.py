"""The operator's ``/metrics`` endpoint, served from start-up to clean-up.

The metrics themselves, their label sets and who records them are ``daytwo.operator.metrics``; here only
the Kopf glue: start and stop the HTTP server and report the pass pool's saturation.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from ..metrics import MetricsServer, serve, watch_pool
from ..settings import OperatorSettings
from .passpool import pass_pool

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(settings: OperatorSettings) -> None:
    """Serve ``/metrics`` while the operator runs (unless ``metrics_port`` is 0)."""
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
