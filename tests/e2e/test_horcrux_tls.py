"""horcrux /api/tls over HTTPS: a facade process started with DAYTWO_API_TLS_SECRET (its own namespace), the
operator, and an in-process fakepve whose node pve2 has a certificate ending in 5 days.

An admin generates a self-signed certificate: it lands in the serving Secret (labelled as the facade's) and the
same facade process serves it on the next connection. The certificate list holds the facade's and both Proxmox
nodes' certificates (read by the operator into status.certificates), and the near-expiry node sets Expiring=True
on its ProxmoxNode; a renewed certificate clears it.
"""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.harness.controlplane import LocalControlPlane
from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.standins import credential_secret
from tests.standins.proxmox import PveStandin, run_fakepve

from .conftest import condition, wait_for_condition

# long waits by design (intervals, windows, hung endpoints): above the 120 s default
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NS = "tls-e2e"
SERVING_SECRET = "facade-serving-tls"
NODE = "tls-lab"


@pytest.fixture(scope="module")
def pve() -> Iterator[PveStandin]:
    """fakepve with pve1 (a two-year certificate) and pve2 (one that ends in 5 days)."""
    with run_fakepve(nodes=2, guests_per_node=1) as standin:
        standin.call(lambda p: p.set_certificate("pve2", 5))
        yield standin


@pytest.fixture(scope="module")
def https_facade(
    cluster: LocalControlPlane, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Facade]:
    """`daytwo-api` serving NS over HTTPS from SERVING_SECRET (absent at start: an ephemeral certificate)."""
    env = {"DAYTWO_API_TLS_SECRET": SERVING_SECRET, "DAYTWO_API_TLS_RELOAD_SECONDS": "2"}
    running = Facade.start(cluster.kubeconfig, kubectl, NS, Path(tmp_path_factory.mktemp("tls-facade")), env=env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def node(kubectl: Kubectl, operator: DaytwoProcess, https_facade: Facade, pve: PveStandin) -> str:
    """A ProxmoxNode in NS for the stand-in (token and CA as Secrets), Ready."""
    for name, data in (
        ("pve-token", {"tokenId": pve.token_id, "tokenSecret": pve.token_secret}),
        ("pve-ca", {"ca.crt": pve.ca_pem}),
    ):
        kubectl.apply(json.dumps(credential_secret(name, NS, data)))
    spec = {
        "host": "127.0.0.1",
        "port": pve.port,
        "tokenSecretRef": {"name": "pve-token"},
        "tls": {"caSecretRef": {"name": "pve-ca", "key": "ca.crt"}},
        "timeoutSeconds": 3,
        "inventoryIntervalSeconds": 10,
    }
    manifest = {"apiVersion": "daytwo.io/v1alpha1", "kind": "ProxmoxNode", "metadata": {"name": NODE, "namespace": NS}}
    kubectl.apply(json.dumps({**manifest, "spec": spec}))
    wait_for_condition(kubectl, "d2pn", NODE, "Ready", "True", namespace=NS)
    return NODE


def served_certificate(facade: Facade) -> x509.Certificate:
    """The certificate the facade presents on a new TLS connection (inspected, not trusted)."""
    port = int(facade.url.rsplit(":", 1)[1])
    return x509.load_pem_x509_certificate(ssl.get_server_certificate(("127.0.0.1", port)).encode())


def fingerprint(cert: x509.Certificate) -> str:
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def common_name(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


def test_generated_certificate_is_served_on_a_new_connection_without_restart(
    https_facade: Facade, kubectl: Kubectl
) -> None:
    assert common_name(served_certificate(https_facade)) == "daytwo-api"  # ephemeral until the Secret exists
    assert https_facade.process.process is not None
    pid = https_facade.process.process.pid
    with https_facade.client("admin") as admin:
        before = admin.get("/horcrux/api/tls/config").json()
        assert before["enabled"] and before["source"] == "ephemeral" and before["secret_name"] == SERVING_SECRET
        name = f"facade-{uuid.uuid4().hex[:8]}.example"
        made = admin.post("/horcrux/api/tls/certificate/generate", json={"common_name": name, "validity_days": 30})
    assert made.status_code == 200, made.text
    assert "PRIVATE KEY" not in made.text and made.json()["secret_name"] == SERVING_SECRET
    served = served_certificate(https_facade)
    assert common_name(served) == name and fingerprint(served) == made.json()["certificate"]["fingerprint"]
    assert https_facade.process.process.pid == pid and https_facade.process.process.poll() is None  # no restart
    secret = kubectl.get("secret", SERVING_SECRET, NS)
    assert secret["metadata"]["labels"]["daytwo.io/facade-tls"] == "serving"
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "daytwo-api"
    assert set(secret["data"]) == {"tls.crt", "tls.key"}
    with https_facade.client("viewer") as viewer:
        config = viewer.get("/horcrux/api/tls/config").json()
        assert config["source"] == "secret" and config["fingerprint"] == fingerprint(served)
        refused = viewer.post("/horcrux/api/tls/certificate/generate", json={"common_name": "x.example"})
        assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN"


def test_a_secret_the_facade_did_not_make_is_left_alone(https_facade: Facade, kubectl: Kubectl) -> None:
    foreign = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "made-by-kubectl", "namespace": NS}}
    kubectl.apply(json.dumps({**foreign, "stringData": {"tls.crt": "x", "tls.key": "y"}}))
    with https_facade.client("admin") as admin:
        answer = admin.post(
            "/horcrux/api/tls/certificate/generate", json={"common_name": "a.example", "secret_name": "made-by-kubectl"}
        )
        assert answer.status_code == 409 and "left alone" in answer.json()["message"]
        switched = admin.post("/horcrux/api/tls/config", json={"enabled": False})
        assert switched.status_code == 422 and "restart" in switched.json()["message"]
        paths = admin.post("/horcrux/api/tls/config", json={"cert_path": "/etc/horcrux/cert.pem"})
        assert paths.status_code == 422 and paths.json()["details"] == {"field": "cert_path"}
    assert kubectl.get("secret", "made-by-kubectl", NS)["data"]["tls.crt"] == "eA=="


def test_certificates_list_and_expiring_node(
    https_facade: Facade, kubectl: Kubectl, node: str, pve: PveStandin
) -> None:
    expiring = wait_for_condition(kubectl, "d2pn", node, "Expiring", "True", "CertificateExpiring", namespace=NS)
    assert condition(expiring, "Ready")["status"] == "True"  # a warning: Ready is unaffected
    assert condition(expiring, "Expiring")["message"].startswith("pve2/pve-ssl.pem: expires ")
    pve2 = pve.call(lambda p: p.certificates["pve2"])
    with https_facade.client("viewer") as viewer:
        listed = viewer.get("/horcrux/api/tls/certificates")
    assert listed.status_code == 200, listed.text
    by_id: dict[str, Any] = {entry["id"]: entry for entry in listed.json()}
    assert "facade" in by_id
    entry = by_id[f"{node}/pve2/pve-ssl.pem"]
    assert entry["fingerprint"] == pve2["fingerprint"] and entry["subject"] == pve2["subject"]
    assert entry["kind"] == "proxmox-node" and entry["proxmox_node"] == node and entry["expires_in_days"] <= 5
    assert by_id[f"{node}/pve1/pve-ssl.pem"]["expires_in_days"] > 700
    assert listed.json()[0]["id"] == f"{node}/pve2/pve-ssl.pem"  # soonest expiry first

    pve.call(lambda p: p.set_certificate("pve2", 400))  # renewed in Proxmox
    kubectl.run("annotate", "--overwrite", "d2pn", node, "-n", NS, "daytwo.io/reconcile-requested-at=renewed-1")
    wait_for_condition(kubectl, "d2pn", node, "Expiring", "False", "CertificatesValid", namespace=NS)
