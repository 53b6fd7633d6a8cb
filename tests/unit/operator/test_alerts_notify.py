"""Alert notifications (operator/handlers/alerts_notify.py): a signed webhook and an e-mail through a local SMTP
sink (aiosmtpd), channels read from ConfigMap bodies, credentials only from opted-in Secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from daytwo.api.views.horcrux.alerts import channel_configmap
from daytwo.operator.handlers import alerts_notify
from daytwo.operator.kube import SecretRead
from daytwo.operator.shared.signing import verify

from tests.harness.smtpsink import SmtpSink
from tests.unit.api.horcrux.receiver import Receiver

DATA = {"alert_id": "alert-1", "rule_name": "High CPU", "target": "pve:100", "severity": "critical", "value": 97.0}


class _Core:
    """The two core/v1 calls deliver makes, over plain ConfigMap bodies."""

    def __init__(self, configmaps: list[dict[str, Any]]) -> None:
        self.configmaps = configmaps
        self.api_client = SimpleNamespace(sanitize_for_serialization=lambda item: item)

    def list_namespaced_config_map(self, namespace: str, label_selector: str) -> Any:
        return SimpleNamespace(items=self.configmaps)


class _Client:
    def __init__(self, configmaps: list[dict[str, Any]], secrets: dict[str, SecretRead]) -> None:
        self.core = _Core(configmaps)
        self.secrets = secrets

    def read_secret(self, namespace: str, name: str, *, values: bool = False) -> SecretRead | None:
        return self.secrets.get(name)


def _secret(values: dict[str, str], opted_in: bool = True) -> SecretRead:
    labels = {"daytwo.io/credential": "true"} if opted_in else {}
    return SecretRead("uid", "1", labels, frozenset(values), dict(values) if opted_in else {})


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def test_webhook_is_signed_like_horcrux_webhooks_and_email_reaches_the_sink(smtp: SmtpSink) -> None:
    sink, port = smtp, smtp.port
    with Receiver([200]) as receiver:
        client = _Client(
            [
                channel_configmap(
                    "channel-a", {"name": "hook", "type": "webhook", "config": {"url": receiver.url}}, True
                ),
                channel_configmap(
                    "channel-b",
                    {
                        "name": "mail",
                        "type": "email",
                        "config": {
                            "smtp_server": "127.0.0.1",
                            "smtp_port": port,
                            "from": "d@x.test",
                            "to": "a@x.test, b@x.test",
                        },
                    },
                    False,
                ),
            ],
            {"horcrux-channel-a": _secret({"secret": "s3cret"})},
        )
        problems = alerts_notify.deliver(client, "ns", ["hook", "channel-b"], [("alert.triggered", DATA)])  # type: ignore[arg-type]
        assert problems == []
        got = receiver.received[0]
    assert verify("s3cret", got.body, got.headers["x-horcrux-signature"])
    document = json.loads(got.body)
    assert document["event_type"] == "alert.triggered" and document["data"] == DATA
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["Subject"] == "[FIRING] High CPU on pve:100 (critical)"
    assert message["To"] == "a@x.test, b@x.test" and "value: 97.0" in message.get_payload()


def test_problems_are_reported_without_secrets() -> None:
    client = _Client(
        [
            channel_configmap(
                "channel-a", {"name": "hook", "type": "webhook", "config": {"url": "http://127.0.0.1:9/x"}}, True
            ),
            channel_configmap("channel-c", {"name": "pager", "type": "pagerduty", "config": {}}, False),
        ],
        {"horcrux-channel-a": _secret({"secret": "s3cret"}, opted_in=False)},
    )
    problems = alerts_notify.deliver(client, "ns", ["hook", "pager", "gone"], [("alert.resolved", DATA)])  # type: ignore[arg-type]
    assert problems == [
        "channel hook: the Secret horcrux-channel-a is missing or not labelled daytwo.io/credential=true",
        "channel pager: type 'pagerduty' is not supported (webhook, email)",
        "channel gone: not found",
    ]
    assert not any("s3cret" in p for p in problems)
