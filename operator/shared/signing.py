"""horcrux's webhook signing, shared by the facade's webhooks and the operator's alert notifications.

The body is horcrux's event document ``{"event_type", "timestamp", "source", "data"}`` as compact JSON;
``X-Horcrux-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` signs exactly those bytes. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from .times import format_time

__all__ = ["SIGNATURE_HEADER", "event_body", "sign", "verify"]

SIGNATURE_HEADER = "X-Horcrux-Signature"


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body bytes with the webhook secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is :func:`sign` of ``body`` (constant-time; what a receiver does)."""
    return hmac.compare_digest(sign(secret, body), signature)


def event_body(event: str, data: dict[str, Any], timestamp: str | None = None) -> bytes:
    """horcrux's event document as compact JSON bytes."""
    document = {
        "event_type": event,
        "timestamp": timestamp or format_time(datetime.now(UTC)),
        "source": "daytwo",
        "data": data,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()
