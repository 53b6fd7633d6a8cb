"""Notification channels of AlertRules: the ConfigMap the facade writes and the operator reads.

``horcrux-<id>`` labelled ``daytwo.io/alert-channel: definition``; ``channel.json`` holds
``{id, name, type, config, enabled, has_secret}``. Its credentials (webhook ``secret``, SMTP ``password``)
are in the Secret of the same name, labelled ``daytwo.io/credential: "true"``. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["CHANNEL_LABEL", "CHANNEL_TYPES", "channel_document", "channel_name"]

CHANNEL_LABEL = "daytwo.io/alert-channel"
CHANNEL_TYPES = ("webhook", "email")


def channel_name(channel_id: str) -> str:
    """Name of the ConfigMap (and Secret) of a channel."""
    return f"horcrux-{channel_id}"


def channel_document(configmap: Mapping[str, Any]) -> dict[str, Any] | None:
    """The channel of a ConfigMap (horcrux's shape plus ``has_secret``); None when unreadable."""
    try:
        document = json.loads(((configmap.get("data") or {}).get("channel.json")) or "")
    except ValueError:
        return None
    if not isinstance(document, dict) or not document.get("id"):
        return None
    return {
        "id": str(document["id"]),
        "name": str(document.get("name", "")),
        "type": str(document.get("type", "")),
        "config": dict(document.get("config") or {}),
        "enabled": bool(document.get("enabled", True)),
        "has_secret": bool(document.get("has_secret")),
    }
