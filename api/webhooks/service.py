"""horcrux webhooks: definitions kept in Kubernetes, events from the ObjectStore, deliveries in memory.

A webhook is a ConfigMap ``horcrux-webhook-<id>`` (labelled ``app.kubernetes.io/part-of=daytwo`` and
:data:`WEBHOOK_LABEL`, so the ObjectStore caches it; ``data.webhook.json`` holds name, url, events,
enabled, created_at) plus, when it has a secret, a Secret of the same name (key ``secret``). The
routes create both as the caller; delivery reads the Secret with the facade's own identity (the
secret never leaves Kubernetes and the facade; it is never echoed).

:class:`WebhookService` subscribes to the store, turns each change into lifecycle events
(:func:`daytwo.api.webhooks.events.changes`) and hands them to the :class:`Deliverer` for every
enabled webhook subscribed to the event.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from daytwo.operator.shared.times import format_time

from ..kube import request_json
from ..store import ObjectStore
from .delivery import Deliverer, Delivery, Target
from .events import Event, changes

__all__ = [
    "WATCHED",
    "WEBHOOK_LABEL",
    "WebhookService",
    "decode_secret",
    "definition",
    "definition_configmap",
    "new_webhook_id",
    "resource_name",
    "secret_reader",
    "start",
    "stop",
    "webhooks_for",
]

log = logging.getLogger("daytwo.api.webhooks")

WEBHOOK_LABEL = "daytwo.io/horcrux-webhook"
WATCHED = ("ProxmoxNode", "SnapshotPolicy", "RestoreJob", "AggregateMigration")
#: Reads a webhook's signing secret (Secret name -> value, None when absent).
SecretReader = Callable[[str], str | None]


def new_webhook_id() -> str:
    """A fresh webhook id (``webhook-<10 hex>``)."""
    return f"webhook-{uuid.uuid4().hex[:10]}"


def resource_name(webhook_id: str) -> str:
    """Name of the ConfigMap (and Secret) of a webhook."""
    return f"horcrux-{webhook_id}"


def definition_configmap(webhook_id: str, fields: Mapping[str, Any], has_secret: bool) -> dict[str, Any]:
    """The ConfigMap body of a webhook definition (no secret in it)."""
    document = {**fields, "id": webhook_id, "has_secret": has_secret}
    return {
        "metadata": {
            "name": resource_name(webhook_id),
            "labels": {
                "app.kubernetes.io/part-of": "daytwo",
                "app.kubernetes.io/managed-by": "daytwo-api",
                WEBHOOK_LABEL: "definition",
            },
        },
        "data": {"webhook.json": json.dumps(document, sort_keys=True)},
    }


def definition(configmap: Mapping[str, Any]) -> dict[str, Any] | None:
    """horcrux's webhook object from its ConfigMap; None when the document is unreadable."""
    try:
        document = json.loads(((configmap.get("data") or {}).get("webhook.json")) or "")
    except ValueError:
        return None
    if not isinstance(document, dict) or not document.get("id"):
        return None
    return {
        "id": str(document["id"]),
        "name": str(document.get("name", "")),
        "url": str(document.get("url", "")),
        "events": [str(e) for e in document.get("events") or []],
        "enabled": bool(document.get("enabled", True)),
        "created_at": document.get("created_at"),
        "has_secret": bool(document.get("has_secret")),
    }


class WebhookService:
    """Computes lifecycle events from store changes and delivers them to subscribed webhooks."""

    def __init__(self, store: ObjectStore, read_secret: SecretReader, deliverer: Deliverer | None = None) -> None:
        self.store = store
        self.read_secret = read_secret
        self.deliverer = deliverer or Deliverer()
        self._previous: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Remember the current objects (no events for the past) and subscribe to changes; idempotent."""
        with self._lock:
            if self._started:
                return
            for kind in WATCHED:
                for obj in self.store.list(kind):
                    self._previous[(kind, obj["metadata"]["name"])] = obj
            self.store.subscribe(self.on_change)
            self._started = True

    def stop(self) -> None:
        """Stop watching the store and end the deliveries' threads (app shutdown)."""
        with self._lock:
            if self._started:
                self.store.unsubscribe(self.on_change)
                self._started = False
        self.deliverer.close()

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook definition, by id."""
        found = (definition(cm) for cm in self.store.list("ConfigMap", labels={WEBHOOK_LABEL: "definition"}))
        return sorted((d for d in found if d is not None), key=lambda d: str(d["id"]))

    def get(self, webhook_id: str) -> dict[str, Any] | None:
        """One webhook definition, or None."""
        cm = self.store.get("ConfigMap", resource_name(webhook_id))
        if cm is None or (cm.get("metadata", {}).get("labels") or {}).get(WEBHOOK_LABEL) != "definition":
            return None
        return definition(cm)

    def target(self, hook: Mapping[str, Any]) -> Target:
        """Where to deliver ``hook``'s events and with which secret."""
        secret = self.read_secret(resource_name(str(hook["id"]))) if hook.get("has_secret") else None
        if hook.get("has_secret") and not secret:
            raise LookupError(
                f"the signing Secret {resource_name(str(hook['id']))} cannot be read; nothing is sent unsigned"
            )
        return Target(str(hook["id"]), str(hook["url"]), secret)

    def on_change(self, event_type: str, obj: dict[str, Any]) -> None:
        """Store subscriber: compute the events of this change and queue their deliveries."""
        kind = str(obj.get("kind", ""))
        if kind not in WATCHED:
            return
        key = (kind, str(obj.get("metadata", {}).get("name", "")))
        with self._lock:
            before = self._previous.get(key)
            if event_type == "DELETED":
                self._previous.pop(key, None)
            else:
                self._previous[key] = obj
        for event in changes(kind, event_type, before, obj):
            self.publish(event)

    def publish(self, event: Event) -> list[Future[Delivery]]:
        """Queue ``event`` for every enabled webhook subscribed to it."""
        futures = []
        for hook in self.webhooks():
            if hook["enabled"] and (event.name in hook["events"] or "*" in hook["events"]):
                try:
                    futures.append(self.deliverer.submit(self.target(hook), event.name, event.data))
                except Exception:
                    log.exception("webhook %s: could not queue %s", hook["id"], event.name)
        return futures

    def test(self, hook: Mapping[str, Any]) -> Delivery:
        """Send a ``webhook.test`` event now (no retries), recorded like any delivery."""
        data = {"webhook_id": hook["id"], "message": "Test event from daytwo", "sent_at": _now()}
        try:
            target = self.target(hook)
        except LookupError as error:
            return self.deliverer.refused(str(hook["id"]), "webhook.test", str(error))
        return self.deliverer.deliver(target, "webhook.test", data, retries=0)

    def deliveries(self, webhook_id: str) -> list[dict[str, Any]]:
        """The webhook's recorded deliveries, newest first."""
        return self.deliverer.deliveries(webhook_id)


def _now() -> str:
    return format_time(datetime.now(UTC))


_SERVICES: WeakKeyDictionary[ObjectStore, WebhookService] = WeakKeyDictionary()
_SERVICES_LOCK = threading.Lock()


def webhooks_for(store: ObjectStore, read_secret: SecretReader) -> WebhookService:
    """The process's WebhookService for ``store``, created and started on first use."""
    with _SERVICES_LOCK:
        service = _SERVICES.get(store)
        if service is None:
            service = _SERVICES[store] = WebhookService(store, read_secret)
    service.start()
    return service


def secret_reader(kube: Any, namespace: str) -> SecretReader:
    """Reads a webhook's Secret with the facade's own identity (``kube``: a kubernetes ApiClient or None)."""

    def read(name: str) -> str | None:
        if kube is None:
            return None
        try:
            return decode_secret(request_json(kube, "GET", f"/api/v1/namespaces/{namespace}/secrets/{name}"))
        except Exception as error:
            log.warning("webhook Secret %s could not be read (%s)", name, type(error).__name__)
            return None

    return read


def start(store: ObjectStore, kube: Any, namespace: str) -> WebhookService:
    """Start watching for lifecycle events at facade start-up (app lifespan): webhooks defined before a
    restart keep receiving events without waiting for a horcrux request."""
    return webhooks_for(store, secret_reader(kube, namespace))


def stop(store: ObjectStore) -> None:
    """Stop ``store``'s WebhookService, if one was started (app shutdown)."""
    with _SERVICES_LOCK:
        service = _SERVICES.pop(store, None)
    if service is not None:
        service.stop()


def decode_secret(secret: Mapping[str, Any] | None, key: str = "secret") -> str | None:
    """The value of ``key`` in a Secret object (base64 ``data``), or None."""
    value = ((secret or {}).get("data") or {}).get(key)
    return base64.b64decode(value).decode() if value else None
