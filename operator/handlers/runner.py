"""Start Kopf with daytwo's settings: finalizer, annotation prefix, liveness, JSON logs, workers."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from ..settings import OperatorSettings
from ..stopping import STOP
from . import (
    aggregatemigration,
    alerts,
    cloudcredential,
    cloudresource,
    drift,
    metrics,
    proxmoxnode,
    references_index,
    restorejob,
    snapshotpolicy,
    users_index,
)
from .lifecycle import register_pending_kinds
from .passpool import configure_pass_pool
from .sharding import register as register_sharding

__all__ = ["FINALIZER", "run"]

FINALIZER = "daytwo.io/finalizer"
#: Kopf's own bookkeeping annotations live under their own prefix: Kopf ignores every annotation under
#: its storage prefix when it compares objects, so user-facing ones (daytwo.io/reconcile-requested-at)
#: must not share it, or setting them would never trigger a handler.
_PREFIX = "kopf.daytwo.io"


def run(settings: OperatorSettings) -> None:
    """Configure logging, register every kind's handlers and run the operator until stopped."""
    log_format = {"json": kopf.LogFormat.JSON, "full": kopf.LogFormat.FULL, "plain": kopf.LogFormat.PLAIN}
    kopf.configure(verbose=settings.log_level == "DEBUG", log_format=log_format[settings.log_format])
    logging.getLogger().setLevel(settings.log_level)
    for noisy in ("kubernetes", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    configure_pass_pool(settings)
    register_sharding(settings)  # DAYTWO_SHARDS > 1: the Lease heartbeat that decides which objects are ours
    register_pending_kinds(settings)
    users_index.register(settings)
    references_index.register()
    proxmoxnode.register(settings)
    aggregatemigration.register(settings)
    cloudcredential.register(settings)
    cloudresource.register(settings)
    drift.register(settings)
    snapshotpolicy.register(settings)
    restorejob.register(settings)
    metrics.register(settings)
    alerts.register(settings)

    @kopf.on.startup()
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.persistence.finalizer = FINALIZER
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=_PREFIX)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=_PREFIX, key="last-handled-configuration"
        )
        settings.posting.level = logging.WARNING
        settings.execution.max_workers = daytwo_settings.workers
        settings.watching.server_timeout = 300
        settings.networking.request_timeout = 60
        settings.batching.error_delays = [1, 2, 5, 10, 30, 60]

    @kopf.on.cleanup()
    def stop_blocking_work(**_: Any) -> None:
        """Backstop for passes outside the polling daemons (which set it on exit): end their sleeps now."""
        STOP.set()

    daytwo_settings = settings
    kopf.run(
        clusterwide=not settings.namespaces,
        namespaces=settings.namespaces,
        standalone=settings.peering_name is None,
        peering_name=settings.peering_name,
        priority=settings.effective_peering_priority(),
        liveness_endpoint=settings.liveness_endpoint,
    )
