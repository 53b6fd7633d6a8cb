"""The one error mapping table: every Proxmox/transport failure -> its class in the shared taxonomy.

HTTP rows go over real HTTPS through proxmoxer: the stand-in answers with that status and PVE message.
The transport rows (the exceptions requests raises, fed straight to ``map_exception``) are a unit test:
tests/unit/backends/proxmox/test_proxmox_error_table.py; their live versions are in test_faults.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from daytwo.operator.backends.proxmox import (
    ProxmoxClientFactory,
    ProxmoxerBackend,
    missing_privilege,
)
from daytwo.operator.errors import (
    AuthFailed,
    BackendError,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Timeout,
    Unavailable,
)

from tests.standins.proxmox import PveStandin, run_fakepve

from .conftest import make_params

pytestmark = pytest.mark.integration

HTTP_TABLE: list[tuple[int, str, type[BackendError]]] = [
    (400, "Parameter verification failed.", InvalidRequest),
    (401, "authentication failure", AuthFailed),
    (403, "Permission check failed (/vms/100, VM.PowerMgmt)", PermissionDenied),
    (404, "Not Found", NotFound),
    (409, "conflict", Conflict),
    (422, "Unprocessable Entity", InvalidRequest),
    (429, "Too Many Requests", Unavailable),
    (500, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist", NotFound),
    (500, "snapshot 'x' does not exist", NotFound),
    (500, "unable to parse worker upid 'UPID:x'", NotFound),
    (500, "hostname lookup 'pve9' failed - failed to get address info for: pve9", NotFound),
    (500, "VM is locked (backup)", Conflict),
    (500, "VM 100 already running", Conflict),
    (500, "VM 100 not running", Conflict),
    (500, "snapshot name 'x' already used", Conflict),
    (500, "Full clone of a running container is only possible from a snapshot", InvalidRequest),
    (500, "cluster not ready - no quorum?", Unavailable),
    (500, "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout", Unavailable),
    (500, "something broke", Unavailable),
    (501, "Method 'POST /nodes/pve1/qemu/100/status/fly' not implemented", InvalidRequest),
    (502, "Bad Gateway", Unavailable),
    (503, "Service Unavailable", Unavailable),
    (595, "No route to host", Unavailable),
    (596, "Connection timed out", Unavailable),
]


@pytest.fixture(scope="module")
def standin() -> Iterator[PveStandin]:
    """One stand-in for the whole table."""
    with run_fakepve(1, 1) as pve:
        yield pve


@pytest.fixture(scope="module")
def once(standin: PveStandin) -> Iterator[ProxmoxerBackend]:
    """A client that does not retry, so each row is one request."""
    factory = ProxmoxClientFactory(retries=0)
    yield factory.get(make_params(standin))
    factory.close()


def _answer(standin: PveStandin, client: ProxmoxerBackend, status: int, message: str) -> BackendError:
    standin.fail("GET", "/version", status, message, times=1)
    with pytest.raises(BackendError) as caught:
        client.version()
    return caught.value


@pytest.mark.parametrize(
    ("status", "message", "expected"), HTTP_TABLE, ids=[f"{s}-{t.__name__}-{m[:24]}" for s, m, t in HTTP_TABLE]
)
def test_http_table(
    standin: PveStandin, once: ProxmoxerBackend, status: int, message: str, expected: type[BackendError]
) -> None:
    error = _answer(standin, once, status, message)
    assert type(error) is expected
    assert error.status_code == status
    assert error.message.startswith(f"read version: HTTP {status} {message}")
    assert error.retryable == issubclass(expected, (Unavailable, Timeout))


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        ("Permission check failed (/vms/100, VM.PowerMgmt)", "VM.PowerMgmt"),
        ("Permission check failed (/nodes/pve1, Sys.Audit)", "Sys.Audit"),
        ("Permission check failed (/vms/100, VM.Snapshot.Rollback)", "VM.Snapshot.Rollback"),
        ("Permission check failed (/, Sys.Audit|Sys.Modify)", "Sys.Audit|Sys.Modify"),
        ("Permission check failed (user != root@pam)", None),
        ("Permission check failed", None),
    ],
)
def test_missing_privilege_is_parsed(
    standin: PveStandin, once: ProxmoxerBackend, message: str, missing: str | None
) -> None:
    assert missing_privilege(message) == missing
    error = _answer(standin, once, 403, message)
    assert isinstance(error, PermissionDenied)
    assert error.missing == missing


def test_secret_echoed_by_the_server_is_scrubbed(standin: PveStandin, once: ProxmoxerBackend) -> None:
    error = _answer(standin, once, 500, f"bad token {standin.token_secret}")
    assert standin.token_secret not in str(error)
    assert "***" in error.message
