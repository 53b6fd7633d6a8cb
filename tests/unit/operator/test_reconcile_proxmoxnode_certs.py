"""ProxmoxNode node certificates: the Expiring warning condition and status.certificates (pure reconcile)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from daytwo.crds.proxmoxnode import NodeCertificate, ProxmoxNodeStatus
from daytwo.operator.reconcile.proxmoxnode import Observation, expiring_condition, observation_status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def cert(node: str, days_left: float, filename: str = "pve-ssl.pem") -> NodeCertificate:
    return NodeCertificate(
        node=node,
        filename=filename,
        subject=f"/CN={node}.lab",
        issuer="/CN=Proxmox Virtual Environment",
        not_before=NOW - timedelta(days=300),
        not_after=NOW + timedelta(days=days_left),
        fingerprint="AB:CD",
    )


def test_valid_certificates_are_not_expiring() -> None:
    update = expiring_condition([cert("pve1", 400), cert("pve2", 31)], NOW, 30)
    assert update is not None and (update.status, update.reason) == (False, "CertificatesValid")


def test_a_certificate_within_the_warning_is_expiring_and_named() -> None:
    update = expiring_condition([cert("pve1", 400), cert("pve2", 5)], NOW, 30)
    assert update is not None and (update.status, update.reason) == (True, "CertificateExpiring")
    assert update.message.startswith("pve2/pve-ssl.pem: expires 2026-06-06T12:00:00+00:00")


def test_an_ended_certificate_is_expired() -> None:
    update = expiring_condition([cert("pve1", -1)], NOW, 30)
    assert update is not None and (update.status, update.reason) == (True, "CertificateExpired")


def test_unreadable_certificates_or_warning_off_leave_the_condition_alone() -> None:
    assert expiring_condition(None, NOW, 30) is None
    assert expiring_condition([cert("pve1", 1)], NOW, 0) is None


def test_status_keeps_sorted_certificates_and_the_last_ones_when_unreadable() -> None:
    seen = Observation("9.0", None, [], [], [cert("pve2", 10), cert("pve1", 10)])
    status = observation_status(seen, NOW, ProxmoxNodeStatus())
    assert [c.node for c in status.certificates or []] == ["pve1", "pve2"]
    again = observation_status(Observation("9.0", None, [], [], None), NOW, status)
    assert again.certificates == status.certificates
