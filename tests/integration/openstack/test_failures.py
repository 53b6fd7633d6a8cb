"""Failures reach callers as typed errors, through real HTTP faults injected in the stand-in."""

from __future__ import annotations

import threading

import pytest
from daytwo.operator.backends.openstack import (
    OpenStackClients,
    OpenStackClientSettings,
    SdkOpenStackBackend,
    ServerSpec,
)
from daytwo.operator.errors import AuthFailed, BackendError, NotFound, PermissionDenied, Timeout, Unavailable

from tests.standins.openstack.server import StandIn

from .conftest import admin_params

pytestmark = pytest.mark.integration

WRONG = "Wr0ng-But-Secret-Password"


def test_wrong_password_is_auth_failed_without_the_secret(
    openstack_standin: StandIn, clients: OpenStackClients
) -> None:
    backend = SdkOpenStackBackend(admin_params(openstack_standin, password=WRONG), clients)
    with pytest.raises(AuthFailed) as err:
        backend.list_servers()
    assert err.value.status_code == 401 and not err.value.retryable
    assert WRONG not in str(err.value) and WRONG not in repr(err.value)
    assert err.value.__cause__ is None
    assert openstack_standin.journal.count(method="POST", path="/auth/tokens") == 1, "4xx must not be retried"


def test_expired_token_reauthenticates_transparently(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    first = backend.list_volumes()
    openstack_standin.clock.advance(openstack_standin.token_lifetime + 1)
    assert backend.list_volumes() == first
    statuses = [(e.method, e.status) for e in openstack_standin.journal.entries(path=r"volumes/detail|auth/tokens")]
    assert statuses == [("POST", 201), ("GET", 200), ("GET", 401), ("POST", 201), ("GET", 200)]


def test_short_5xx_burst_is_retried(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    openstack_standin.faults.fail(r"/volumes/detail", 503, times=2)
    assert len(backend.list_volumes()) == len(openstack_standin.model.volumes)
    statuses = [e.status for e in openstack_standin.journal.entries(path=r"/volumes/detail")]
    assert statuses == [503, 503, 200]


def test_long_5xx_burst_is_unavailable(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    openstack_standin.faults.fail(r"/os-hypervisors", 500, times=None)
    with pytest.raises(Unavailable) as err:
        backend.list_hypervisors()
    assert err.value.retryable and err.value.status_code == 500
    assert openstack_standin.journal.count(path=r"/os-hypervisors") == 4


def test_4xx_is_never_retried(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    openstack_standin.faults.fail(r"/floatingips", 400, times=None)
    with pytest.raises(BackendError) as err:
        backend.list_floating_ips()
    assert not err.value.retryable
    assert openstack_standin.journal.count(path=r"/floatingips") == 1


def test_hang_is_timeout(openstack_standin: StandIn) -> None:
    settings = OpenStackClientSettings(retry_attempts=2, backoff_base_seconds=0.01)
    clients = OpenStackClients(settings)
    backend = SdkOpenStackBackend(admin_params(openstack_standin, timeout_seconds=0.5), clients)
    hang = openstack_standin.faults.hang(r"/servers/detail", seconds=30)
    try:
        with pytest.raises(Timeout) as err:
            backend.list_servers()
        assert err.value.retryable
        assert hang.hits == 2, "a timed-out read is retried once with retry_attempts=2"
    finally:
        openstack_standin.faults.clear()
        clients.close()


def test_dropped_connection_is_retried_for_reads(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    openstack_standin.faults.drop(r"/ports$", times=1, method="GET")
    assert len(backend.list_ports()) == len(openstack_standin.model.ports)
    assert [e.status for e in openstack_standin.journal.entries(path=r"/ports$")] == [0, 200]


def test_dropped_connection_is_not_retried_for_creates(
    backend: SdkOpenStackBackend, openstack_standin: StandIn
) -> None:
    openstack_standin.faults.drop(r"/servers$", times=1, method="POST")
    flavor = backend.list_flavors()[0]
    image = backend.list_images()[0]
    with pytest.raises(Unavailable):
        backend.create_server(ServerSpec(name="once", flavor_id=str(flavor.id), image_id=image.id))
    assert openstack_standin.journal.count(method="POST", path=r"/servers$") == 1


def test_service_missing_from_catalog_is_not_found(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    openstack_standin.model.catalog.discard("volumev3")
    with pytest.raises(NotFound, match="catalog") as err:
        backend.list_volumes()
    assert "block-storage" in str(err.value) or "volume" in str(err.value)
    assert len(backend.list_servers()) == len(openstack_standin.model.servers)


def test_member_without_admin_is_permission_denied(openstack_standin: StandIn, clients: OpenStackClients) -> None:
    info = openstack_standin.info
    member = SdkOpenStackBackend(
        admin_params(
            openstack_standin,
            username=info.member_username,
            password=info.member_password,
            project_name=info.member_project,
        ),
        clients,
    )
    own = member.list_servers(all_projects=False)
    assert own and {s.project_id for s in own} == {info.member_project_id}
    with pytest.raises(PermissionDenied) as err:
        member.list_servers()
    assert err.value.status_code == 403
    with pytest.raises(PermissionDenied):
        member.list_aggregates()


def test_concurrency_is_bounded_per_endpoint(openstack_standin: StandIn) -> None:
    clients = OpenStackClients(OpenStackClientSettings(max_concurrency_per_endpoint=2))
    backend = SdkOpenStackBackend(admin_params(openstack_standin), clients)
    backend.whoami()
    openstack_standin.faults.slow(r"/flavors/detail", 0.2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            backend.list_flavors()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clients.close()
    assert not errors
    spans = [
        (e.wall_time - e.duration_s, e.wall_time) for e in openstack_standin.journal.entries(path="/flavors/detail")
    ]
    assert len(spans) == 6
    peak = max(sum(1 for s, e in spans if s <= point < e) for point, _ in spans)
    assert peak <= 2
