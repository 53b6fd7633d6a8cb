"""Alert notifications: notification channels (ConfigMaps the facade writes) and delivery to them.

A channel is a ConfigMap labelled ``daytwo.io/alert-channel: definition`` whose ``channel.json`` holds
``{id, name, type, config, enabled, has_secret}``; its credentials (the webhook's HMAC secret, the SMTP
password) are in the Secret of the same name, read only when it carries ``daytwo.io/credential: "true"``.

- ``webhook``: POST of horcrux's event document, signed exactly as the facade's webhooks
  (:mod:`daytwo.operator.shared.signing`), retried twice (1 s, 2 s).
- ``email``: a plain-text message through ``config.smtp_server`` (``smtp_port``, default 25; STARTTLS
  when ``starttls`` is true; login when ``username`` is set, with the Secret's ``password``).

Deliveries happen in the pass that fired or resolved the alert, before its status write (which records
the outcome): at least once, a crash in between fires again under a new alert id. A failure is logged and
reported in the rule's ``Notified`` condition (never the secret, never the receiver's body).
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from ..kube import KubeClient
from ..shared.alertchannels import CHANNEL_LABEL, channel_document, channel_name
from ..shared.signing import SIGNATURE_HEADER, event_body, sign

__all__ = ["CHANNEL_LABEL", "Channel", "channels", "deliver", "notification_text"]

log = logging.getLogger("daytwo.operator.alerts")

_RETRY_DELAYS = (1.0, 2.0)
_TIMEOUT = 10.0
#: Set when the operator stops: retries end early.
STOPPED = threading.Event()


@dataclass(frozen=True)
class Channel:
    """A notification channel as the operator delivers to it."""

    id: str
    name: str
    type: str
    config: dict[str, Any]
    enabled: bool
    has_secret: bool


def _channel(configmap: Mapping[str, Any]) -> Channel | None:
    document = channel_document(configmap)
    return None if document is None else Channel(**document)


def channels(client: KubeClient, namespace: str) -> list[Channel]:
    """Every readable channel definition in ``namespace``."""
    listing = client.core.list_namespaced_config_map(namespace, label_selector=f"{CHANNEL_LABEL}=definition")
    found = (_channel(client.core.api_client.sanitize_for_serialization(item)) for item in listing.items)
    return [channel for channel in found if channel is not None]


def notification_text(event: str, data: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of an e-mail for ``event``."""
    state = "FIRING" if event == "alert.triggered" else "RESOLVED"
    subject = f"[{state}] {data.get('rule_name')} on {data.get('target')} ({data.get('severity')})"
    lines = [f"{key}: {data[key]}" for key in sorted(data)]
    return subject, "\n".join([subject, "", *lines, ""])


def _secret(client: KubeClient, namespace: str, channel: Channel) -> dict[str, str]:
    if not channel.has_secret:
        return {}
    read = client.read_secret(namespace, channel_name(channel.id), values=True)
    if read is None or not read.allowed:
        raise LookupError(f"the Secret {channel_name(channel.id)} is missing or not labelled daytwo.io/credential=true")
    return dict(read.values)


def _webhook(channel: Channel, secret: Mapping[str, str], event: str, data: dict[str, Any]) -> None:
    url = str(channel.config.get("url") or channel.config.get("webhook_url") or "")
    if not url:
        raise ValueError("config.url is not set")
    body = event_body(event, data)
    headers = {"Content-Type": "application/json", "User-Agent": "daytwo-alerts/1", "X-Horcrux-Event": event}
    if secret.get("secret"):
        headers[SIGNATURE_HEADER] = sign(secret["secret"], body)
    problem = "no HTTP response"
    for attempt in range(len(_RETRY_DELAYS) + 1):
        try:
            with httpx.Client(timeout=_TIMEOUT, follow_redirects=False) as http:
                response = http.post(url, content=body, headers=headers)
            if response.is_success:
                return
            problem = f"HTTP {response.status_code // 100}xx"
        except httpx.HTTPError:
            problem = "no HTTP response"
        if attempt < len(_RETRY_DELAYS) and STOPPED.wait(_RETRY_DELAYS[attempt]):
            break
    raise RuntimeError(f"delivery failed: {problem}")


def _recipients(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(item) for item in value or []]


def _email(channel: Channel, secret: Mapping[str, str], event: str, data: dict[str, Any]) -> None:
    config = channel.config
    host, to = str(config.get("smtp_server") or ""), _recipients(config.get("to"))
    if not host or not to or not config.get("from"):
        raise ValueError("config needs smtp_server, from and to")
    subject, text = notification_text(event, data)
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, str(config["from"]), ", ".join(to)
    message.set_content(text)
    try:
        with smtplib.SMTP(host, int(config.get("smtp_port") or 25), timeout=_TIMEOUT) as smtp:
            if config.get("starttls"):
                smtp.starttls()
            if config.get("username"):
                smtp.login(str(config["username"]), secret.get("password", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise RuntimeError(f"delivery failed: {type(error).__name__}") from None


_SENDERS: dict[str, Callable[[Channel, Mapping[str, str], str, dict[str, Any]], None]] = {
    "webhook": _webhook,
    "email": _email,
}


def deliver(
    client: KubeClient, namespace: str, wanted: Sequence[str], notifications: Sequence[tuple[str, dict[str, Any]]]
) -> list[str]:
    """Send each (event, data) to every enabled channel named (by name or id) in ``wanted``; returns the
    problems (channel and reason, no secrets), empty when everything was delivered."""
    if not wanted or not notifications:
        return []
    problems: list[str] = []
    known = {channel.name: channel for channel in channels(client, namespace)}
    known.update({channel.id: channel for channel in known.values()})
    for name in wanted:
        channel = known.get(name)
        if channel is None:
            problems.append(f"channel {name}: not found")
            continue
        if not channel.enabled:
            continue
        sender = _SENDERS.get(channel.type)
        if sender is None:
            problems.append(f"channel {name}: type {channel.type!r} is not supported (webhook, email)")
            continue
        try:
            secret = _secret(client, namespace, channel)
            for event, data in notifications:
                started = time.monotonic()
                sender(channel, secret, event, data)
                log.info("alert %s sent to channel %s in %.2fs", event, name, time.monotonic() - started)
        except (LookupError, ValueError, RuntimeError) as error:
            log.warning("alert notification to channel %s failed: %s", name, error)
            problems.append(f"channel {name}: {error}")
    return problems
