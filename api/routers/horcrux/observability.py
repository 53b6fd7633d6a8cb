"""horcrux /api/observability: the OpenTelemetry export of the facade and the operator (README, OpenTelemetry).

The configuration is the ConfigMap ``DAYTWO_API_OBSERVABILITY_CONFIGMAP`` (default ``daytwo-observability``) in
the served namespace, written as the caller; header values (a collector's API key) go to the Secret
``<configmap>-headers`` and are answered only as ``********``. Every facade replica and the operator apply a
change without restart; "export now" flushes this replica and, through ``export_requested_at``, the others.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from daytwo.api.deps import Principal, Write, get_services, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import (
    MANAGED_BY,
    MANAGED_BY_FACADE,
    credential_secret_labels,
    owned_secret,
    preconditions_of,
)
from daytwo.api.observability import TELEMETRY, current_config
from daytwo.operator.observability import ObservabilityConfig, config_data, headers_secret_name, redacted
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

__all__ = ["router"]

router = APIRouter(tags=["observability"])

#: Labels of the ConfigMap and the header Secret: cached by the facade, made by it.
_OWNER = {"daytwo.io/observability": "config"}
_HEADER_NAME = r"^[A-Za-z0-9-]{1,64}$"


class ObservabilityConfigAnswer(BaseModel):
    """The OpenTelemetry configuration (header values hidden)."""

    enabled: bool
    endpoint: str
    service_name: str
    trace_enabled: bool
    metrics_enabled: bool
    logs_enabled: bool = Field(False, description="Log export is not offered (always false).")
    sampling_ratio: float
    export_interval_seconds: float
    headers: dict[str, str] = Field(description="Header names; values always ********.")
    active: bool = Field(description="Whether this facade replica exports right now.")


class ObservabilityUpdate(BaseModel):
    """Fields to change; absent ones keep their value. ``headers`` replaces every header (values write-only)."""

    enabled: bool | None = None
    endpoint: str | None = Field(None, max_length=512, description="OTLP/HTTP base URL, e.g. http://collector:4318")
    service_name: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]{1,63}$")
    trace_enabled: bool | None = None
    metrics_enabled: bool | None = None
    logs_enabled: bool | None = None
    sampling_ratio: float | None = Field(None, ge=0, le=1)
    export_interval_seconds: float | None = Field(None, ge=1, le=86400)
    headers: dict[str, str] | None = Field(None, max_length=16)


class ExportAnswer(BaseModel):
    """What export-now sent."""

    message: str
    metrics_count: int


# Shaped like views/spot/gpu._summary (duplicate scan): a record's fields under their wire names, nothing shared.
def _answer(config: ObservabilityConfig) -> dict[str, Any]:
    return {
        "enabled": config.enabled,
        "endpoint": config.endpoint,
        "service_name": config.service_name,
        "trace_enabled": config.trace_enabled,
        "metrics_enabled": config.metrics_enabled,
        "logs_enabled": False,
        "sampling_ratio": config.sampling_ratio,
        "export_interval_seconds": config.export_interval_seconds,
        "headers": redacted(config.header_names),
        "active": TELEMETRY.active,
    }


def _check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ApiError(
            422,
            "Invalid endpoint: give the collector's OTLP/HTTP base URL, e.g. http://otel-collector:4318 "
            "(daytwo appends /v1/traces and /v1/metrics)",
            "VALIDATION_ERROR",
            {"field": "endpoint"},
        )
    return endpoint.strip().rstrip("/")


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    bad = sorted(name for name in headers if not re.match(_HEADER_NAME, name))
    if bad:
        raise ApiError(
            422,
            f"Invalid header name(s) {', '.join(bad)}: letters, digits and '-'",
            "VALIDATION_ERROR",
            {"field": "headers"},
        )
    return {name.lower(): value for name, value in headers.items()}


def _write_config(act: Write, name: str, config: ObservabilityConfig, exists: bool) -> None:
    data = config_data(config)
    if exists:
        act.writer.patch("ConfigMap", name, {"data": data})
        return
    labels = {"app.kubernetes.io/part-of": "daytwo", MANAGED_BY: MANAGED_BY_FACADE, **_OWNER}
    act.writer.create("ConfigMap", {"metadata": {"name": name, "labels": labels}, "data": data})


@router.get("/api/observability/config", response_model=ObservabilityConfigAnswer, summary="Get OTel config")
def get_config(request: Request, user: Principal = require("settings:read")) -> dict[str, Any]:
    """The OpenTelemetry configuration every daytwo process applies (header values never shown)."""
    return _answer(current_config(get_services(request)))


@router.post("/api/observability/config", response_model=ObservabilityConfigAnswer, summary="Update OTel config")
def update_config(body: ObservabilityUpdate, act: Write = writes("settings:admin")) -> dict[str, Any]:
    """Change the configuration (as the caller); the facade and the operator apply it without restart."""
    services = get_services(act.request)
    if body.logs_enabled:
        raise ApiError(
            422,
            "Log export is not offered by daytwo: collect the pods' JSON logs instead",
            "VALIDATION_ERROR",
            {"field": "logs_enabled"},
        )
    name = services.settings.observability_configmap
    old = current_config(services)
    changes: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"headers", "logs_enabled", "endpoint"})
    if body.endpoint is not None:
        changes["endpoint"] = _check_endpoint(body.endpoint) if body.endpoint.strip() else ""
    headers: dict[str, str] | None = None
    if body.headers is not None:
        headers = _check_headers(body.headers)
        changes["header_names"] = tuple(sorted(headers))
    new = ObservabilityConfig(**{**old.__dict__, **changes})
    if new.enabled and not new.endpoint:
        raise ApiError(422, "Set an endpoint to enable the export", "VALIDATION_ERROR", {"field": "endpoint"})
    if headers is not None:
        secret = headers_secret_name(name)
        owned = owned_secret(act.writer, secret, _OWNER)
        if headers and owned is not None:
            act.writer.patch_secret(secret, headers)
        elif headers:
            act.writer.create_secret(secret, headers, credential_secret_labels(_OWNER))
        elif owned is not None:  # no headers any more: their values go too
            act.writer.delete_secret(secret, preconditions_of(owned))
    _write_config(act, name, new, services.store.get("ConfigMap", name) is not None)
    if headers is not None or not new.header_names:  # else the watch applies it with the Secret's values
        TELEMETRY.apply(new, headers or {})
    changed = sorted(k for k in changes if getattr(old, k) != getattr(new, k))
    act.audit("observability.update", name, changed=changed)  # names only: header values are never audited
    return _answer(new)


@router.post("/api/observability/export/metrics", response_model=ExportAnswer, summary="Export metrics now")
def export_now(act: Write = writes("settings:admin")) -> dict[str, Any]:
    """Flush this replica's spans and metrics now; the operator and other replicas flush on their next read."""
    services = get_services(act.request)
    config = current_config(services)
    if not config.active:
        raise ApiError(409, "OpenTelemetry export is off: enable it with POST /api/observability/config", "CONFLICT")
    name = services.settings.observability_configmap
    token = f"{format_time(datetime.now(UTC))}/{uuid.uuid4().hex[:8]}"
    act.writer.patch("ConfigMap", name, {"data": {"export_requested_at": token}})
    count = TELEMETRY.flush()
    act.audit("observability.export", name, metrics_count=count)
    return {"message": "Metrics exported successfully", "metrics_count": count}
