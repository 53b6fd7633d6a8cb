"""pf9 drift detection: DriftRule / DriftEvent CRs -> /drift/* JSON (ids are the CR names)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from daytwo.crds.drift import Acknowledgement, DriftEventSpec, DriftRuleSpec, DriftRuleStatus
from pydantic import BaseModel

from .common import iso, parse_time

__all__ = [
    "EVENT_SORTS",
    "AckResult",
    "BulkAckResult",
    "DriftEventDetail",
    "DriftEventPage",
    "DriftEventRow",
    "DriftRuleList",
    "DriftRuleRow",
    "DriftRuleUpdated",
    "DriftSummary",
    "EventFilter",
    "acknowledgement_patch",
    "enabled_patch",
    "event_detail",
    "event_row",
    "event_spec",
    "filter_events",
    "rule_row",
    "rule_spec",
    "summary",
]

#: Columns /drift/events may sort by (pf9's sort_by); default newest first.
EVENT_SORTS = (
    "detected_at",
    "severity",
    "resource_type",
    "resource_name",
    "resource_id",
    "field_name",
    "rule_name",
    "acknowledged",
    "domain_name",
    "tenant_name",
)
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


class DriftEventRow(BaseModel):
    """One event in /drift/events (``id`` is the DriftEvent's name)."""

    id: str
    resource_type: str
    resource_id: str
    resource_name: str | None
    field_name: str
    old_value: str | None
    new_value: str | None
    severity: str
    rule_name: str
    detected_at: str | None
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_at: str | None
    domain_name: str | None
    tenant_name: str | None


class DriftEventDetail(DriftEventRow):
    """/drift/events/{id}: the row plus rule metadata and what kind of change it was."""

    rule_id: str
    rule_description: str | None
    change: str
    acknowledgement_note: str | None


class DriftEventPage(BaseModel):
    """/drift/events."""

    total: int
    page: int
    page_size: int
    events: list[DriftEventRow]


class AckResult(BaseModel):
    """PUT /drift/events/{id}/acknowledge."""

    id: str
    acknowledged: bool
    acknowledged_by: str
    acknowledged_at: str


class BulkAckResult(BaseModel):
    """PUT /drift/events/bulk-acknowledge."""

    acknowledged_count: int
    acknowledged_by: str
    acknowledged_at: str
    not_found: list[str] = []


class DriftRuleRow(BaseModel):
    """One rule in /drift/rules (``id`` is the DriftRule's name)."""

    id: str
    resource_type: str
    field_name: str
    rule_name: str
    description: str | None
    severity: str
    enabled: bool
    credential: str | None
    interval_seconds: int
    open_events: int | None
    unacknowledged_events: int | None
    last_evaluated_at: str | None


class DriftRuleList(BaseModel):
    """/drift/rules."""

    rules: list[DriftRuleRow]
    total: int


class DriftRuleUpdated(BaseModel):
    """PUT /drift/rules/{rule_id}."""

    id: str
    rule_name: str
    enabled: bool
    updated_by: str
    updated_at: str


class DriftSummary(BaseModel):
    """/drift/summary."""

    total_events: int
    unacknowledged: int
    by_severity: dict[str, int]
    by_resource_type: dict[str, int]
    last_detected_at: str | None


def _plain(value: Any) -> str | None:
    """A recorded value (JSON text) as pf9 shows it: a JSON string unquoted, anything else as JSON text."""
    if value is None:
        return None
    text = str(value)
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    if decoded is None:
        return None
    return decoded if isinstance(decoded, str) else text


def event_spec(event: Mapping[str, Any]) -> DriftEventSpec:
    """The DriftEvent's spec, parsed by its model (the one place its defaults live)."""
    return DriftEventSpec.model_validate(event["spec"])


def rule_spec(rule: Mapping[str, Any]) -> DriftRuleSpec:
    """The DriftRule's spec, parsed by its model."""
    return DriftRuleSpec.model_validate(rule["spec"])


def event_row(event: Mapping[str, Any]) -> dict[str, Any]:
    """A DriftEvent CR as a /drift/events row."""
    spec = event_spec(event)
    ack = spec.acknowledgement or Acknowledgement()
    return {
        "id": event["metadata"]["name"],
        "resource_type": spec.resource_type,
        "resource_id": spec.resource_id,
        "resource_name": spec.resource_name,
        "field_name": spec.field,
        "old_value": _plain(spec.old_value),
        "new_value": _plain(spec.new_value),
        "severity": spec.severity,
        "rule_name": spec.rule_ref,
        "detected_at": iso(spec.detected_at),
        "acknowledged": ack.acknowledged,
        "acknowledged_by": ack.by,
        "acknowledged_at": iso(ack.at),
        "domain_name": spec.domain_name,
        "tenant_name": spec.project_name,
    }


def event_detail(event: Mapping[str, Any], rule: Mapping[str, Any] | None) -> dict[str, Any]:
    """A DriftEvent CR with its rule's metadata (/drift/events/{id})."""
    spec = event_spec(event)
    row = event_row(event)
    row["rule_id"] = spec.rule_ref
    row["rule_description"] = spec.description or (rule_spec(rule).description if rule is not None else None)
    row["change"] = spec.change
    row["acknowledgement_note"] = spec.acknowledgement.note if spec.acknowledgement else None
    return row


class EventFilter(BaseModel):
    """The filters of /drift/events and /drift/summary (all optional, ANDed)."""

    resource_type: str | None = None
    severity: str | None = None
    acknowledged: bool | None = None
    domain_name: str | None = None
    tenant_name: str | None = None
    search: str | None = None

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Whether one event row passes every set filter (search: substring of name or id, any case)."""
        if self.resource_type and row["resource_type"] != self.resource_type:
            return False
        if self.severity and row["severity"] != self.severity:
            return False
        if self.acknowledged is not None and row["acknowledged"] != self.acknowledged:
            return False
        if self.domain_name and row["domain_name"] != self.domain_name:
            return False
        if self.tenant_name and row["tenant_name"] != self.tenant_name:
            return False
        if self.search:
            needle = self.search.lower()
            return needle in (row["resource_name"] or "").lower() or needle in row["resource_id"].lower()
        return True

    def is_empty(self) -> bool:
        """True when no filter is set (the memoised full list can be used as is)."""
        return not any(value is not None and value != "" for value in self.model_dump().values())


def _order(rows: list[dict[str, Any]], sort_by: str | None, sort_dir: str | None) -> list[dict[str, Any]]:
    column = sort_by if sort_by in EVENT_SORTS else "detected_at"
    descending = (sort_dir or ("desc" if column == "detected_at" else "asc")).lower() == "desc"
    if column == "severity":
        return sorted(rows, key=lambda r: _SEVERITY_RANK.get(r["severity"], 3), reverse=descending)
    present = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]
    present.sort(key=lambda r: r[column] if not isinstance(r[column], str) else r[column].lower(), reverse=descending)
    return present + missing


def filter_events(
    rows: Sequence[dict[str, Any]], where: EventFilter, sort_by: str | None = None, sort_dir: str | None = None
) -> list[dict[str, Any]]:
    """Event rows passing ``where``, ordered (default: newest first, ties by id)."""
    chosen = list(rows) if where.is_empty() else [row for row in rows if where.matches(row)]
    return _order(chosen, sort_by, sort_dir)


def summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts by severity, resource type and acknowledgement (/drift/summary)."""
    listed = list(rows)
    severities = Counter(str(r["severity"]) for r in listed)
    types = Counter(str(r["resource_type"]) for r in listed)
    detected = [parse_time(r["detected_at"]) for r in listed]
    latest = max((d for d in detected if d is not None), default=None)
    return {
        "total_events": len(listed),
        "unacknowledged": sum(1 for r in listed if not r["acknowledged"]),
        "by_severity": {level: severities.get(level, 0) for level in ("critical", "warning", "info")},
        "by_resource_type": dict(sorted(types.items(), key=lambda item: (-item[1], item[0]))),
        "last_detected_at": iso(latest),
    }


def rule_row(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A DriftRule CR as a /drift/rules row."""
    spec = rule_spec(rule)
    status = DriftRuleStatus.model_validate(rule.get("status") or {})
    name = rule["metadata"]["name"]
    return {
        "id": name,
        "resource_type": spec.target.resource_type,
        "field_name": spec.field,
        "rule_name": name,
        "description": spec.description,
        "severity": spec.severity,
        "enabled": spec.enabled,
        "credential": spec.target.credentials_ref.name,
        "interval_seconds": spec.interval_seconds,
        "open_events": status.open_events,
        "unacknowledged_events": status.unacknowledged_events,
        # Coarse since issue 18: the last evaluation that changed something, or the hourly heartbeat
        # (DAYTWO_STATUS_HEARTBEAT_SECONDS), so at most that old while the rule evaluates; pass times are metrics.
        "last_evaluated_at": iso(status.last_evaluation_time),
    }


def enabled_patch(enabled: bool) -> dict[str, Any]:
    """The merge patch that enables or disables a DriftRule (spec.enabled, named by the model)."""
    return {"spec": {DriftRuleSpec.model_fields["enabled"].alias or "enabled": enabled}}


def acknowledgement_patch(by: str, at: str, note: str | None = None) -> dict[str, Any]:
    """The merge patch that acknowledges a DriftEvent (the only spec change its CEL rules allow)."""
    ack = Acknowledgement.model_validate({"acknowledged": True, "by": by, "at": at, "note": note or None})
    return {"spec": {"acknowledgement": ack.to_k8s()}}
