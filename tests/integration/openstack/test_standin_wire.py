"""The stand-in speaks the services' wire format: discovery, microversions, error bodies, paging."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.standins.openstack.server import StandIn

pytestmark = pytest.mark.integration


@pytest.fixture
def http(openstack_standin: StandIn) -> Iterator[httpx.Client]:
    """An httpx client carrying an admin token."""
    info = openstack_standin.info
    with httpx.Client(base_url=openstack_standin.base_url, timeout=10) as client:
        auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": info.admin_username, "domain": {"name": "Default"}, "password": info.admin_password}}},
            "scope": {"project": {"name": info.admin_project, "domain": {"name": "Default"}}}}}  # fmt: skip
        response = client.post("/identity/v3/auth/tokens", json=auth)
        assert response.status_code == 201
        client.headers["X-Auth-Token"] = response.headers["X-Subject-Token"]
        yield client


def test_token_body_has_catalog(openstack_standin: StandIn) -> None:
    info = openstack_standin.info
    body = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "id": info.app_cred_id, "secret": info.app_cred_secret}}}}  # fmt: skip
    response = httpx.post(f"{openstack_standin.auth_url}/auth/tokens", json=body)
    token = response.json()["token"]
    assert response.status_code == 201 and response.headers["X-Subject-Token"]
    assert token["methods"] == ["application_credential"]
    assert token["application_credential"]["id"] == info.app_cred_id
    assert {s["type"] for s in token["catalog"]} == {"identity", "compute", "volumev3", "network", "image"}


def test_bad_credentials_get_keystone_401(openstack_standin: StandIn) -> None:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "nope"}}}}}  # fmt: skip
    response = httpx.post(f"{openstack_standin.auth_url}/auth/tokens", json=body)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}
    }


def test_requests_without_token_are_401(openstack_standin: StandIn) -> None:
    response = httpx.get(f"{openstack_standin.base_url}/compute/v2.1/servers")
    assert response.status_code == 401 and response.json()["error"]["code"] == 401
    assert "Keystone uri=" in response.headers["WWW-Authenticate"]


def test_nova_microversion_headers(http: httpx.Client) -> None:
    response = http.get(
        "/compute/v2.1/servers/detail",
        params={"all_tenants": "1", "limit": "1"},
        headers={"OpenStack-API-Version": "compute 2.47"},
    )
    assert response.headers["OpenStack-API-Version"] == "compute 2.47"
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.47"
    assert "original_name" in response.json()["servers"][0]["flavor"]
    legacy = http.get("/compute/v2.1/servers/detail", params={"all_tenants": "1", "limit": "1"})
    assert legacy.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert set(legacy.json()["servers"][0]["flavor"]) == {"id", "links"}
    too_new = http.get("/compute/v2.1/servers", headers={"OpenStack-API-Version": "compute 2.999"})
    assert too_new.status_code == 406


def test_nova_and_cinder_error_bodies(http: httpx.Client, openstack_standin: StandIn) -> None:
    agg = next(a for a in openstack_standin.model.aggregates.values() if a["hosts"])
    conflict = http.post(
        f"/compute/v2.1/os-aggregates/{agg['id']}/action", json={"add_host": {"host": agg["hosts"][0]}}
    )
    assert conflict.status_code == 409
    assert conflict.json() == {"conflictingRequest": {
        "code": 409, "message": f"Aggregate {agg['id']} already has host {agg['hosts'][0]}."}}  # fmt: skip
    missing = http.get("/compute/v2.1/servers/nope")
    assert missing.json() == {"itemNotFound": {"code": 404, "message": "Instance nope could not be found."}}
    in_use = next(v for v in openstack_standin.model.volumes.values() if v["status"] == "in-use")
    bad = http.post("/volume/v3/snapshots", json={"snapshot": {"volume_id": in_use["id"], "name": "x"}})
    assert bad.status_code == 400 and "badRequest" in bad.json()
    assert bad.headers["OpenStack-API-Version"] == "volume 3.0"


def test_neutron_error_body(http: httpx.Client) -> None:
    response = http.delete("/network/v2.0/ports/nope")
    assert response.status_code == 404
    assert response.json() == {
        "NeutronError": {"type": "PortNotFound", "message": "Port nope could not be found.", "detail": ""}
    }


def test_nova_paging_links(http: httpx.Client, openstack_standin: StandIn) -> None:
    page = http.get("/compute/v2.1/servers/detail", params={"all_tenants": "1", "limit": "5"}).json()
    assert len(page["servers"]) == 5
    nxt = page["servers_links"][0]["href"]
    assert "marker=" + page["servers"][-1]["id"] in nxt
    rest = http.get(nxt).json()
    assert len(rest["servers"]) == min(5, len(openstack_standin.model.servers) - 5)
    bad = http.get("/compute/v2.1/servers/detail", params={"all_tenants": "1", "marker": "nope"})
    assert bad.status_code == 400 and "marker [nope] not found" in bad.json()["badRequest"]["message"]


def test_discovery_documents(http: httpx.Client) -> None:
    compute = http.get("/compute/").json()["versions"]
    assert any(v["id"] == "v2.1" and v["version"] and v["min_version"] == "2.1" for v in compute)
    assert http.get("/volume/").json()["versions"][0]["min_version"] == "3.0"
    assert http.get("/network/").json()["versions"][0]["id"] == "v2.0"
    assert http.get("/identity/").status_code == 300


def test_transitions_follow_the_clock(http: httpx.Client, openstack_standin: StandIn) -> None:
    created = http.post("/volume/v3/volumes", json={"volume": {"size": 1, "name": "clocked"}}).json()["volume"]
    assert created["status"] == "creating"
    assert http.get(f"/volume/v3/volumes/{created['id']}").json()["volume"]["status"] == "creating"
    openstack_standin.clock.advance(openstack_standin.model.delays.volume_create)
    assert http.get(f"/volume/v3/volumes/{created['id']}").json()["volume"]["status"] == "available"


def test_token_expiry_follows_the_clock(http: httpx.Client, openstack_standin: StandIn) -> None:
    assert http.get("/network/v2.0/networks").status_code == 200
    openstack_standin.clock.advance(openstack_standin.token_lifetime)
    assert http.get("/network/v2.0/networks").status_code == 401


def test_control_endpoints(openstack_standin: StandIn) -> None:
    base = openstack_standin.base_url
    assert httpx.post(f"{base}/_standin/faults", json={"path": "/image", "status": 502, "times": 1}).status_code == 201
    assert httpx.get(f"{base}/image/v2/images").status_code == 502
    journal = httpx.get(f"{base}/_standin/journal", params={"limit": 5}).json()
    assert journal["total"] == 1 and journal["entries"][0]["status"] == 502
    before = openstack_standin.clock.now()
    assert httpx.post(f"{base}/_standin/clock/advance", json={"seconds": 10}).json()["now"] == before + 10
