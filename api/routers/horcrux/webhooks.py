"""horcrux /api/webhooks: definitions in a ConfigMap, the secret in a Secret (write-only), deliveries of
daytwo lifecycle events signed with HMAC-SHA256 (api/webhooks).

URLs must pass :func:`daytwo.api.webhooks.urls.check_url` (https, no loopback/link-local unless on
``webhook_allowed_hosts``); callers without ``webhooks:write`` see them redacted (``https://host/…``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from daytwo.api.deps import Principal, Write, WriterDep, get_services, require, writes
from daytwo.api.errors import ApiError, undo
from daytwo.api.webhooks.events import EVENTS
from daytwo.api.webhooks.service import definition_configmap, new_webhook_id, resource_name
from daytwo.api.webhooks.urls import check_url, redact
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Request

from ._shared import audit, webhook_service
from .schemas import Message, TestResult, Webhook, WebhookCreate, WebhookCreated, WebhookDelivery, WebhookUpdate

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - EVENTS - {"*"})
    if unknown:
        raise ApiError(
            422, f"Unknown event(s) {', '.join(unknown)}; use any of {', '.join(sorted(EVENTS))}", "VALIDATION_ERROR"
        )
    return sorted(set(events))


def _check_url(request: Request, url: str) -> str:
    try:
        return check_url(url, get_services(request).settings.webhook_allowed_hosts)
    except ValueError as error:
        raise ApiError(422, f"Invalid webhook url: {error}", "VALIDATION_ERROR", {"field": "url"}) from None


def _shown(hook: dict[str, Any], user: Principal) -> dict[str, Any]:
    """The webhook as ``user`` may see it: the full URL only for those who may manage webhooks."""
    return hook if user.can("webhooks:write") else {**hook, "url": redact(str(hook.get("url", "")))}


def _hook_or_404(request: Request, webhook_id: str) -> dict[str, Any]:
    hook = webhook_service(request).get(webhook_id)
    if hook is None:
        raise ApiError(404, f"Webhook '{webhook_id}' not found", "NOT_FOUND")
    return hook


@router.get("/api/webhooks", response_model=list[Webhook], summary="List webhooks")
def list_webhooks(request: Request, user: Principal = require("webhooks:read")) -> list[dict[str, Any]]:
    """Every webhook (never its secret; URLs redacted without webhooks:write)."""
    return [_shown(hook, user) for hook in webhook_service(request).webhooks()]


@router.post("/api/webhooks", response_model=WebhookCreated, status_code=201, summary="Create a webhook")
def create_webhook(
    body: WebhookCreate, request: Request, writer: WriterDep, user: Principal = require("webhooks:write")
) -> dict[str, Any]:
    """The secret goes into a Secret first, then the definition ConfigMap (the Secret is removed if that fails)."""
    webhook_id = new_webhook_id()
    fields = {
        "name": body.name,
        "url": _check_url(request, body.url),
        "events": _check_events(body.events),
        "enabled": body.enabled,
        "created_at": format_time(datetime.now(UTC)),
    }
    labels = {"app.kubernetes.io/managed-by": "daytwo-api", "daytwo.io/horcrux-webhook": "secret"}
    if body.secret:
        writer.create_secret(resource_name(webhook_id), {"secret": body.secret}, labels)
    try:
        writer.create("ConfigMap", definition_configmap(webhook_id, fields, bool(body.secret)))
    except ApiError:
        if body.secret:
            name = resource_name(webhook_id)
            undo(lambda: writer.delete_secret(name), f"delete Secret {name} of the webhook not created")
        raise
    webhook_service(request)  # make sure events are being watched from now on
    audit(request, user, "webhook.create", webhook_id)
    return {"id": webhook_id, "message": "Webhook created successfully"}


@router.get("/api/webhooks/{webhook_id}", response_model=Webhook, summary="Get a webhook")
def get_webhook(webhook_id: str, request: Request, user: Principal = require("webhooks:read")) -> dict[str, Any]:
    """One webhook (never its secret; its URL redacted without webhooks:write)."""
    return _shown(_hook_or_404(request, webhook_id), user)


@router.post("/api/webhooks/{webhook_id}", response_model=Webhook, summary="Update a webhook")
def update_webhook(webhook_id: str, body: WebhookUpdate, act: Write = writes("webhooks:write")) -> dict[str, Any]:
    """Change any of name, url, events, enabled; a new secret replaces the old one."""
    request, writer = act.request, act.writer
    hook = _hook_or_404(request, webhook_id)
    changes = body.model_dump(exclude_none=True, exclude={"secret"})
    if "events" in changes:
        changes["events"] = _check_events(changes["events"])
    if "url" in changes:
        changes["url"] = _check_url(request, changes["url"])
    has_secret = hook["has_secret"]
    if body.secret:
        if has_secret:
            writer.patch_secret(resource_name(webhook_id), {"secret": body.secret})
        else:
            labels = {"app.kubernetes.io/managed-by": "daytwo-api", "daytwo.io/horcrux-webhook": "secret"}
            writer.create_secret(resource_name(webhook_id), {"secret": body.secret}, labels)
            has_secret = True
    fields = {k: hook[k] for k in ("name", "url", "events", "enabled", "created_at")} | changes
    document = definition_configmap(webhook_id, fields, has_secret)
    writer.patch("ConfigMap", resource_name(webhook_id), {"data": document["data"]})
    act.audit("webhook.update", webhook_id)
    return {**fields, "id": webhook_id, "has_secret": has_secret}


@router.delete("/api/webhooks/{webhook_id}", response_model=Message, summary="Delete a webhook")
def delete_webhook(
    webhook_id: str, request: Request, writer: WriterDep, user: Principal = require("webhooks:write")
) -> dict[str, Any]:
    """Delete the definition and its Secret."""
    hook = _hook_or_404(request, webhook_id)
    writer.delete("ConfigMap", resource_name(webhook_id))
    if hook["has_secret"]:
        try:
            writer.delete_secret(resource_name(webhook_id))
        except ApiError as error:
            if error.status_code != 404:
                raise
    webhook_service(request).deliverer.forget(webhook_id)
    audit(request, user, "webhook.delete", webhook_id)
    return {"message": "Webhook deleted successfully"}


@router.post("/api/webhooks/{webhook_id}/test", response_model=TestResult, summary="Send a test event")
def test_webhook(webhook_id: str, request: Request, user: Principal = require("webhooks:write")) -> dict[str, Any]:
    """Deliver a signed ``webhook.test`` event now (no retries) and report the answer: the receiver's
    status code, or ``delivery failed: no HTTP response`` (never the connection error or its timing)."""
    service = webhook_service(request)
    delivery = service.test(_hook_or_404(request, webhook_id))
    return {
        "status": delivery.status,
        "response_code": delivery.response_code,
        "response_time_ms": delivery.response_time_ms,
        "error": delivery.error,
    }


@router.get("/api/webhooks/{webhook_id}/deliveries", response_model=list[WebhookDelivery], summary="Delivery history")
def deliveries(webhook_id: str, request: Request, user: Principal = require("webhooks:read")) -> list[dict[str, Any]]:
    """This replica's deliveries of the webhook, newest first (kept in memory, 100 per webhook)."""
    _hook_or_404(request, webhook_id)
    return webhook_service(request).deliveries(webhook_id)
