"""The chart's RBAC for horcrux /api/vault on Kubernetes Secrets: get/list on Secrets for the admin groups only
(impersonated by the facade), nothing for viewers/operators or the facade's ServiceAccount; off with
rbac.vaultSecrets=false."""

from __future__ import annotations

import pytest

from tests.harness.helm import render

from .test_rendering import WRITE_VERBS, by_name, grants

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)


def test_vault_role_reads_secrets_for_admin_groups_only() -> None:
    objects = render()
    role = by_name(objects, "Role", "daytwo-facade-vault")
    assert role["metadata"]["namespace"] == "daytwo-system"
    assert grants(role["rules"], "", "secrets") == {"get", "list"}
    assert not any(set(rule["verbs"]) & WRITE_VERBS for rule in role["rules"])
    binding = by_name(objects, "RoleBinding", "daytwo-facade-vault")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "daytwo-facade-vault",
    }
    assert {(s["kind"], s["name"]) for s in binding["subjects"]} == {
        ("Group", "daytwo:admin"),
        ("Group", "daytwo:superadmin"),
    }


def test_vault_role_is_optional() -> None:
    names = {
        obj["metadata"]["name"] for obj in render(values=["rbac.vaultSecrets=false"], kinds={"Role", "RoleBinding"})
    }
    assert "daytwo-facade-vault" not in names and "daytwo-facade-credential-writer" in names
