"""The Proxmox error table's transport rows: the exceptions requests raises -> their class in the shared taxonomy.

Fed straight to ``map_exception`` (no stand-in); the HTTP rows go over real HTTPS in
tests/integration/proxmox/test_error_table.py and the live faults are in tests/integration/proxmox/test_faults.py.
"""

from __future__ import annotations

import pytest
import requests
from daytwo.operator.backends.proxmox import map_exception, missing_privilege
from daytwo.operator.errors import BackendError, Timeout, TLSVerificationFailed, Unavailable

TRANSPORT_TABLE: list[tuple[BaseException, type[BackendError]]] = [
    (requests.exceptions.ConnectionError("HTTPSConnectionPool: [Errno 111] Connection refused"), Unavailable),
    (requests.exceptions.ConnectionError("Failed to resolve 'pve.invalid' (Name or service not known)"), Unavailable),
    (requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'reset'))"), Unavailable),
    (requests.exceptions.ConnectTimeout("connect timeout=5"), Unavailable),
    (requests.exceptions.ReadTimeout("Read timed out. (read timeout=5)"), Timeout),
    (
        requests.exceptions.SSLError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)"
        ),
        TLSVerificationFailed,
    ),
    (requests.exceptions.SSLError("hostname 'pve1' doesn't match 'pve2'"), TLSVerificationFailed),
    (requests.exceptions.SSLError("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred (_ssl.c:1006)"), Unavailable),
    (OSError("Could not find a suitable TLS CA certificate bundle"), Unavailable),
]


@pytest.mark.parametrize(
    ("exc", "expected"), TRANSPORT_TABLE, ids=[f"{type(e).__name__}-{t.__name__}" for e, t in TRANSPORT_TABLE]
)
def test_transport_table(exc: BaseException, expected: type[BackendError]) -> None:
    error = map_exception(exc, what="do it", endpoint="pve.example:8006")
    assert type(error) is expected
    assert error.message.startswith("do it: ")
    assert error.retryable == issubclass(expected, (Unavailable, Timeout))


def test_unknown_exceptions_are_not_swallowed() -> None:
    with pytest.raises(TypeError):
        map_exception(KeyError("x"), what="x", endpoint="e:1")


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        ("Permission check failed (/vms/100, VM.PowerMgmt)", "VM.PowerMgmt"),
        ("Permission check failed (/nodes/pve1, Sys.Audit)", "Sys.Audit"),
        ("Permission check failed (/, Sys.Audit|Sys.Modify)", "Sys.Audit|Sys.Modify"),
        ("Permission check failed (user != root@pam)", None),
        ("Permission check failed", None),
    ],
)
def test_missing_privilege_is_parsed(message: str, missing: str | None) -> None:
    assert missing_privilege(message) == missing
