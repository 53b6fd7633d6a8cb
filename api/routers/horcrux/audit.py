"""horcrux /api/audit/*: the facade's audit log (api/audit.py) in horcrux's shapes.

``POST /api/audit/export`` streams the filtered trail (JSON array or CSV) instead of writing a file on
the server as horcrux does: rows are produced from :meth:`AuditLog.iter_entries` as the client reads
them, so a large range is never one list in memory. Entries never hold request bodies or passwords.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from daytwo.api.deps import AuditDep, Principal, audit, require
from daytwo.api.errors import ApiError
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

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


class AuditExport(BaseModel):
    """``POST /api/audit/export``: the filters of ``GET /api/audit/events`` and a format."""

    start: str | None = Field(None, max_length=64, examples=["2025-10-01T00:00:00Z"])
    end: str | None = Field(None, max_length=64, examples=["2025-10-09T23:59:59Z"])
    user: str | None = Field(None, max_length=253)
    action: str | None = Field(None, max_length=128)
    resource: str | None = Field(None, max_length=512)
    format: Literal["json", "csv"] = "json"


#: CSV columns: the fields of an event of ``GET /api/audit/events``.
COLUMNS = ("id", "timestamp", "user", "action", "resource", "result", "ip_address", "user_agent")
#: Rows per chunk written to the client.
CHUNK = 200


def _bound(value: str | None, name: str) -> datetime | None:
    moment = _time(value)
    if value and moment is None:
        raise ApiError(422, f"{name} must be an ISO 8601 timestamp such as 2025-10-01T00:00:00Z", "VALIDATION_ERROR")
    return moment


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for count, event in enumerate(events, 1):
        writer.writerow([_cell(event.get(c)) for c in COLUMNS])
        if count % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_rows(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    parts = ["["]
    first = True
    for event in events:
        parts.append(("" if first else ",") + json.dumps(event, separators=(",", ":")))
        first = False
        if len(parts) >= CHUNK:
            yield "".join(parts)
            parts = []
    parts.append("]")
    yield "".join(parts)


@router.post("/api/audit/export", summary="Export the audit log (streamed JSON or CSV)")
def export_audit(
    body: AuditExport, log: AuditDep, request: Request, caller: Principal = require("audit:read")
) -> StreamingResponse:
    """The filtered trail, newest first, streamed as a JSON array or CSV (columns of ``/api/audit/events``).

    Unlike horcrux, nothing is written on the server: the answer is the file (``Content-Disposition``).
    The export itself is audited (``audit.export``, with its filters).
    """
    since, until = _bound(body.start, "start"), _bound(body.end, "end")
    audit(
        request,
        caller,
        "audit.export",
        "audit",
        format=body.format,
        filters={k: v for k, v in body.model_dump(exclude={"format"}).items() if v},
    )

    def events() -> Iterator[dict[str, Any]]:
        for entry in log.iter_entries(user=body.user, action=body.action, target=body.resource):
            moment = _time(str(entry.get("timestamp", "")))
            if moment is None or (until is not None and moment > until):
                continue
            if since is not None and moment < since:
                break  # newest first: everything after is older still
            yield _event(entry)

    rows = _csv_rows(events()) if body.format == "csv" else _json_rows(events())
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    media = "text/csv; charset=utf-8" if body.format == "csv" else "application/json"
    headers = {"Content-Disposition": f'attachment; filename="audit-export-{stamp}.{body.format}"'}
    return StreamingResponse((chunk.encode() for chunk in rows), media_type=media, headers=headers)
