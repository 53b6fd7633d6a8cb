"""horcrux /api/audit/*: the facade's audit log (api/audit.py) in horcrux's shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from daytwo.api.deps import AuditDep, Principal, require
from fastapi import APIRouter, Query

from .schemas import AuditEvent

__all__ = ["router"]

router = APIRouter(tags=["audit"])
#: Enough to filter a page from (the log keeps 2 x 5,000 entries by default: routine and security rings).
SCAN = 10000


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _event(entry: dict[str, Any]) -> dict[str, Any]:
    details = entry.get("details") or {}
    return {
        "id": f"audit-{entry.get('id')}",
        "timestamp": str(entry.get("timestamp", "")),
        "user": str(entry.get("user", "")),
        "action": str(entry.get("action", "")),
        "resource": str(entry.get("target", "")),
        "result": str(entry.get("outcome", "")),
        "ip_address": details.get("ip_address"),
        "user_agent": details.get("user_agent"),
    }


def _within(entry: dict[str, Any], start: datetime | None, end: datetime | None) -> bool:
    moment = _time(str(entry.get("timestamp", "")))
    return moment is not None and (start is None or moment >= start) and (end is None or moment <= end)


@router.get("/api/audit/events", response_model=list[AuditEvent], summary="Query the audit log")
def audit_events(
    log: AuditDep,
    start: str | None = None,
    end: str | None = None,
    user: Annotated[str | None, Query(alias="user")] = None,
    action: str | None = None,
    resource: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    caller: Principal = require("audit:read"),
) -> list[dict[str, Any]]:
    """Entries newest first, filtered by time, user, action (prefix) and resource (prefix)."""
    _, entries = log.entries(0, SCAN, user=user, action=action, target=resource)
    since, until = _time(start), _time(end)
    selected = [e for e in entries if _within(e, since, until)]
    return [_event(e) for e in selected[offset : offset + limit]]


@router.get("/api/audit/failed-logins", summary="Failed logins")
def failed_logins(
    log: AuditDep, hours: Annotated[int, Query(ge=1, le=8760)] = 24, caller: Principal = require("audit:read")
) -> list[dict[str, Any]]:
    """Failed logins of the last ``hours``."""
    _, entries = log.entries(0, SCAN, action="auth.login", outcome="failure")
    since = datetime.now(UTC) - timedelta(hours=hours)
    return [
        {
            "timestamp": e.get("timestamp"),
            "username": e.get("user"),
            "ip_address": (e.get("details") or {}).get("ip_address"),
            "reason": "invalid_credentials",
        }
        for e in entries
        if _within(e, since, None)
    ]


def _event_type(entry: dict[str, Any]) -> str:
    """authentication_failed (a failed login or a 401), access_denied (403), audit_suppressed, operation_failed."""
    status = (entry.get("details") or {}).get("status")
    action = str(entry.get("action"))
    if action.startswith("auth.") or status == 401:
        return "authentication_failed"
    if status == 403 or entry.get("outcome") == "denied":
        return "access_denied"
    if action == "audit.suppressed":
        return "audit_suppressed"
    return "operation_failed"


@router.get("/api/audit/security-events", summary="Security events (denied and failed calls)")
def security_events(log: AuditDep, caller: Principal = require("audit:read")) -> list[dict[str, Any]]:
    """Audit entries whose outcome is not success: failed logins, 401/403 denials, failed writes, and
    the ``audit.suppressed`` entries of callers over their audit quota."""
    _, entries = log.entries(0, SCAN)
    return [
        {
            "timestamp": e.get("timestamp"),
            "event_type": _event_type(e),
            "user": e.get("user"),
            "action": e.get("action"),
            "resource": e.get("target"),
            "status": (e.get("details") or {}).get("status"),
            "ip_address": (e.get("details") or {}).get("ip_address"),
            "user_agent": (e.get("details") or {}).get("user_agent"),
        }
        for e in entries
        if e.get("outcome") != "success"
    ][:1000]
