"""Keystone calls through openstacksdk against the stand-in."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.openstack import (
    OpenStackBackend,
    OpenStackClients,
    OpenStackConnectionParams,
    SdkOpenStackBackend,
)

from tests.standins.openstack.server import StandIn

from .conftest import admin_params

pytestmark = pytest.mark.integration


def test_backend_satisfies_protocol(backend: SdkOpenStackBackend) -> None:
    assert isinstance(backend, OpenStackBackend)


def test_whoami_with_password(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    me = backend.whoami()
    assert me.project_id == openstack_standin.info.admin_project_id
    assert "admin" in me.roles
    assert {"compute", "volumev3", "network", "image", "identity"} <= set(me.services)


def test_whoami_with_application_credential(openstack_standin: StandIn, clients: OpenStackClients) -> None:
    params = OpenStackConnectionParams(
        auth_url=openstack_standin.auth_url,
        application_credential_id=openstack_standin.info.app_cred_id,
        application_credential_secret=openstack_standin.info.app_cred_secret,
    )
    backend = SdkOpenStackBackend(params, clients)
    me = backend.whoami()
    assert me.project_id == openstack_standin.info.admin_project_id
    assert len(backend.list_volumes()) == len(openstack_standin.model.volumes)
    assert openstack_standin.journal.count(method="POST", path="/auth/tokens") == 1


def test_domains_projects_users_roles(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    model = openstack_standin.model
    assert {d.name for d in backend.list_domains()} == {d["name"] for d in model.domains.values()}
    assert len(backend.list_projects()) == len(model.projects)
    assert {p.domain_id for p in backend.list_projects(domain_id="default")} == {"default"}
    assert {u.name for u in backend.list_users()} == {"admin", "alice"}
    assert {r.name for r in backend.list_roles()} == {"admin", "member", "reader"}


def test_role_assignments_filtered(backend: SdkOpenStackBackend, openstack_standin: StandIn) -> None:
    member_project = openstack_standin.info.member_project_id
    found = backend.list_role_assignments(project_id=member_project)
    assert found and all(a.project_id == member_project for a in found)
    roles = {r.id: r.name for r in backend.list_roles()}
    assert {roles[a.role_id] for a in found} == {"admin", "member"}
    alice = next(u for u in backend.list_users() if u.name == "alice")
    assert [a.project_id for a in backend.list_role_assignments(user_id=alice.id)] == [member_project]


def test_rotated_secret_gets_a_new_connection(openstack_standin: StandIn, clients: OpenStackClients) -> None:
    first = SdkOpenStackBackend(admin_params(openstack_standin), clients)
    first.whoami()
    first.whoami()
    assert clients.cached_count() == 1
    user = next(u for u in openstack_standin.model.users.values() if u["name"] == "admin")
    user["_password"] = "rotated-password-value"
    rotated = SdkOpenStackBackend(admin_params(openstack_standin, password="rotated-password-value"), clients)
    assert rotated.whoami().user_id == user["id"]
    assert clients.cached_count() == 2
    assert openstack_standin.journal.count(method="POST", path="/auth/tokens") == 2
