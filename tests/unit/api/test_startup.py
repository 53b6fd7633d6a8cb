"""Facade start-up and shutdown in-process: serving at once, /ready naming what it waits for, no thread left."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from daytwo.api.app import build_services, create_app
from daytwo.api.audit import AuditLog
from daytwo.api.auth.accounts import Accounts
from daytwo.api.auth.service import AuthPolicy, AuthService
from daytwo.api.deps import Services
from daytwo.api.settings import ApiSettings
from daytwo.api.startup import BOOTSTRAP_WAIT
from daytwo.api.store import KindSpec, ObjectStore, WatchSource
from fastapi.testclient import TestClient
from kubernetes import client

from tests.harness.fakes import TEST_SECRET, SecretsAndConfigMaps

NAMESPACE = "ns-7d1f0c2e"


class HeldSource:
    """Lists every kind empty, except those in ``held`` until :meth:`release`; watches block until closed."""

    def __init__(self, held: set[str] | None = None) -> None:
        self.held = held or set()
        self.released = threading.Event()
        self.closed = threading.Event()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        """What KubeSource.close does: open streams end, so their threads see the stop."""
        self.closed.set()

    def list(self, spec: KindSpec, namespace: str) -> tuple[list[dict[str, Any]], str]:
        if spec.kind in self.held:
            while not self.released.wait(0.05):
                if self.closed.is_set():
                    raise ConnectionError("source closed")
        return [], "1"

    def watch(self, spec: KindSpec, namespace: str, resource_version: str) -> Iterator[dict[str, Any]]:
        self.closed.wait()
        return iter(())


def builder(source: HeldSource) -> Callable[[ApiSettings], tuple[Services, WatchSource | None]]:
    def build(settings: ApiSettings) -> tuple[Services, WatchSource | None]:
        store = ObjectStore(settings.namespace, source)
        writes = SecretsAndConfigMaps()
        accounts = Accounts(settings.namespace, TEST_SECRET, source, writes)
        auth = AuthService(accounts, TEST_SECRET, 3600, 10, 600)
        return Services(settings, store, auth, None, AuditLog(store, writes, settings.namespace)), source

    return build


def settings() -> ApiSettings:
    return ApiSettings(namespace=NAMESPACE, jwt_secret=TEST_SECRET, startup_timeout_seconds=1)


def poll(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_lifespan_start_and_stop_leave_no_thread_behind() -> None:
    before = set(threading.enumerate())
    source = HeldSource()
    with TestClient(create_app(settings(), build=builder(source))) as http:
        assert poll(lambda: http.get("/ready").status_code == 200)
        assert http.get("/ready").json() == {"ready": True, "waiting": []}
        started = {t.name for t in set(threading.enumerate()) - before}
        assert {"watch-SnapshotPolicy", "watch-auth-secrets", "facade-startup", "audit-flush"} <= started
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []


def test_ready_names_what_it_waits_for_until_the_store_has_synced() -> None:
    before = set(threading.enumerate())
    source = HeldSource(held={"SnapshotPolicy"})
    with TestClient(create_app(settings(), build=builder(source))) as http:
        # serving at once: liveness answers while the cache is still listing
        assert http.get("/health").json()["cache"] == "syncing"
        answer = http.get("/ready")
        assert answer.status_code == 503
        assert "cache: waiting for the first list of SnapshotPolicy" in answer.json()["waiting"]
        assert answer.json()["ready"] is False
        # the bootstrap step does not wait for the cache
        assert poll(lambda: BOOTSTRAP_WAIT not in http.get("/ready").json()["waiting"])
        assert http.get("/ready").json()["waiting"][0] == "cache: waiting for the first list of SnapshotPolicy"
        source.release()
        assert poll(lambda: http.get("/ready").status_code == 200)
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def test_shutdown_before_the_store_synced_stops_every_thread() -> None:
    before = set(threading.enumerate())
    source = HeldSource(held={"DriftEvent"})
    with TestClient(create_app(settings(), build=builder(source))) as http:
        assert http.get("/ready").status_code == 503
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def test_the_auth_service_gets_the_account_limits_from_the_settings() -> None:
    configured = ApiSettings(
        namespace=NAMESPACE,
        jwt_secret=TEST_SECRET,
        login_account_failures=7,
        login_account_max_backoff_seconds=120,
        api_keys_per_user=3,
        api_key_lifetime_days=30,
    )
    kube = client.ApiClient(client.Configuration())
    try:
        services, _source = build_services(configured, kube)
        assert services.auth is not None
        assert services.auth.policy == AuthPolicy.from_settings(configured)
        assert services.auth.policy != AuthPolicy()
    finally:
        kube.close()
