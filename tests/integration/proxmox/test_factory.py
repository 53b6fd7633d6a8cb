"""The client factory: caching by fingerprint, token rotation, per-endpoint concurrency, safe reprs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from daytwo.operator.backends.proxmox import ProxmoxClientFactory, ProxmoxerBackend
from daytwo.operator.errors import AuthFailed, InvalidRequest, Timeout

from tests.standins.proxmox import PveStandin

from .conftest import make_params

pytestmark = pytest.mark.integration


def test_same_params_same_client(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    assert factory.get(make_params(pve)) is factory.get(make_params(pve))
    assert len(factory) == 1


def test_rotated_token_gets_a_new_client(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    old_params = make_params(pve, token_secret="the-old-secret")
    old = factory.get(old_params)
    with pytest.raises(AuthFailed):
        old.version()
    new_params = make_params(pve)
    assert new_params.fingerprint() != old_params.fingerprint()
    new = factory.get(new_params)
    assert new is not old
    assert new.version().version == "9.0.10"
    assert len(factory) == 1  # the replaced client was dropped


def test_fingerprint_covers_every_field(pve: PveStandin) -> None:
    base = make_params(pve)
    variants = [
        make_params(pve, host="localhost"),
        make_params(pve, port=pve.port + 1),
        make_params(pve, token_id="other@pve!operator"),
        make_params(pve, token_secret="rotated"),
        make_params(pve, verify_tls=False),
        make_params(pve, ca_bundle_pem=None),
        make_params(pve, timeout_seconds=7),
    ]
    prints = {base.fingerprint()} | {v.fingerprint() for v in variants}
    assert len(prints) == len(variants) + 1
    assert base.fingerprint() == make_params(pve).fingerprint()


def test_repr_hides_the_secret(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    params = make_params(pve)
    for text in (repr(params), str(params), repr(factory.get(params))):
        assert pve.token_secret not in text
    assert "token_id='daytwo@pve!operator'" in repr(params)


@pytest.mark.parametrize(
    "overrides",
    [
        {"token_id": "no-realm!x"},
        {"token_id": "root@pam"},
        {"token_secret": ""},
        {"port": 0},
        {"host": "pve/../x"},
        {"timeout_seconds": 0},
    ],
)
def test_bad_params_are_refused(pve: PveStandin, overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        make_params(pve, **overrides)


def test_endpoint_slots_are_shared_across_tokens(pve: PveStandin) -> None:
    factory = ProxmoxClientFactory(max_concurrency=1, queue_timeout_seconds=0.2)
    try:
        operator = factory.get(make_params(pve))
        auditor = factory.get(make_params(pve, token_id=pve.nopower_token_id, token_secret=pve.nopower_token_secret))
        assert operator.limiter is auditor.limiter
        assert operator.limiter.acquire(timeout=1)  # someone else holds the only slot
        try:
            with pytest.raises(Timeout, match="no free connection slot"):
                auditor.version()
        finally:
            operator.limiter.release()
        assert auditor.version().version == "9.0.10"
    finally:
        factory.close()


def test_concurrent_use_from_worker_threads(pve: PveStandin) -> None:
    factory = ProxmoxClientFactory(max_concurrency=2)
    try:
        params = make_params(pve)
        start = threading.Barrier(8)

        def refresh(_: int) -> int:
            start.wait()
            client = factory.get(params)  # the cache is hit from many threads at once
            return len(client.guests())

        with ThreadPoolExecutor(max_workers=8) as pool:
            counts = list(pool.map(refresh, range(8)))
        assert counts == [len(pve.guests)] * 8
        assert len(factory) == 1
        client: ProxmoxerBackend = factory.get(params)
        assert client.calls_made == 8
    finally:
        factory.close()


def test_ca_bundle_file_is_removed_on_close(pve: PveStandin) -> None:
    factory = ProxmoxClientFactory()
    client = factory.get(make_params(pve))
    ca_file = client.ca_file
    assert ca_file is not None
    with open(ca_file, encoding="ascii") as handle:
        assert handle.read() == pve.ca_pem
    factory.close()
    assert client.ca_file is None
    with pytest.raises(FileNotFoundError):
        open(ca_file, encoding="ascii").close()


def test_replaced_client_keeps_working_for_callers_that_hold_it(pve: PveStandin) -> None:
    factory = ProxmoxClientFactory()
    try:
        held = factory.get(make_params(pve))
        factory.get(make_params(pve, token_secret="rotated-but-not-yet-in-pve"))
        assert len(factory) == 1
        assert held.version().version == "9.0.10"  # a worker thread mid-reconcile is not broken
    finally:
        factory.close()
