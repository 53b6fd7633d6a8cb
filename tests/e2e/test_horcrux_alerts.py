"""horcrux /api/alerts end to end: the real facade, apiserver, operator and fakepve (examples' ProxmoxNode pve-lab).

An admin adds a webhook channel (a local receiver, HMAC secret) and an e-mail channel (a local aiosmtpd sink),
then a rule ``cpu_usage > 90`` on pve-lab's guests with a duration and hysteresis. The stand-in is told one
running guest is busy (97 % CPU); the operator's next inventory pass stores it, the AlertRule fires: the
alert shows in /active, both channels receive it (signature checked), an operator acknowledges it, the
guest calms down (2 %), the alert resolves (both channels again) and shows in /history, resolved and
acknowledged.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from daytwo.operator.shared.signing import verify

from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until
from tests.harness.smtpsink import SmtpSink
from tests.harness.standins import PROXMOX_CA, PROXMOX_PORT, example_secret
from tests.unit.api.horcrux.receiver import Receiver

from .conftest import NAMESPACE

# long waits by design (intervals, windows, hung endpoints): above the 120 s default
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SECRET = "e2e-alert-hmac-7c1f"
#: Guests other e2e files drive (power, reboots, snapshots): the busy guest is none of them.
TAKEN = {100, 101, 105}


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    """A local SMTP sink (aiosmtpd) on a free loopback port."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver for the webhook channel."""
    with Receiver([200]) as running:
        yield running


def _pve(method: str, path: str, body: Any = None) -> httpx.Response:
    token = example_secret("proxmoxnode.yaml", "pve-lab-token")
    with httpx.Client(
        base_url=f"https://127.0.0.1:{PROXMOX_PORT}",
        verify=ssl.create_default_context(cafile=str(PROXMOX_CA)),
        headers={"Authorization": f"PVEAPIToken={token['tokenId']}={token['tokenSecret']}"},
        timeout=10,
    ) as pve:
        return pve.request(method, path, json=body)


def _set_cpu(vmid: int, cpu: float | None) -> None:
    """Make the stand-in report ``cpu`` (0..1) for guest ``vmid`` (None: its default)."""
    answer = _pve("PUT", f"/_standin/guests/{vmid}/stats", {} if cpu is None else {"cpu": cpu})
    assert answer.status_code == 200, answer.text


def _refresh(kubectl: Kubectl) -> None:
    """Ask for a pve-lab inventory pass now (instead of waiting for its 60-second interval)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    kubectl.run(
        "annotate",
        "--overwrite",
        "proxmoxnode",
        "pve-lab",
        "-n",
        NAMESPACE,
        f"daytwo.io/reconcile-requested-at={stamp}",
    )


def _signed(receiver: Receiver, event: str, target: str) -> list[dict[str, Any]]:
    found = []
    for got in list(receiver.received):
        document = json.loads(got.body)
        if document["event_type"] == event and document["data"].get("target") == target:
            assert verify(SECRET, got.body, got.headers["x-horcrux-signature"]), "bad signature"
            found.append(document)
    return found


@pytest.fixture(scope="module")
def admin(examples: dict[str, Any], facade: Facade) -> Iterator[httpx.Client]:
    """The admin's client on /horcrux."""
    with facade.client("admin") as client:
        client.base_url = httpx.URL(f"{facade.url}/horcrux")
        yield client


@pytest.fixture(scope="module")
def busy_guest(admin: httpx.Client) -> int:
    """A running qemu VM of pve-lab no other e2e file drives, once the facade lists pve-lab's guests."""
    wait_until(lambda: bool(admin.get("/api/vms").json()), 180, "pve-lab's guests in the facade")
    vms = admin.get("/api/vms").json()
    # a qemu VM: fakepve's container listing reports no CPU usage
    running = [int(vm["id"]) for vm in vms if vm.get("status") == "running" and vm.get("hypervisor") == "qemu"]
    return min(vmid for vmid in running if vmid not in TAKEN)


def test_channel_and_rule_validation(admin: httpx.Client) -> None:
    bad = admin.post("/api/alerts/rules", json={"name": "x", "condition": "load_average > 3"})
    assert bad.status_code == 422 and "cpu_usage" in bad.json()["message"]
    unknown = admin.post(
        "/api/alerts/rules", json={"name": "x", "condition": "cpu_usage > 90", "notification_channels": ["nope"]}
    )
    assert unknown.status_code == 422 and "nope" in unknown.json()["message"]
    email = admin.post("/api/alerts/notifications", json={"name": "mail-bad", "type": "email", "config": {"to": "a@b"}})
    assert email.status_code == 422 and "smtp_server" in email.json()["message"]


def test_guest_cpu_alert_fires_notifies_is_acknowledged_and_resolves(
    admin: httpx.Client,
    facade: Facade,
    kubectl: Kubectl,
    receiver: Receiver,
    smtp: SmtpSink,
    busy_guest: int,
) -> None:
    sink, smtp_port = smtp, smtp.port
    hook = admin.post(
        "/api/alerts/notifications",
        json={"name": "e2e-hook", "type": "webhook", "config": {"url": receiver.url, "secret": SECRET}},
    )
    assert hook.status_code == 201, hook.text
    mail = admin.post(
        "/api/alerts/notifications",
        json={
            "name": "e2e-mail",
            "type": "email",
            "config": {
                "smtp_server": "127.0.0.1",
                "smtp_port": smtp_port,
                "from": "daytwo@example.test",
                "to": "ops@example.test",
            },
        },
    )
    assert mail.status_code == 201, mail.text

    def channels() -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in admin.get("/api/alerts/notifications").json()}

    wait_until(lambda: {"e2e-hook", "e2e-mail"} <= set(channels()), 30, "the channels in the facade's cache")
    shown = channels()
    assert shown["e2e-hook"]["config"] == {"url": receiver.url}  # the secret is in a Secret, never echoed
    secret = json.loads(
        kubectl.run("get", "secret", f"horcrux-{hook.json()['id']}", "-n", NAMESPACE, "-o", "json").stdout
    )
    assert secret["metadata"]["labels"]["daytwo.io/credential"] == "true" and set(secret["data"]) == {"secret"}

    made = admin.post(
        "/api/alerts/rules",
        json={
            "name": "Busy guest",
            "condition": "cpu_usage > 90",
            "duration": 5,
            "clear_threshold": 50,
            "interval": 5,
            "severity": "critical",
            "proxmox_node": "pve-lab",
            "notification_channels": ["e2e-hook", "e2e-mail"],
        },
    )
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]

    def listed() -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in admin.get("/api/alerts/rules").json()}

    wait_until(lambda: rule_id in listed(), 30, "the rule in the facade's cache")
    rule = listed()[rule_id]
    assert rule["condition"] == "cpu_usage > 90" and rule["duration"] == 5

    target = f"pve-lab:{busy_guest}"
    _set_cpu(busy_guest, 0.97)
    try:
        _refresh(kubectl)

        def firing() -> bool:
            return any(a["target"] == target for a in admin.get("/api/alerts/active").json())

        wait_until(firing, 180, f"the alert on {target} in /active")
        alert = next(a for a in admin.get("/api/alerts/active").json() if a["target"] == target)
        assert alert["rule_id"] == rule_id and alert["severity"] == "critical" and alert["acknowledged"] is False
        assert alert["value"] >= 90

        wait_until(lambda: bool(_signed(receiver, "alert.triggered", target)), 60, "the signed webhook")
        wait_until(lambda: any("[FIRING]" in s and target in s for s in sink.subjects()), 60, "the e-mail")

        with facade.client("operator") as operator:
            ack = operator.post(f"{facade.url}/horcrux/api/alerts/{rule_id}/{target}/acknowledge")
            missing = operator.post(f"{facade.url}/horcrux/api/alerts/{rule_id}/pve-lab:999999/acknowledge")
        assert ack.status_code == 200 and ack.json() == {"message": "Alert acknowledged"}, ack.text
        assert missing.status_code == 404
        acked = next(a for a in admin.get("/api/alerts/active").json() if a["target"] == target)
        assert acked["acknowledged"] is True and acked["acknowledged_by"] == "operator"
    finally:
        _set_cpu(busy_guest, None)
    _refresh(kubectl)

    def resolved() -> list[dict[str, Any]]:
        return [h for h in admin.get("/api/alerts/history").json() if h["target"] == target and h["resolved_at"]]

    wait_until(lambda: bool(resolved()), 180, f"the alert on {target} resolved in /history")
    record = resolved()[0]
    assert record["rule_id"] == rule_id and record["acknowledged_by"] == "operator"
    assert not any(a["target"] == target for a in admin.get("/api/alerts/active").json())
    assert admin.get("/api/alerts/history", params={"severity": "info"}).json() == []
    wait_until(lambda: bool(_signed(receiver, "alert.resolved", target)), 60, "the signed resolved webhook")
    wait_until(lambda: any("[RESOLVED]" in s and target in s for s in sink.subjects()), 60, "the resolved e-mail")
    assert len(_signed(receiver, "alert.triggered", target)) == 1  # hysteresis: no flapping re-fire

    gone = admin.delete(f"/api/alerts/rules/{rule_id}")
    assert gone.status_code == 200
    wait_until(lambda: rule_id not in {r["id"] for r in admin.get("/api/alerts/rules").json()}, 30, "the rule gone")


def test_apiserver_rejects_clear_threshold_on_the_firing_side(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    """The CRD's CEL rule: hysteresis must resolve on the resolved side (the facade refuses the same)."""
    manifest = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "AlertRule",
        "metadata": {"name": "e2e-bad-hysteresis", "namespace": NAMESPACE},
        "spec": {"displayName": "bad", "metric": "guest_cpu", "threshold": 90, "clearThreshold": 95},
    }
    result = kubectl.run("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode != 0
    assert "clearThreshold must be on the resolved side of threshold" in result.stderr
    manifest["spec"] = {**manifest["spec"], "comparison": "<", "threshold": 90, "clearThreshold": 95}
    kubectl.run("apply", "-f", "-", input=json.dumps(manifest))
    kubectl.run("delete", "alertrule", "e2e-bad-hysteresis", "-n", NAMESPACE)
