"""horcrux webhooks: lifecycle events from daytwo objects, HMAC-signed deliveries with retries (see service.py)."""

from .delivery import SIGNATURE_HEADER, Deliverer, Delivery, Target, sign, verify
from .events import EVENTS, Event, changes
from .service import WEBHOOK_LABEL, WebhookService, webhooks_for

__all__ = [
    "EVENTS",
    "SIGNATURE_HEADER",
    "WEBHOOK_LABEL",
    "Deliverer",
    "Delivery",
    "Event",
    "Target",
    "WebhookService",
    "changes",
    "sign",
    "verify",
    "webhooks_for",
]
