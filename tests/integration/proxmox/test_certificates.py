"""Node certificates: GET /nodes/{node}/certificates/info through the backend, against fakepve over TLS."""

from __future__ import annotations

import time

import pytest
from daytwo.operator.backends.proxmox import NodeCertificate, ProxmoxerBackend

from tests.standins.proxmox import PveStandin

pytestmark = pytest.mark.integration


def test_node_certificates_have_pve_fields(client: ProxmoxerBackend, pve: PveStandin) -> None:
    found = client.node_certificates("pve1")
    assert [c.filename for c in found] == ["pve-ssl.pem"]
    cert = found[0]
    assert isinstance(cert, NodeCertificate) and cert.node == "pve1"
    assert cert.subject == "/CN=pve1.lab/O=PVE Cluster Node" and "PVE Cluster Manager CA" in cert.issuer
    assert cert.notbefore < time.time() < cert.notafter
    assert len(cert.fingerprint.split(":")) == 32 and cert.san == ("pve1", "pve1.lab")


def test_a_replaced_certificate_is_read_anew(client: ProxmoxerBackend, pve: PveStandin) -> None:
    pve.call(lambda p: p.set_certificate("pve2", 3))
    cert = client.node_certificates("pve2")[0]
    assert cert.notafter - time.time() < 4 * 86400
