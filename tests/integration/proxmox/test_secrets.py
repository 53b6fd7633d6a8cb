"""The token secret never appears in a log record or in an error produced by the failure paths."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

import pytest
from daytwo.operator.backends.proxmox import GuestRef, ProxmoxClientFactory, ProxmoxConnectionParams
from daytwo.operator.errors import BackendError

from tests.standins.proxmox import PveStandin, closed_port, run_fakepve

from .conftest import make_params

pytestmark = pytest.mark.integration


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _failures(pve: PveStandin, factory: ProxmoxClientFactory, bad_cert: PveStandin) -> list[BackendError]:
    """Run each failure path once; return the errors raised."""
    stopped = pve.guest("vm", "stopped")
    running = pve.guest("vm", "running")
    good = factory.get(make_params(pve))
    limited = factory.get(make_params(pve, token_id=pve.nopower_token_id, token_secret=pve.nopower_token_secret))

    def wrong_secret() -> None:
        factory.get(make_params(pve, token_secret=pve.token_secret + "-wrong")).version()

    def no_power() -> None:
        limited.stop(GuestRef(running.node, running.vmid))

    def untrusted_cert() -> None:
        factory.get(make_params(bad_cert)).version()

    def unreachable() -> None:
        factory.get(
            ProxmoxConnectionParams(
                "127.0.0.1", port=closed_port(), token_id=pve.token_id, token_secret=pve.token_secret
            )
        ).nodes()

    def missing_guest() -> None:
        good.list_snapshots(GuestRef("pve1", 4242))

    def server_error() -> None:
        pve.fail("GET", "/cluster/status", 503, "Service Unavailable")
        good.cluster_status()

    def task_error() -> None:
        pve.fail_start(stopped.vmid, "start failed: boom")
        ref = GuestRef(stopped.node, stopped.vmid)
        good.wait_task(ref.node, good.start(ref), timeout=10, poll_interval=0.05)

    def too_slow() -> None:
        pve.slow_network(1.0)
        factory.get(make_params(pve, timeout_seconds=0.2)).guests()

    errors: list[BackendError] = []
    for scenario in (
        wrong_secret,
        no_power,
        untrusted_cert,
        unreachable,
        missing_guest,
        server_error,
        task_error,
        too_slow,
    ):
        try:
            scenario()
        except BackendError as error:
            errors.append(error)
    return errors


def test_secret_never_in_logs_or_errors(pve: PveStandin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # everything: ours, proxmoxer's, urllib3's
    for name in ("urllib3", "proxmoxer", "proxmoxer.core", "proxmoxer.backends.https"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    secrets = [pve.token_secret, pve.token_secret + "-wrong", pve.nopower_token_secret]
    factory = ProxmoxClientFactory(retries=1, backoff_seconds=0.01)
    try:
        with run_fakepve(1, 1, cert="foreign-ca") as bad_cert:
            bad_cert.token_secret = pve.token_secret  # same secret sent to the bad endpoint
            errors = _failures(pve, factory, bad_cert)
    finally:
        factory.close()
        for name in ("urllib3", "proxmoxer", "proxmoxer.core", "proxmoxer.backends.https"):
            logging.getLogger(name).setLevel(logging.NOTSET if name == "urllib3" else logging.WARNING)

    assert [e.reason for e in errors] == [
        "AuthFailed",
        "PermissionDenied",
        "TLSVerificationFailed",
        "Unavailable",
        "NotFound",
        "Unavailable",
        "TaskFailed",
        "Timeout",
    ]
    assert caplog.records, "the failures were logged"
    texts = []
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    for error in errors:
        assert error.__cause__ is None and error.__context__ is None, "no requests object (with headers) kept"
        for link in _chain(error):
            texts += [str(link), repr(link), repr(link.args), repr(vars(link))]
        texts.append("".join(traceback.format_exception(error)))
    for secret in secrets:
        leaks = [t for t in texts if secret in t]
        assert not leaks, f"secret leaked in: {leaks[:1]}"
