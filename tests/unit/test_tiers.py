"""The tier rules of tests/tiers.py: a skip fails, and a unit test can neither spawn a process nor leave loopback."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.tiers import UnitTierViolation, is_loopback

pytest_plugins = ["pytester"]


def test_a_subprocess_is_refused() -> None:
    with pytest.raises(UnitTierViolation, match="subprocess"):
        subprocess.run(["true"], check=False)
    with pytest.raises(UnitTierViolation, match=r"os\.system"):
        os.system("true")


def test_a_connection_past_loopback_is_refused() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(UnitTierViolation, match=r"192\.0\.2\.1"),
    ):
        sock.connect(("192.0.2.1", 443))
    with pytest.raises(UnitTierViolation, match="name lookup"):
        socket.getaddrinfo("pve.example.com", 8006)


def test_loopback_stays_open() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=10) as client:
            assert client.getpeername() == server.getsockname()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        (None, True),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_skipping_test_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_skips():
            pytest.skip("no openstack CLI")

        @pytest.mark.skipif(True, reason="no helm")
        def test_skipif():
            pass

        def test_passes():
            pass
        """
    )
    result = pytester.runpytest("-p", "tests.tiers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*skipped (no openstack CLI): daytwo's tests never skip*"])


def test_a_module_that_skips_itself_fails_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\npytest.skip('no apiserver', allow_module_level=True)\n")
    result = pytester.runpytest("-p", "tests.tiers", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
