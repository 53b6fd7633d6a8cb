"""The facade's start-up and shutdown: bounded, observable, and every background thread stopped.

:meth:`Startup.start` returns at once (the app serves from the first moment); one ``facade-startup``
thread then lists the auth Secrets, creates the bootstrap admin, starts the audit writer and, once
the cache has synced, webhook delivery. It waits for those first lists at most
``ApiSettings.startup_timeout_seconds`` each: past that, what depends on them starts anyway (with a
warning) and ``/ready`` keeps naming what is still missing (:meth:`Startup.waiting`). The same
thread then keeps the cache out of the cyclic GC's sight (``gc.freeze``) as it grows, until
:meth:`Startup.stop`, which ends every thread the facade started: the watches (their streams
closed), the audit writer (flushed), webhook delivery and this one.
"""

from __future__ import annotations

import base64
import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .deps import Services
from .kube import request_json
from .store import WatchSource
from .webhooks import service as webhooks

__all__ = ["AUTH_WAIT", "BOOTSTRAP_WAIT", "WEBHOOKS_WAIT", "Startup"]

log = logging.getLogger("daytwo.api")

AUTH_WAIT = "auth: waiting for the first list of the facade's auth Secrets"
BOOTSTRAP_WAIT = "auth: the bootstrap admin is not set up yet"
WEBHOOKS_WAIT = "webhooks: delivery has not started yet"


class Startup:
    """Start the facade's background work without blocking, report what it waits for, stop it all."""

    def __init__(
        self,
        services: Services,
        source: WatchSource | None,
        timeout: float,
        freeze_every: float = 30.0,
        freeze_growth: int = 1000,
    ) -> None:
        self.services = services
        self.source = source
        self.timeout = timeout
        self.freeze_every = freeze_every
        self.freeze_growth = freeze_growth
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pending = [BOOTSTRAP_WAIT, WEBHOOKS_WAIT] if services.auth is not None else [WEBHOOKS_WAIT]

    def start(self) -> None:
        """Start the watches and the start-up thread; returns at once."""
        self.services.store.start()
        if self.services.auth is not None:
            watcher = self.services.auth.accounts.watcher
            self._spawn(watcher.run, "watch-auth-secrets", self._stop)
        self._spawn(self._run, "facade-startup")

    def waiting(self) -> list[str]:
        """What the facade still waits for before it is ready (empty: ready)."""
        found = self.services.store.waiting()
        auth = self.services.auth
        if auth is not None and not auth.accounts.watcher.synced.is_set():
            error = auth.accounts.watcher.last_error
            found.append(AUTH_WAIT + (f" (last error: {error})" if error else ""))
        return found + list(self._pending)

    def stop(self, timeout: float = 10.0) -> None:
        """End every thread the facade started (watches, audit writer, webhook delivery, start-up)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        self.services.store.stop(timeout / 2)  # also closes the source's open streams
        webhooks.stop(self.services.store)
        if self.services.audit is not None:
            self.services.audit.stop()
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        if self.services.kube is not None:
            self.services.kube.close()

    def threads(self) -> list[threading.Thread]:
        """The threads started here and by the store (shutdown checks)."""
        return [*self._threads, *self.services.store.threads()]

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _wait(self, done: Callable[[], bool], what: str) -> bool:
        """Wait until ``done()``, at most ``timeout`` seconds, stopping early on :meth:`stop`."""
        deadline = time.monotonic() + self.timeout
        while not done():
            if self._stop.is_set():
                return False
            if time.monotonic() >= deadline:
                log.warning("%s not done after %ss (startup_timeout_seconds); going on without it", what, self.timeout)
                return False
            self._stop.wait(0.05)
        return True

    def _run(self) -> None:
        """The start-up sequence, then the cache's GC freezing until :meth:`stop`."""
        services = self.services
        if services.auth is not None:
            self._wait(services.auth.accounts.watcher.synced.is_set, "listing the auth Secrets")
            if self._stop.is_set():
                return
            self._bootstrap()
            self._pending.remove(BOOTSTRAP_WAIT)
        if services.audit is not None:
            services.audit.start()
        if not self._wait(services.store.synced, "the cache's first lists") and self._stop.is_set():
            return
        webhooks.start(services.store, services.kube, services.settings.namespace)
        self._pending.remove(WEBHOOKS_WAIT)
        self._freeze_cache()

    def _bootstrap(self) -> None:
        """Create or update the bootstrap superadmin from its Secret (warn when there is none)."""
        settings, auth = self.services.settings, self.services.auth
        assert auth is not None
        name = settings.bootstrap_secret
        if self.services.kube is None:
            log.warning("no bootstrap admin: no Kubernetes client to read Secret %s", name)
            return
        try:
            secret = request_json(self.services.kube, "GET", f"/api/v1/namespaces/{settings.namespace}/secrets/{name}")
            data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
            if data.get("username") and data.get("password"):
                auth.bootstrap(data["username"], data["password"])
            else:
                log.warning("bootstrap Secret %s lacks username/password; no bootstrap admin", name)
        except Exception as error:
            log.warning("no bootstrap admin: could not read Secret %s (%s)", name, getattr(error, "reason", error))

    def _freeze_cache(self) -> None:
        """Move the cached objects out of the cyclic GC's sight (``gc.freeze``) once synced and as the
        cache grows, until :meth:`stop`.

        10,000 CRs are millions of dicts and strings; without this every full collection walks them all
        (p99 spikes). They are acyclic JSON, so reference counting still frees them when they go.
        """
        store = self.services.store
        frozen = -self.freeze_growth
        while not self._stop.is_set():
            if store.synced():
                total = sum(kind["objects"] for kind in store.status().values())
                if abs(total - frozen) >= self.freeze_growth or frozen < 0:
                    gc.collect()
                    gc.freeze()
                    frozen = total
            self._stop.wait(self.freeze_every)
