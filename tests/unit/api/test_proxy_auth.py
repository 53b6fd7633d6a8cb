"""Trusted auth-proxy headers and per-API anonymous roles (issue 24 item 2; api/auth/proxy.py, api/deps.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from daytwo.api.app import create_app
from daytwo.api.auth.proxy import PEER_SCOPE_KEY, ProxyAuth, anonymous_principal, serving_app, warn_anonymous
from daytwo.api.deps import Services
from daytwo.api.kubewrite import KubeWriter
from daytwo.api.settings import ApiSettings
from fastapi.testclient import TestClient
from kubernetes import client as kube_client
from pydantic import ValidationError

from tests.harness.fakes import TEST_SECRET, unit_services

PROXY = "10.0.0.7"
ROLES_JSON = {"ops": "operator", "sre": "admin", "watchers": "viewer"}
NODES = "/pmi/api/proxmox/nodes"
START = "/pmi/api/proxmox/nodes/pve1/resources/100/start"


def proxied(peer: str, **settings: Any) -> tuple[TestClient, Services]:
    """The whole facade as daytwo-api serves it (peer recorded first), requests arriving from ``peer``."""
    config: dict[str, Any] = {"auth_proxy_addresses": "10.0.0.0/29, 192.168.5.1", "auth_proxy_group_roles": ROLES_JSON}
    services = unit_services(**{**config, **settings})
    app = serving_app(create_app(services=services), services.settings.forwarded_allow_ips)
    return TestClient(app, raise_server_exceptions=False, client=(peer, 40000)), services


def audit_users(services: Services) -> list[str]:
    assert services.audit is not None
    return [e["user"] for e in services.audit.entries(limit=100)[1]]


def test_proxy_headers_are_off_by_default() -> None:
    settings = ApiSettings(jwt_secret=TEST_SECRET)
    assert settings.auth_proxy_addresses == "" and not ProxyAuth.from_settings(settings).enabled
    assert all(getattr(settings, f"anonymous_role_{api}") == "none" for api in ("platform9", "horcrux", "pmi", "spot"))
    client, _ = proxied("127.0.0.1", auth_proxy_addresses="")
    answer = client.get(NODES, headers={"X-Forwarded-User": "alice", "X-Forwarded-Groups": "ops"})
    assert answer.status_code == 401


def test_a_trusted_peer_names_the_caller_and_its_groups_the_role() -> None:
    client, services = proxied(PROXY)
    answer = client.get(NODES, headers={"X-Forwarded-User": "alice", "X-Forwarded-Groups": "watchers"})
    assert answer.status_code == 200, answer.text
    viewer = client.post(START, headers={"X-Forwarded-User": "alice", "X-Forwarded-Groups": "watchers"})
    assert viewer.status_code == 403 and viewer.json()["success"] is False  # pmi's envelope
    # oauth2-proxy's X-Auth-Request-* variant; the strongest role of all groups wins
    me = client.get(
        "/horcrux/api/auth/verify",
        headers={"X-Auth-Request-User": "bob", "X-Auth-Request-Groups": "watchers,ops, other"},
    )
    assert me.status_code == 200, me.text
    assert "proxy:bob" in me.text
    assert "proxy:alice" in audit_users(services)  # the denied write names the proxy's user


def test_the_email_header_names_the_caller_when_no_user_header_is_set() -> None:
    client, _ = proxied(PROXY)
    answer = client.get(
        "/horcrux/api/auth/verify", headers={"X-Forwarded-Email": "c@x.io", "X-Forwarded-Groups": "ops"}
    )
    assert answer.status_code == 200 and "proxy:c@x.io" in answer.text


def test_headers_from_an_untrusted_peer_are_ignored_even_with_x_forwarded_for() -> None:
    headers = {"X-Forwarded-User": "alice", "X-Forwarded-Groups": "sre", "X-Forwarded-For": PROXY}
    client, _ = proxied("10.0.0.9", forwarded_allow_ips="*")  # X-Forwarded-For trusted for the client IP only
    answer = client.get(NODES, headers=headers)
    assert answer.status_code == 401 and answer.json()["success"] is False


def test_the_peer_is_the_socket_address_not_the_forwarded_one() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope[PEER_SCOPE_KEY], scope["client"][0]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = TestClient(serving_app(app, "*"), client=("10.9.9.9", 1))
    client.get("/", headers={"X-Forwarded-For": PROXY})
    assert seen == [("10.9.9.9", PROXY)]


def test_unknown_groups_get_no_access() -> None:
    client, services = proxied(PROXY)
    answer = client.get(NODES, headers={"X-Forwarded-User": "mallory", "X-Forwarded-Groups": "guests"})
    assert answer.status_code == 403 and "maps to a daytwo role" in answer.json()["error"]
    nogroups = client.get(NODES, headers={"X-Forwarded-User": "mallory"})
    assert nogroups.status_code == 403
    assert "proxy:mallory" in audit_users(services)


def test_a_bearer_token_wins_over_proxy_headers() -> None:
    client, _ = proxied(PROXY)  # a bad bearer token is a 401 even from a trusted proxy with good headers
    answer = client.get(
        NODES, headers={"Authorization": "Bearer nope", "X-Forwarded-User": "alice", "X-Forwarded-Groups": "sre"}
    )
    assert answer.status_code == 401


def test_header_names_are_configurable() -> None:
    client, _ = proxied(PROXY, auth_proxy_user_headers="Remote-User", auth_proxy_groups_headers="Remote-Groups")
    assert client.get(NODES, headers={"Remote-User": "dan", "Remote-Groups": "ops"}).status_code == 200
    assert client.get(NODES, headers={"X-Forwarded-User": "dan", "X-Forwarded-Groups": "ops"}).status_code == 401


def test_proxy_and_anonymous_callers_are_impersonated_by_name() -> None:
    services = unit_services(auth_proxy_addresses="127.0.0.1", auth_proxy_group_roles=ROLES_JSON)
    proxy = services.proxy.principal({"x-forwarded-user": "alice", "x-forwarded-groups": "ops"}, "127.0.0.1")
    assert proxy is not None and proxy.via == "proxy"
    real = Services(services.settings, services.store, services.auth, kube_client.ApiClient())
    writer = real.writer_for(proxy)
    assert isinstance(writer, KubeWriter)
    assert writer.headers == {"Impersonate-User": "proxy:alice", "Impersonate-Group": "daytwo:operator"}
    assert services.proxy.principal({"x-forwarded-user": "alice"}, "127.0.0.2") is None  # not a trusted peer
    assert services.proxy.principal({"x-forwarded-user": "alice"}, "::ffff:127.0.0.1") is not None


def test_settings_refuse_bad_proxy_addresses_and_roles() -> None:
    with pytest.raises(ValidationError, match="not an IP address or CIDR"):
        ApiSettings(jwt_secret=TEST_SECRET, auth_proxy_addresses="10.0.0.1, proxy.local")
    with pytest.raises(ValidationError, match="role must be one of"):
        ApiSettings(jwt_secret=TEST_SECRET, auth_proxy_group_roles={"x": "pending"})
    with pytest.raises(ValidationError):
        ApiSettings(jwt_secret=TEST_SECRET, anonymous_role_pmi="admin")


def test_anonymous_viewer_on_one_api_reads_there_only_and_cannot_write() -> None:
    services = unit_services(anonymous_role_pmi="viewer")
    client = TestClient(create_app(services=services), raise_server_exceptions=False)
    assert client.get(NODES).status_code == 200
    denied = client.post(START)
    assert denied.status_code == 403 and denied.json()["success"] is False
    assert client.get("/platform9/drift/events").status_code == 401  # other APIs keep their default
    assert "anonymous:pmi" in audit_users(services)


def test_anonymous_operator_writes_as_the_anonymous_caller() -> None:
    services = unit_services(anonymous_role_horcrux="operator")
    anonymous = anonymous_principal(services.settings, "horcrux")
    assert anonymous is not None and anonymous.role == "operator"
    real = Services(services.settings, services.store, services.auth, kube_client.ApiClient())
    writer = real.writer_for(anonymous)
    assert isinstance(writer, KubeWriter)
    assert writer.headers == {"Impersonate-User": "anonymous:horcrux", "Impersonate-Group": "daytwo:operator"}
    assert anonymous_principal(services.settings, "pmi") is None


def test_anonymous_access_is_warned_about_per_api(caplog: pytest.LogCaptureFixture) -> None:
    settings = ApiSettings(jwt_secret=TEST_SECRET, anonymous_role_pmi="viewer", anonymous_role_spot="operator")
    with caplog.at_level(logging.WARNING, logger="daytwo.api.auth"):
        warn_anonymous(settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert any("pmi" in w and "viewer" in w and "anonymous:pmi" in w for w in warnings)
    assert any("spot" in w and "operator" in w for w in warnings)
    caplog.clear()
    warn_anonymous(ApiSettings(jwt_secret=TEST_SECRET))
    assert not caplog.records
