"""horcrux /api/alerts: alert rules as AlertRules the operator evaluates, notification channels in ConfigMaps.

Rules, acknowledgements and channels are written as the caller (impersonation, so Kubernetes RBAC has the
last word) and audited; the operator evaluates each AlertRule (``for``, hysteresis), keeps its firing alerts
and bounded history in status and notifies its channels. Channel credentials (a webhook's HMAC ``secret``,
an SMTP ``password``) go into a Secret labelled ``daytwo.io/credential`` and are never echoed.

Permissions: reading rules, active alerts and history ``monitoring:read``; acknowledging ``vms:write``;
creating and deleting rules ``nodes:admin``; channels ``webhooks:read`` / ``webhooks:write`` (URLs
redacted without it), like /api/webhooks.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from daytwo.api.deps import Principal, Reader, Write, get_services, reads, require, writes
from daytwo.api.errors import ApiError, undo
from daytwo.api.kubewrite import credential_secret_labels
from daytwo.api.views.horcrux import alerts as views
from daytwo.api.webhooks.urls import check_url, redact
from daytwo.crds.alertrule import AlertRuleSpec
from daytwo.operator.shared.alertchannels import CHANNEL_LABEL, channel_document, channel_name
from daytwo.operator.shared.prometheusrule import prometheus_rule
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["router"]

router = APIRouter(tags=["alerts"])
KIND = "AlertRule"
Severity = Literal["info", "warning", "critical"]
#: Channel config keys that are secrets: moved into the channel's Secret, never stored in the ConfigMap.
SECRET_KEYS = {"webhook": "secret", "email": "password"}


class AlertRuleCreate(BaseModel):
    """POST /api/alerts/rules (horcrux's fields plus daytwo's hysteresis and scope)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=253)
    condition: str = Field(min_length=3, max_length=200, description="e.g. cpu_usage > 90")
    duration: int = Field(0, ge=0, le=604800, description="Seconds the condition must hold (for).")
    severity: Severity = "warning"
    enabled: bool = True
    notification_channels: list[str] = Field(default_factory=list, max_length=20)
    clear_threshold: float | None = Field(None, description="Resolve only past this value (hysteresis).")
    clear_duration: int = Field(0, ge=0, le=604800, description="Seconds it must stay cleared.")
    interval: int = Field(30, ge=5, le=3600, description="Evaluation interval, seconds.")
    proxmox_node: str | None = Field(None, max_length=253, description="Only this ProxmoxNode.")


class ChannelCreate(BaseModel):
    """POST /api/alerts/notifications."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["webhook", "email"]
    config: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class Created(BaseModel):
    """An id and a message."""

    id: str
    message: str


def _rules(read: Reader) -> list[dict[str, Any]]:
    return sorted(read.store.list(KIND), key=lambda o: str(o["metadata"]["name"]))


def _channels(read: Reader) -> list[dict[str, Any]]:
    found = (channel_document(cm) for cm in read.store.list("ConfigMap", labels={CHANNEL_LABEL: "definition"}))
    return sorted((c for c in found if c is not None), key=lambda c: str(c["name"]))


def _invalid(message: str, field: str) -> ApiError:
    return ApiError(422, message, "VALIDATION_ERROR", {"field": field})


@router.get("/api/alerts/rules", summary="List alert rules")
def list_rules(read: Reader = reads("monitoring:read")) -> list[dict[str, Any]]:
    """Every AlertRule in horcrux's shape (plus hysteresis, interval, scope and how many targets fire)."""
    return [views.rule(obj) for obj in _rules(read)]


@router.post("/api/alerts/rules", status_code=201, response_model=Created, summary="Create an alert rule")
def create_rule(body: AlertRuleCreate, act: Write = writes("nodes:admin")) -> dict[str, Any]:
    """Create an AlertRule as the caller; channels must exist (by name or id)."""
    try:
        metric, comparison, threshold = views.parse_condition(body.condition)
    except ValueError as error:
        raise _invalid(str(error), "condition") from None
    known = {c["name"] for c in _channels(act)} | {c["id"] for c in _channels(act)}
    unknown = [name for name in body.notification_channels if name not in known]
    if unknown:
        raise _invalid(
            f"Unknown notification channel(s) {', '.join(unknown)}; create them with POST /api/alerts/notifications",
            "notification_channels",
        )
    spec = {
        "displayName": body.name,
        "metric": metric,
        "comparison": comparison,
        "threshold": threshold,
        "forSeconds": body.duration,
        "clearForSeconds": body.clear_duration,
        "severity": body.severity,
        "enabled": body.enabled,
        "intervalSeconds": body.interval,
        "notificationChannels": body.notification_channels,
    }
    if body.clear_threshold is not None:
        spec["clearThreshold"] = body.clear_threshold
    if body.proxmox_node:
        spec["proxmoxNode"] = body.proxmox_node
    try:
        AlertRuleSpec.model_validate(spec)
    except ValidationError as error:
        raise _invalid(str(error.errors()[0]["msg"]), "condition") from None
    if body.clear_threshold is not None and (
        body.clear_threshold > threshold if comparison == ">" else body.clear_threshold < threshold
    ):
        raise _invalid(
            f"clear_threshold must be on the resolved side of the threshold ({'<=' if comparison == '>' else '>='} "
            f"{threshold:g})",
            "clear_threshold",
        )
    rule_id = f"rule-{uuid.uuid4().hex[:10]}"
    act.writer.create(KIND, {"metadata": {"name": rule_id}, "spec": spec})
    act.audit("alert_rule.create", rule_id, condition=body.condition)
    return {"id": rule_id, "message": "Alert rule created successfully"}


def _rule_or_404(read: Reader, rule_id: str) -> dict[str, Any]:
    obj = read.store.get(KIND, rule_id)
    if obj is None:
        raise ApiError(404, f"Alert rule '{rule_id}' not found", "NOT_FOUND")
    return obj


@router.delete("/api/alerts/rules/{rule_id}", summary="Delete an alert rule")
def delete_rule(rule_id: str, act: Write = writes("nodes:admin")) -> dict[str, Any]:
    """Delete the AlertRule (its alerts and history go with it)."""
    _rule_or_404(act, rule_id)
    act.writer.delete(KIND, rule_id)
    act.audit("alert_rule.delete", rule_id)
    return {"message": "Alert rule deleted successfully"}


@router.get("/api/alerts/prometheusrule", summary="The alert rules as a PrometheusRule (daytwo)")
def as_prometheus_rule(request: Request, read: Reader = reads("monitoring:read")) -> dict[str, Any]:
    """A ``monitoring.coreos.com/v1`` PrometheusRule alerting on ``daytwo_alertrule_firing`` for each enabled
    AlertRule (plus the operator's health alerts): pipe it to ``kubectl apply -f -`` where the Prometheus
    operator runs (README, Alerts)."""
    return prometheus_rule(_rules(read), get_services(request).settings.namespace)


@router.get("/api/alerts/active", summary="List active alerts")
def active(read: Reader = reads("monitoring:read")) -> list[dict[str, Any]]:
    """Alerts firing now (pending ones, still within their duration, are not listed)."""
    return views.active_alerts(_rules(read))


@router.get("/api/alerts/history", summary="Alert history")
def history(
    read: Reader = reads("monitoring:read"),
    start: Annotated[str | None, Query(description="ISO 8601")] = None,
    end: Annotated[str | None, Query(description="ISO 8601")] = None,
    severity: Severity | None = None,
) -> list[dict[str, Any]]:
    """Fired alerts (the last 50 per rule), newest first, with when they resolved and who acknowledged them."""
    try:
        since, until = views.parse_range(start, end)
    except ValueError as error:
        raise ApiError(422, str(error), "VALIDATION_ERROR") from None
    return views.alert_history(_rules(read), since, until, severity)


@router.post("/api/alerts/{rule_id}/{target}/acknowledge", summary="Acknowledge an alert")
def acknowledge(rule_id: str, target: str, act: Write = writes("vms:write")) -> dict[str, Any]:
    """Record the acknowledgement in the rule's spec (as the caller); the operator copies it into history."""
    obj = _rule_or_404(act, rule_id)
    firing = {a["target"] for a in views.active_alerts([obj])}
    if target not in firing:
        raise ApiError(404, f"No active alert of rule '{rule_id}' on '{target}'", "NOT_FOUND")
    acks = [a for a in (obj["spec"].get("acknowledgements") or []) if a.get("target") != target]
    acks.append({"target": target, "by": act.user.username, "at": format_time(datetime.now(UTC))})
    # no resourceVersion precondition: the operator's status writes move it every pass while alerts fire
    act.writer.patch(KIND, rule_id, {"spec": {"acknowledgements": acks}})
    act.audit("alert.acknowledge", f"{rule_id}/{target}")
    return {"message": "Alert acknowledged"}


def _shown(channel: dict[str, Any], user: Principal) -> dict[str, Any]:
    if user.can("webhooks:write"):
        return channel
    config = dict(channel["config"])
    for key in ("url", "webhook_url"):
        if key in config:
            config[key] = redact(str(config[key]))
    return {**channel, "config": config}


@router.get("/api/alerts/notifications", summary="List notification channels")
def list_channels(request: Request, user: Principal = require("webhooks:read")) -> list[dict[str, Any]]:
    """Every channel (never its secret; URLs redacted without webhooks:write)."""
    store = get_services(request).store
    return [_shown(c, user) for c in _channels(Reader(user, store))]


def _checked_config(request: Request, body: ChannelCreate) -> dict[str, Any]:
    config = {k: v for k, v in body.config.items() if k != SECRET_KEYS[body.type]}
    if body.type == "webhook":
        url = str(config.pop("webhook_url", None) or config.get("url") or "")
        try:
            config["url"] = check_url(url, get_services(request).settings.webhook_allowed_hosts)
        except ValueError as error:
            raise _invalid(f"Invalid config.url: {error}", "config.url") from None
        return config
    missing = [key for key in ("smtp_server", "from", "to") if not config.get(key)]
    if missing:
        raise _invalid(f"An email channel needs config.{', config.'.join(missing)}", "config")
    port = config.get("smtp_port", 25)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise _invalid("config.smtp_port must be a port number", "config.smtp_port")
    if config.get("username") and not body.config.get("password"):
        raise _invalid("config.username needs config.password (kept in a Secret)", "config.password")
    return config


@router.post("/api/alerts/notifications", status_code=201, response_model=Created, summary="Add a notification channel")
def create_channel(body: ChannelCreate, act: Write = writes("webhooks:write")) -> dict[str, Any]:
    """The credential (webhook ``secret``, SMTP ``password``) goes into a Secret first, then the ConfigMap."""
    if any(c["name"] == body.name for c in _channels(act)):
        raise ApiError(409, f"A notification channel named '{body.name}' exists", "CONFLICT")
    config = _checked_config(act.request, body)
    secret = body.config.get(SECRET_KEYS[body.type])
    channel_id = f"channel-{uuid.uuid4().hex[:10]}"
    name = channel_name(channel_id)
    if secret:
        key = "secret" if body.type == "webhook" else "password"
        act.writer.create_secret(name, {key: str(secret)}, credential_secret_labels({CHANNEL_LABEL: "secret"}))
    fields = {"name": body.name, "type": body.type, "config": config, "enabled": body.enabled}
    try:
        act.writer.create("ConfigMap", views.channel_configmap(channel_id, fields, bool(secret)))
    except ApiError:
        if secret:
            undo(lambda: act.writer.delete_secret(name), f"delete Secret {name} of the channel not created")
        raise
    act.audit("alert_channel.create", channel_id, type=body.type)
    return {"id": channel_id, "message": "Notification channel created successfully"}
