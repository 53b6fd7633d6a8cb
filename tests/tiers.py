"""The rules of the test tiers, as pytest hooks and fixtures (wired in by tests/conftest.py and tests/unit/conftest.py).

- No test skips: a skipped test fails (a missing prerequisite must fail loudly, in CI and on a laptop
  alike), unless its node id is in :data:`ALLOWED_SKIPS` with the reason.
- The unit tier runs no subprocess and opens no network connection: :func:`unit_tier_guard` makes
  ``subprocess``/``os.system`` and ``connect``/name lookups to anything but the loopback interface raise
  :class:`UnitTierViolation`. Loopback stays open for the in-process servers some unit tests run.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
from collections.abc import Generator, Iterator
from typing import Any

import pytest

__all__ = [
    "ALLOWED_SKIPS",
    "UnitTierViolation",
    "is_loopback",
    "pytest_make_collect_report",
    "pytest_runtest_makereport",
    "unit_tier_guard",
]

#: Node id -> why it may skip. Empty on purpose: every prerequisite is installed by `make setup`.
ALLOWED_SKIPS: dict[str, str] = {}

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class UnitTierViolation(AssertionError):
    """A unit test started a process or reached past the loopback interface: it belongs in another tier."""


def _skip_reason(longrepr: Any) -> str:
    """The reason pytest recorded for a skip (a (path, line, reason) tuple or text)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _refuse_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skip report into a failure that says why skips are not allowed."""
    reason = _skip_reason(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"skipped ({reason}): daytwo's tests never skip - install the missing prerequisite (`make setup`) "
        "or list the node id with a reason in tests/tiers.py ALLOWED_SKIPS"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """A skipped test (skip, skipif, importorskip) is reported as failed unless ALLOWED_SKIPS names it."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and item.nodeid not in ALLOWED_SKIPS:
        _refuse_skip(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    """A module that skips itself at import (allow_module_level) fails collection instead."""
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()
    if report.skipped and collector.nodeid not in ALLOWED_SKIPS:
        _refuse_skip(report)


def is_loopback(host: object) -> bool:
    """Whether ``host`` (a name, an address, or None for the local default) stays on this machine."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> UnitTierViolation:
    return UnitTierViolation(
        f"unit tests run no subprocess and reach no network: {what} (move the test to tests/integration or tests/e2e)"
    )


@pytest.fixture(scope="package", autouse=True)
def unit_tier_guard() -> Iterator[None]:
    """For the tests of the package that uses it: subprocesses and non-loopback connections raise."""
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def _check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise _refuse(f"connect to {address[0]}:{address[1]}")

    def connect(sock: socket.socket, address: Any) -> None:
        _check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        _check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise _refuse(f"name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def no_child(*args: Any, **kwargs: Any) -> Any:
        raise _refuse(f"subprocess {args[1] if len(args) > 1 else args!r}")

    def no_system(command: str) -> int:
        raise _refuse(f"os.system({command!r})")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        patch.setattr(subprocess.Popen, "_execute_child", no_child)
        patch.setattr(os, "system", no_system)
        yield
