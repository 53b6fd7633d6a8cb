"""Each fault of the stand-in gives the right typed error; retries are bounded and only for safe calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from daytwo.operator.backends.proxmox import (
    GuestRef,
    ProxmoxClientFactory,
    ProxmoxConnectionParams,
    ProxmoxerBackend,
)
from daytwo.operator.errors import (
    AuthFailed,
    InvalidRequest,
    NotFound,
    Timeout,
    TLSVerificationFailed,
    Unavailable,
)

from tests.standins.proxmox import PveStandin, closed_port, run_fakepve

from .conftest import make_params

pytestmark = pytest.mark.integration

Params = Callable[..., ProxmoxConnectionParams]


def test_wrong_token_secret(params_for: Params, factory: ProxmoxClientFactory) -> None:
    client = factory.get(params_for(token_secret="not-the-secret"))
    with pytest.raises(AuthFailed) as caught:
        client.version()
    assert caught.value.status_code == 401
    assert "authentication failure" in caught.value.message
    assert client.calls_made == 1  # terminal: not retried


def test_unknown_token_id(params_for: Params, factory: ProxmoxClientFactory) -> None:
    with pytest.raises(AuthFailed):
        factory.get(params_for(token_id="nobody@pve!nothing")).guests()


def test_unreachable_host(factory: ProxmoxClientFactory) -> None:
    params = ProxmoxConnectionParams(
        "127.0.0.1",
        port=closed_port(),
        token_id="daytwo@pve!operator",
        token_secret="s3cr3t-unreachable",
        timeout_seconds=2,
    )
    client = factory.get(params)
    with pytest.raises(Unavailable, match="Connection refused"):
        client.version()
    assert client.calls_made == 3  # retries=2: bounded


def test_unresolvable_host(factory: ProxmoxClientFactory) -> None:
    params = ProxmoxConnectionParams("pve.invalid", token_id="daytwo@pve!operator", token_secret="x", timeout_seconds=2)
    with pytest.raises(Unavailable):
        factory.get(params).nodes()


def test_write_to_unreachable_host_is_retried_as_it_never_left(factory: ProxmoxClientFactory) -> None:
    params = ProxmoxConnectionParams(
        "127.0.0.1", port=closed_port(), token_id="daytwo@pve!operator", token_secret="x", timeout_seconds=2
    )
    client = factory.get(params)
    with pytest.raises(Unavailable):
        client.start(GuestRef("pve1", 100))
    assert client.calls_made == 3


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize(
    ("cert", "detail"),
    [
        ("foreign-ca", "unable to get local issuer certificate"),
        ("wrong-host", "mismatch"),
    ],
)
def test_bad_certificate(factory: ProxmoxClientFactory, cert: str, detail: str) -> None:
    with run_fakepve(1, 1, cert=cert) as standin:  # type: ignore[arg-type]
        client = factory.get(make_params(standin))
        with pytest.raises(TLSVerificationFailed) as caught:
            client.version()
        assert detail in caught.value.message
        assert not caught.value.retryable
        assert client.calls_made == 1
        # Opting out of verification (PMI's ssl_verify: false) still connects.
        insecure = factory.get(make_params(standin, verify_tls=False, ca_bundle_pem=None))
        assert insecure.version().version


def test_system_trust_store_does_not_trust_the_test_ca(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    with pytest.raises(TLSVerificationFailed):
        factory.get(make_params(pve, ca_bundle_pem=None)).version()


def test_slow_network_within_the_timeout(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    pve.slow_network(0.2)
    assert len(factory.get(make_params(pve, timeout_seconds=5)).guests()) == len(pve.guests)


def test_slow_network_beyond_the_timeout(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    pve.slow_network(1.5)
    client = factory.get(make_params(pve, timeout_seconds=0.3))
    with pytest.raises(Timeout, match="did not answer in time"):
        client.version()
    assert client.calls_made == 3


def test_hung_request(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    pve.hang(rate=1.0, seconds=2.0)
    with pytest.raises(Timeout):
        factory.get(make_params(pve, timeout_seconds=0.3)).nodes()


def test_every_connection_dropped(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    pve.flaky_network(drop_rate=1.0)
    client = factory.get(make_params(pve))
    with pytest.raises(Unavailable, match="cannot reach"):
        client.guests()
    assert client.calls_made == 3


def test_flaky_network_is_absorbed_by_retries(pve: PveStandin) -> None:
    pve.flaky_network(drop_rate=0.2, seed=11)
    patient = ProxmoxClientFactory(retries=5, backoff_seconds=0.01)
    try:
        client = patient.get(make_params(pve))
        for _ in range(5):
            assert len(client.guests()) == len(pve.guests)
            assert len(client.nodes()) == 2
        assert client.calls_made > 10  # some attempts were dropped and repeated
    finally:
        patient.close()


def test_dropped_write_is_not_resent(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    spec = pve.guest("vm", "stopped")
    pve.flaky_network(drop_rate=1.0)
    client = factory.get(make_params(pve))
    with pytest.raises(Unavailable):
        client.start(GuestRef(spec.node, spec.vmid))
    assert client.calls_made == 1  # the request may have been received: a power op is not sent twice


def test_transient_5xx_is_retried(pve: PveStandin, client: ProxmoxerBackend) -> None:
    pve.fail("GET", "/version", 503, "Service Unavailable", times=1)
    assert client.version().version == "9.0.10"
    assert client.calls_made == 2


def test_persistent_5xx_gives_up(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    pve.fail("GET", "/cluster/status", 502, "Bad Gateway")
    client = factory.get(make_params(pve))
    with pytest.raises(Unavailable) as caught:
        client.cluster_status()
    assert caught.value.status_code == 502
    assert client.calls_made == 3


def test_5xx_on_a_write_is_not_retried(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    spec = pve.guest("vm", "running")
    pve.fail("POST", f"/qemu/{spec.vmid}/status/shutdown", 503, "Service Unavailable")
    client = factory.get(make_params(pve))
    with pytest.raises(Unavailable):
        client.shutdown(GuestRef(spec.node, spec.vmid))
    assert client.calls_made == 1


def test_no_quorum_is_retryable(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    spec = pve.guest("vm", "running")
    pve.call(lambda p: p.lose_quorum())
    with pytest.raises(Unavailable, match="no quorum"):
        factory.get(make_params(pve)).stop(GuestRef(spec.node, spec.vmid))


def test_missing_guest_is_not_found(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    client = factory.get(make_params(pve))
    with pytest.raises(NotFound, match="does not exist") as caught:
        client.start(GuestRef("pve1", 4242))
    assert caught.value.status_code == 500
    with pytest.raises(NotFound):
        client.task_status("pve1", "UPID:pve1:00000000:00000000:00000000:qmstart:4242:root@pam:")


def test_not_implemented_is_terminal(pve: PveStandin, factory: ProxmoxClientFactory) -> None:
    pve.fail("GET", "/version", 501, "Method 'GET /version' not implemented")
    client = factory.get(make_params(pve))
    with pytest.raises(InvalidRequest):
        client.version()
    assert client.calls_made == 1
