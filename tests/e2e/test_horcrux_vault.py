"""horcrux /api/vault over HTTP against the real facade and apiserver.

Kubernetes store (default): an admin writes, reads, lists, replaces and deletes a secret; it is the Secret
``vault-<path>`` written as the caller (labelled, annotated with its path, without the operator's opt-in
label); a viewer and an operator get 403 on read, list and write; a ``vault-*`` Secret the vault did not make
is not answered; bad paths get a 422 in horcrux's envelope. Then the admin points the vault at the KV v2
stand-in (token in a Secret, GET config never shows it; a wrong token is a 422) and the same flows go to
Vault with the namespace header. The values and the token never appear in the facade's log or audit trail,
which records the actions and paths.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until
from tests.harness.standins import VAULT_NAMESPACE as DEMO_NAMESPACE
from tests.harness.standins import VAULT_TOKEN as VAULT_TOKEN_DEMO
from tests.harness.standins import Standin
from tests.standins.vault import VaultStandin

from .conftest import NAMESPACE

pytestmark = pytest.mark.e2e

CONFIG = "/horcrux/api/vault/config"
TOKEN = f"hvs.e2e-{uuid.uuid4().hex}"
VAULT_NAMESPACE = "horcrux"
#: Every value this file writes (grepped for in the log and the audit trail at the end).
WRITTEN: list[str] = []


def _value() -> str:
    value = f"value-{uuid.uuid4().hex}"
    WRITTEN.append(value)
    return value


@pytest.fixture(scope="module")
def vault() -> Iterator[VaultStandin]:
    with VaultStandin(TOKEN, VAULT_NAMESPACE, ("secret", "kv")) as running:
        yield running


def _secret(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    result = kubectl.run("get", "secret", name, "-n", NAMESPACE, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def _flows(admin: httpx.Client, base: str) -> str:
    """Write, read, replace, list and delete under ``base``; returns the password written last."""
    path = f"{base}/database"
    first = {"username": "admin", "password": _value()}
    written = admin.post(f"/horcrux/api/vault/secret/{path}", json=first)
    assert written.status_code == 200, written.text
    assert written.json() == {"message": "Secret written successfully", "path": path}
    read = admin.get(f"/horcrux/api/vault/secret/{path}")
    assert read.status_code == 200 and read.json() == {"path": path, "data": first}
    second = {"password": _value()}
    assert admin.post(f"/horcrux/api/vault/secret/{path}", json=second).status_code == 200
    assert admin.get(f"/horcrux/api/vault/secret/{path}").json()["data"] == second  # replaced, not merged
    assert admin.post(f"/horcrux/api/vault/secret/{base}/apps/web", json={"token": _value()}).status_code == 200
    listed = admin.get(f"/horcrux/api/vault/secrets/{base}")
    assert listed.status_code == 200 and listed.json() == {"path": base, "keys": ["apps/", "database"]}
    assert second["password"] not in listed.text
    assert f"{base}/" in admin.get("/horcrux/api/vault/secrets/").json()["keys"]
    deleted = admin.delete(f"/horcrux/api/vault/secret/{path}")
    assert deleted.status_code == 200, deleted.text
    gone = admin.get(f"/horcrux/api/vault/secret/{path}")
    assert gone.status_code == 404 and gone.json()["error"] == "NOT_FOUND" and path in gone.json()["message"]
    assert admin.delete(f"/horcrux/api/vault/secret/{path}").status_code == 404
    assert admin.get(f"/horcrux/api/vault/secrets/{base}").json()["keys"] == ["apps/"]
    return second["password"]


def _refused(facade: Facade, base: str) -> None:
    """Viewers and operators may not read, list or write secrets."""
    for role in ("viewer", "operator"):
        with facade.client(role) as client:
            for answer in (
                client.get(f"/horcrux/api/vault/secret/{base}/apps/web"),
                client.get(f"/horcrux/api/vault/secrets/{base}"),
                client.get("/horcrux/api/vault/secrets/"),
                client.post(f"/horcrux/api/vault/secret/{base}/x", json={"k": "v"}),
                client.delete(f"/horcrux/api/vault/secret/{base}/apps/web"),
            ):
                assert answer.status_code == 403 and answer.json()["error"] == "FORBIDDEN", (role, answer.text)


def test_kubernetes_secrets_as_the_caller(facade: Facade, kubectl: Kubectl) -> None:
    base = f"e2e{uuid.uuid4().hex[:8]}"
    with facade.client("admin") as admin:
        shown = admin.get(CONFIG)
        assert shown.status_code == 200 and shown.json()["backend"] == "kubernetes", shown.text
        assert admin.post(f"/horcrux/api/vault/secret/{base}/database", json={"a": _value()}).status_code == 200
        stored = _secret(kubectl, f"vault-{base}-database")
        assert stored is not None
        labels, annotations = stored["metadata"]["labels"], stored["metadata"]["annotations"]
        assert labels["daytwo.io/vault"] == "secret" and labels["app.kubernetes.io/managed-by"] == "daytwo-api"
        assert "daytwo.io/credential" not in labels and annotations["daytwo.io/vault-path"] == f"{base}/database"
        fields = kubectl.run(
            "get",
            "secret",
            f"vault-{base}-database",
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ).stdout
        assert fields  # written through the apiserver, as the impersonated caller (RBAC had the last word)
        last = _flows(admin, base)
        assert _secret(kubectl, f"vault-{base}-database") is None
        web = _secret(kubectl, f"vault-{base}-apps-web")
        assert web is not None and last not in json.dumps(web)
    _refused(facade, base)


def test_kubernetes_rbac_has_the_last_word(facade: Facade, kubectl: Kubectl) -> None:
    """Without the chart's daytwo-facade-vault binding the admin group may not read Secrets: the facade's own
    permission check passes, the apiserver refuses the impersonated call (403), nothing is answered."""
    base = f"e2e{uuid.uuid4().hex[:8]}"
    binding = kubectl.run("get", "rolebinding", "daytwo-facade-vault", "-n", NAMESPACE, "-o", "json").stdout
    with facade.client("admin") as admin:
        assert admin.post(f"/horcrux/api/vault/secret/{base}", json={"k": _value()}).status_code == 200
        kubectl.run("delete", "rolebinding", "daytwo-facade-vault", "-n", NAMESPACE)
        try:

            def refused() -> bool:
                answer = admin.get(f"/horcrux/api/vault/secret/{base}")
                return answer.status_code == 403 and "Kubernetes RBAC" in answer.json()["message"]

            wait_until(refused, 30, "the apiserver refusing the admin group's read")
            listed = admin.get("/horcrux/api/vault/secrets/")
            assert listed.status_code == 403 and listed.json()["error"] == "FORBIDDEN"
        finally:
            restored = json.loads(binding)
            restored["metadata"] = {k: restored["metadata"][k] for k in ("name", "namespace", "labels")}
            kubectl.apply(json.dumps(restored))
        wait_until(lambda: admin.get(f"/horcrux/api/vault/secret/{base}").status_code == 200, 30, "read again")
        assert admin.delete(f"/horcrux/api/vault/secret/{base}").status_code == 200


def test_only_the_vaults_own_secrets_and_valid_paths(facade: Facade, kubectl: Kubectl) -> None:
    name = f"e2e{uuid.uuid4().hex[:8]}"
    foreign = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"vault-{name}", "namespace": NAMESPACE},
        "stringData": {"k": "not the vault's"},
    }
    kubectl.apply(json.dumps(foreign))
    with facade.client("admin") as admin:
        assert admin.get(f"/horcrux/api/vault/secret/{name}").status_code == 404
        assert name not in admin.get("/horcrux/api/vault/secrets/").json()["keys"]
        clash = admin.post(f"/horcrux/api/vault/secret/{name}", json={"k": "v"})
        assert clash.status_code == 409 and clash.json()["error"] == "CONFLICT", clash.text
        for bad in ("Upper/case", "under_score", "a//b", "-lead"):
            answer = admin.get(f"/horcrux/api/vault/secret/{bad}")
            body = answer.json()
            assert answer.status_code == 422 and body["error"] == "VALIDATION_ERROR", (bad, answer.text)
            assert "segment" in body["message"] and body["details"] == {"field": "path"}
        empty = admin.post(f"/horcrux/api/vault/secret/{name}-x", json={})
        assert empty.status_code == 422 and "at least one key" in empty.json()["message"]
        typed = admin.post(f"/horcrux/api/vault/secret/{name}-x", json={"n": 1})
        assert typed.status_code == 422 and typed.json()["error"] == "VALIDATION_ERROR"
    assert _secret(kubectl, f"vault-{name}")["data"]["k"]  # type: ignore[index]  # untouched


@pytest.fixture
def configured(facade: Facade, vault: VaultStandin) -> Iterator[dict[str, Any]]:
    """The vault switched to the stand-in (mount kv); back to Kubernetes Secrets afterwards."""
    body = {"enabled": True, "address": vault.address, "token": TOKEN, "namespace": VAULT_NAMESPACE, "mount": "kv"}
    with facade.client("admin") as admin:
        answer = admin.post(CONFIG, json=body)
    assert answer.status_code == 200, answer.text
    yield answer.json()
    with facade.client("admin") as admin:
        assert admin.post(CONFIG, json={"enabled": False}).json()["backend"] == "kubernetes"


def test_config_checks_the_token(facade: Facade, vault: VaultStandin) -> None:
    with facade.client("admin") as admin:
        wrong = admin.post(
            CONFIG, json={"enabled": True, "address": vault.address, "token": "bad", "namespace": "horcrux"}
        )
        assert wrong.status_code == 422 and "refused the configured token" in wrong.json()["message"], wrong.text
        no_mount = admin.post(
            CONFIG,
            json={"enabled": True, "address": vault.address, "token": TOKEN, "namespace": "horcrux", "mount": "nope"},
        )
        assert no_mount.status_code == 422 and "nope/" in no_mount.json()["message"]
        bad_address = admin.post(CONFIG, json={"address": "vault.example.com"})
        assert bad_address.status_code == 422 and bad_address.json()["details"] == {"field": "address"}
        assert admin.get(CONFIG).json()["enabled"] is False
    with facade.client("viewer") as viewer:
        refused = viewer.post(CONFIG, json={"enabled": False})
        assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN"


def test_vault_kv2_when_configured(
    facade: Facade, kubectl: Kubectl, vault: VaultStandin, configured: dict[str, Any]
) -> None:
    assert configured["backend"] == "vault" and configured["token_configured"] is True
    assert "token" not in configured and TOKEN not in json.dumps(configured)
    for role in ("viewer", "admin"):
        with facade.client(role) as client:
            shown = client.get(CONFIG)
            assert shown.status_code == 200 and TOKEN not in shown.text, shown.text
            assert shown.json() == {
                "enabled": True,
                "address": vault.address,
                "namespace": VAULT_NAMESPACE,
                "mount": "kv",
                "backend": "vault",
                "token_configured": True,
            }
    configmap = kubectl.run("get", "configmap", "daytwo-vault", "-n", NAMESPACE, "-o", "json").stdout
    assert TOKEN not in configmap and json.loads(configmap)["data"]["address"] == vault.address
    assert _secret(kubectl, "daytwo-vault-token") is not None
    base = f"e2e{uuid.uuid4().hex[:8]}"
    with facade.client("admin") as admin:
        _flows(admin, base)
    assert f"{base}/apps/web" in vault.mounts["kv"] and not vault.mounts["secret"]
    assert _secret(kubectl, f"vault-{base}-apps-web") is None  # nothing went to Kubernetes
    mine = [(method, path, ns) for method, path, ns in vault.requests if base in path]
    assert mine and all(ns == VAULT_NAMESPACE and path.startswith("/v1/kv/") for _, path, ns in mine)
    assert ("LIST", f"/v1/kv/metadata/{base}", VAULT_NAMESPACE) in mine
    _refused(facade, base)


def test_demo_vault_standin(facade: Facade, standins: list[Standin]) -> None:
    """The Vault stand-in `make demo` serves (fixed port, demo token) works as configured through the facade."""
    (demo,) = [standin for standin in standins if standin.name == "vault"]
    body = {
        "enabled": True,
        "address": demo.url,
        "token": VAULT_TOKEN_DEMO,
        "namespace": DEMO_NAMESPACE,
        "mount": "secret",  # another test of this file may have left "kv"
    }
    path = f"e2e{uuid.uuid4().hex[:8]}/database"
    value = _value()
    with facade.client("admin") as admin:
        configured = admin.post(CONFIG, json=body)
        assert configured.status_code == 200, configured.text
        try:
            assert admin.post(f"/horcrux/api/vault/secret/{path}", json={"password": value}).status_code == 200
            assert admin.get(f"/horcrux/api/vault/secret/{path}").json()["data"] == {"password": value}
            assert admin.delete(f"/horcrux/api/vault/secret/{path}").status_code == 200
        finally:
            assert admin.post(CONFIG, json={"enabled": False}).status_code == 200


def test_values_and_token_never_logged_or_audited(facade: Facade, kubectl: Kubectl) -> None:
    """Runs last: every value this file wrote, and the Vault token, are absent from the log and the audit."""
    assert WRITTEN, "run with the other tests of this file"
    with facade.client("admin") as admin:
        exported = admin.post("/horcrux/api/audit/export", json={"format": "json", "action": "vault."})
        assert exported.status_code == 200, exported.text
        entries = exported.json()
    actions = {entry["action"] for entry in entries}
    assert {"vault.secret.write", "vault.secret.read", "vault.secret.delete", "vault.config.update"} <= actions
    assert any(entry["resource"].endswith("/apps/web") for entry in entries), entries[:3]

    def audit_flushed() -> bool:
        rings = kubectl.run("get", "configmaps", "-n", NAMESPACE, "-l", "daytwo.io/audit", "-o", "json").stdout
        return "vault.secret.delete" in rings

    wait_until(audit_flushed, 30, "the vault's audit entries in the audit ConfigMaps")
    rings = kubectl.run("get", "configmaps", "-n", NAMESPACE, "-l", "daytwo.io/audit", "-o", "json").stdout
    log = facade.log()
    for text, where in ((json.dumps(entries), "audit export"), (rings, "audit ConfigMaps"), (log, "facade log")):
        leaked = [value for value in [*WRITTEN, TOKEN] if value in text]
        assert leaked == [], f"{where} holds {leaked}"
