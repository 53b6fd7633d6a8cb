"""The facade's core against the real apiserver: logins, revocation across restarts, API keys,
impersonation under the chart's RBAC, rate limits, request ids and the watch-backed cache."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from daytwo.api.auth.service import Principal
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import KubeWriter
from kubernetes import client, config

from tests.harness.controlplane import LocalControlPlane
from tests.harness.facade import PASSWORDS, Facade, fresh_address, seed_user
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def drift_rule(name: str, credentials_kind: str = "CloudCredential") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "target": {"credentialsRef": {"kind": credentials_kind, "name": "nowhere"}, "resourceType": "server"},
            "field": "flavor_id",
            "severity": "critical",
            "intervalSeconds": 300,
        },
    }


def test_login_through_each_api(facade: Facade) -> None:
    with facade.http(fresh_address()) as http:
        pf9 = http.post("/platform9/auth/login", json={"username": "operator", "password": PASSWORDS["operator"]})
        assert pf9.status_code == 200, pf9.text
        body = pf9.json()
        assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["user"]["role"] == "operator"
    with facade.http(fresh_address()) as http:
        horcrux = http.post("/horcrux/api/auth/login", json={"username": "viewer", "password": PASSWORDS["viewer"]})
        assert horcrux.status_code == 200 and horcrux.json()["user"]["username"] == "viewer"
        verify = http.get("/horcrux/api/auth/verify", headers={"Authorization": f"Bearer {horcrux.json()['token']}"})
        assert verify.json()["valid"] is True
    with facade.http(fresh_address()) as http:
        signup = http.post("/multicloud/auth/signup", json={"email": "mc@example.com", "password": "long-enough-pw"})
        assert signup.status_code == 201, signup.text
        form = http.post("/multicloud/auth/login", data={"username": "mc@example.com", "password": "long-enough-pw"})
        me = http.get("/multicloud/auth/me", headers={"Authorization": f"Bearer {form.json()['access_token']}"})
        assert me.status_code == 200 and me.json()["email"] == "mc@example.com"
    stored = [s for s in facade.auth_secrets("user") if s["username"] == "mc@example.com"]
    assert stored and stored[0]["password_hash"].startswith("$argon2id$") and "long-enough-pw" not in json.dumps(stored)


def test_logout_revokes_and_the_revocation_survives_a_restart(facade: Facade) -> None:
    with facade.http(fresh_address()) as http:
        token = http.post("/horcrux/api/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]}).json()[
            "token"
        ]
        auth = {"Authorization": f"Bearer {token}"}
        assert http.get("/horcrux/api/auth/verify", headers=auth).status_code == 200
        assert http.post("/horcrux/api/auth/logout", headers=auth).status_code == 200
        assert http.get("/horcrux/api/auth/verify", headers=auth).status_code == 401
    facade.restart()
    with facade.http() as http:
        refused = http.get("/horcrux/api/auth/verify", headers=auth)
        assert refused.status_code == 401 and refused.json()["error"] == "AUTHENTICATION_FAILED"
    assert any(len(s) >= 1 for s in facade.auth_secrets("revocations"))


def test_api_key_works_and_is_stored_hashed(facade: Facade) -> None:
    with facade.client("operator") as http:
        created = http.post("/horcrux/api/users/operator/api-keys", json={"name": "ci", "expires_in_days": 7})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        assert key.startswith("hx_")
        listed = http.get("/horcrux/api/users/operator/api-keys").json()
        assert created.json()["key_id"] in [k["key_id"] for k in listed] and all("key" not in k for k in listed)
    with facade.http() as http:
        verify = http.get("/horcrux/api/auth/verify", headers={"X-API-Key": key})
        assert verify.status_code == 200 and verify.json()["user"]["username"] == "operator"
        assert http.get("/horcrux/api/auth/verify", headers={"X-API-Key": key[:-1]}).status_code == 401
    stored = facade.auth_secrets("apikey")
    assert hashlib.sha256(key.encode()).hexdigest() in [s["key_hash"] for s in stored]
    assert key not in json.dumps(stored)


def writer_as(cluster: LocalControlPlane, namespace: str, role: str) -> KubeWriter:
    """The facade's writer as a caller of ``role`` (the cluster admin impersonates, as the facade's SA does)."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(cluster.kubeconfig), client_configuration=configuration)
    principal = Principal.of(f"e2e-{role}", role)
    return KubeWriter(
        client.ApiClient(configuration), namespace, principal.impersonate_user, principal.impersonate_group
    )


def test_impersonated_writes_obey_kubernetes_rbac(facade: Facade, cluster: LocalControlPlane) -> None:
    """An operator may create a DriftRule; Kubernetes (not the facade) refuses a viewer; CEL speaks verbatim."""
    operator = writer_as(cluster, facade.namespace, "operator")
    created = operator.create("DriftRule", drift_rule("impersonated-rule"))
    assert created["metadata"]["name"] == "impersonated-rule"
    annotated = operator.annotate("DriftRule", "impersonated-rule", {"daytwo.io/note": "by operator"})
    assert annotated["metadata"]["annotations"]["daytwo.io/note"] == "by operator"
    viewer = writer_as(cluster, facade.namespace, "viewer")
    with pytest.raises(ApiError) as refused:
        viewer.create("DriftRule", drift_rule("viewer-rule"))
    assert refused.value.status_code == 403
    assert 'User "daytwo:user:e2e-viewer" cannot create resource "driftrules"' in refused.value.message
    with pytest.raises(ApiError) as duplicate:
        operator.create("DriftRule", drift_rule("impersonated-rule"))
    assert duplicate.value.status_code == 409
    with pytest.raises(ApiError) as invalid:
        operator.create("DriftRule", drift_rule("bad-rule", credentials_kind="ProxmoxNode"))
    assert invalid.value.status_code == 422
    assert "drift rules read OpenStack: credentialsRef.kind must be CloudCredential" in invalid.value.message
    with pytest.raises(ApiError) as secret_refused:
        writer_as(cluster, facade.namespace, "operator").create_secret("pmi-token", {"token": "x"})
    assert secret_refused.value.status_code == 403  # credential Secrets are for admins
    writer_as(cluster, facade.namespace, "admin").create_secret("pmi-token", {"token": "x"})
    operator.delete("DriftRule", "impersonated-rule")


def test_login_rate_limit_headers_and_429(facade: Facade) -> None:
    with facade.http("127.0.0.99") as http:  # one IP, a different unknown account each time (per-IP limit only)
        answers = [
            http.post("/platform9/auth/login", json={"username": f"nobody-{n}", "password": "wrong"}) for n in range(11)
        ]
    assert [a.status_code for a in answers] == [401] * 10 + [429]
    assert answers[0].headers["X-RateLimit-Limit"] == "10" and answers[0].headers["X-RateLimit-Remaining"] == "9"
    assert int(answers[-1].headers["X-RateLimit-Reset"]) > 0 and answers[-1].headers["Retry-After"]
    assert answers[-1].json()["request_id"] == answers[-1].headers["X-Request-ID"]


@pytest.mark.parametrize("prefix", ["platform9", "horcrux", "pmi", "spot", "multicloud"])
def test_every_error_carries_a_request_id(facade: Facade, prefix: str) -> None:
    with facade.http() as http:
        missing = http.get(f"/{prefix}/no/such/thing", headers={"X-Request-ID": f"trace-{prefix}"})
        assert missing.status_code == 404 and missing.json()["request_id"] == f"trace-{prefix}"
        bad_token = http.get(f"/{prefix}/no/such/thing", headers={"Authorization": "Bearer nonsense"})
        body = json.dumps(bad_token.json())
        assert bad_token.headers["X-Request-ID"] in body


def test_the_cache_sees_a_cr_created_with_kubectl(facade: Facade) -> None:
    def count() -> int:
        with facade.http() as http:
            return int(http.get("/health").json()["kinds"]["DriftRule"]["objects"])

    before = count()
    rule = {"apiVersion": "daytwo.io/v1alpha1", "kind": "DriftRule", **drift_rule("seen-by-cache")}
    rule["metadata"]["namespace"] = facade.namespace
    facade.kubectl.apply(json.dumps(rule))
    wait_until(lambda: count() == before + 1, 15, "the facade's cache to see a DriftRule created with kubectl")
    facade.kubectl.run("delete", "driftrule", "seen-by-cache", "-n", facade.namespace)
    wait_until(lambda: count() == before, 15, "the facade's cache to see the DriftRule deleted")


def test_logins_are_audited_in_the_configmap_ring(facade: Facade) -> None:
    with facade.http(fresh_address()) as http:
        http.post("/horcrux/api/auth/login", json={"username": "viewer", "password": "not-it"})

    def failed_login_recorded() -> bool:
        ring = json.loads(
            facade.kubectl.run(
                "get", "configmaps", "-n", facade.namespace, "-l", "daytwo.io/audit in (ring,security)", "-o", "json"
            ).stdout
        )
        entries = [json.loads(v) for cm in ring["items"] for v in (cm.get("data") or {}).values()]
        return any(e["action"] == "auth.login" and e["outcome"] == "failure" and e["user"] == "viewer" for e in entries)

    wait_until(failed_login_recorded, 15, "the failed login in the audit ConfigMaps")


def seeded(facade: Facade, role: str = "viewer") -> tuple[str, str]:
    """A fresh user of ``role`` (as an administrator would store it) once the facade can log it in."""
    username, password = f"e2e-{uuid.uuid4().hex[:10]}", "a-long-e2e-password"
    seed_user(facade.kubectl, facade.namespace, facade.jwt_secret, username, password, role)

    def can_log_in() -> bool:
        with facade.http(fresh_address()) as http:
            return http.post("/platform9/auth/login", json={"username": username, "password": password}).is_success

    wait_until(can_log_in, 15, f"the facade to see user {username}")
    return username, password


def test_failed_logins_back_off_per_account_whatever_the_client_ip(facade: Facade) -> None:
    """Issue 16 item 9: five bad passwords from five addresses, then 429 from any address, even for the owner."""
    username, password = seeded(facade)
    codes = []
    for _ in range(5):
        with facade.http(fresh_address()) as http:
            codes.append(http.post("/platform9/auth/login", json={"username": username, "password": "no"}).status_code)
    assert codes == [401] * 5
    with facade.http(fresh_address()) as http:
        refused = http.post("/horcrux/api/auth/login", json={"username": username, "password": password})
    assert refused.status_code == 429 and refused.json()["error"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 2 and "this account" in refused.json()["message"]
    with facade.http(fresh_address()) as http:  # another account is not affected
        assert http.post("/platform9/auth/login", json={"username": "viewer", "password": "no"}).status_code == 401

    def owner_gets_in() -> bool:  # the backoff is short at first: the owner is not locked out
        with facade.http(fresh_address()) as http:
            return http.post("/platform9/auth/login", json={"username": username, "password": password}).is_success

    wait_until(owner_gets_in, 15, "the owner's login after the backoff")
    with facade.http(fresh_address()) as http:  # the success reset the count: a typo is a plain 401 again
        assert http.post("/platform9/auth/login", json={"username": username, "password": "no"}).status_code == 401


def test_a_password_change_ends_every_session_of_that_user(facade: Facade) -> None:
    """Issue 16 (low): tokens issued before a password change are refused, across a restart too."""
    username, password = seeded(facade, "operator")
    tokens = []
    for _ in range(2):
        with facade.http(fresh_address()) as http:
            answer = http.post("/horcrux/api/auth/login", json={"username": username, "password": password})
            tokens.append(answer.json()["token"])
    with facade.http(headers={"Authorization": f"Bearer {tokens[0]}"}) as http:
        key = http.post(f"/horcrux/api/users/{username}/api-keys", json={"name": "ci"})
        assert key.status_code == 201 and key.json()["expires_at"]  # keys always expire
        changed = http.post("/horcrux/api/auth/password", json={"old_password": password, "new_password": "new-pw-123"})
        assert changed.status_code == 200, changed.text
    with facade.http() as http:
        for token in tokens:
            assert http.get("/horcrux/api/auth/verify", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert http.get("/horcrux/api/auth/verify", headers={"X-API-Key": key.json()["key"]}).status_code == 200
    stored = [s for s in facade.auth_secrets("user") if s["username"] == username]
    assert stored[0]["token_generation"] == "1"
