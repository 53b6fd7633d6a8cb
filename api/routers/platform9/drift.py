"""pf9 /drift/*: DriftRules and DriftEvents from the cache; acknowledging patches the DriftEvent."""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.api.deps import Principal, Reader, StoreDep, Write, WriterDep, reads, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.views.platform9 import drift as views
from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from ._shared import ERRORS, JsonResponse, PathId, audit, dumps, event_rows, fast_json, memo, now_iso, rendered
from .monitoring import TimedRoute

__all__ = ["router"]

router = APIRouter(tags=["drift"], route_class=TimedRoute, responses=ERRORS)

Severity = Annotated[str | None, Query(pattern="^(critical|warning|info)$", description="critical, warning or info")]
ResourceType = Annotated[
    str | None,
    Query(
        pattern="^(server|volume|network|subnet|port|floating_ip|security_group|snapshot)$",
        description="server, volume, network, subnet, port, floating_ip, security_group or snapshot",
    ),
]


def _not_found(what: str, name: str) -> ApiError:
    return ApiError(404, f"{what} {name!r} not found", "NOT_FOUND")


@router.get(
    "/drift/summary",
    response_model=views.DriftSummary,
    summary="Drift events by severity, resource type and acknowledgement",
)
def drift_summary(
    store: StoreDep,
    domain_name: str | None = None,
    tenant_name: str | None = None,
    user: Principal = require("drift:read"),
) -> dict[str, Any]:
    """Aggregate of the (optionally domain/tenant-filtered) DriftEvents."""
    where = views.EventFilter(domain_name=domain_name, tenant_name=tenant_name)
    return memo(store).get(
        ("drift-summary", domain_name, tenant_name),
        store.version("DriftEvent"),
        lambda: views.summary(views.filter_events(event_rows(store), where)),
    )


@router.get(
    "/drift/events",
    response_class=JsonResponse,
    responses={200: {"model": views.DriftEventPage, "description": "One page of drift events"}},
    summary="Drift events with filters, sorting and pagination",
)
async def list_events(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 50,
    sort_by: Annotated[str | None, Query(description="One of " + ", ".join(views.EVENT_SORTS))] = None,
    sort_dir: Annotated[str | None, Query(pattern="^(asc|desc)$")] = None,
    resource_type: ResourceType = None,
    severity: Severity = None,
    acknowledged: bool | None = None,
    domain_name: str | None = None,
    tenant_name: str | None = None,
    search: Annotated[str | None, Query(max_length=256)] = None,
    read: Reader = reads("drift:read"),
) -> JsonResponse:
    """Filtered, sorted rows memoised per (filters, sort) on the DriftEvent version; the page is a slice."""
    store = read.store
    # one keyword per query filter (the same shape as other filtered lists, different filters)
    where = views.EventFilter(
        resource_type=resource_type,
        severity=severity,
        acknowledged=acknowledged,
        domain_name=domain_name,
        tenant_name=tenant_name,
        search=search,
    )
    key = ("drift-events-view", sort_by, sort_dir, *where.model_dump().values())
    version = store.version("DriftEvent")
    rows = memo(store).get(key, version, lambda: views.filter_events(event_rows(store), where, sort_by, sort_dir))
    start = (page - 1) * page_size

    def render() -> bytes:
        return dumps(
            {"total": len(rows), "page": page, "page_size": page_size, "events": rows[start : start + page_size]}
        )

    # the rendered page itself is memoised too: a dashboard polling page 1 costs a dict lookup
    return fast_json(memo(store).get((*key, page, page_size), version, render))


@router.get(
    "/drift/events/{event_id}",
    response_class=JsonResponse,
    responses={200: {"model": views.DriftEventDetail, "description": "The event with its rule's metadata"}},
    summary="One drift event",
)
async def get_event(event_id: PathId, read: Reader = reads("drift:read")) -> JsonResponse:
    """One DriftEvent (``event_id`` = its name) with rule metadata."""
    store = read.store
    event = store.get("DriftEvent", event_id)
    if event is None:
        raise _not_found("Drift event", event_id)
    rule = store.get("DriftRule", views.event_spec(event).rule_ref)
    versions = (event["metadata"].get("resourceVersion"), rule and rule["metadata"].get("resourceVersion"))
    if versions[0] is None:  # objects without a resourceVersion (never from the apiserver) are not memoised
        return fast_json(views.event_detail(event, rule))
    return rendered(store, ("drift-event", event_id), versions, lambda: views.event_detail(event, rule))


class AckBody(BaseModel):
    """Optional note recorded with the acknowledgement."""

    note: str | None = Field(None, max_length=2048)


@router.put("/drift/events/bulk-acknowledge", response_model=views.BulkAckResult, summary="Acknowledge many events")
def bulk_acknowledge(
    event_ids: Annotated[list[str | int], Body(embed=True, min_length=1, max_length=1000)],
    act: Write = writes("drift:write"),
) -> dict[str, Any]:
    """Acknowledge each listed DriftEvent not yet acknowledged; unknown ids are returned in ``not_found``."""
    at = now_iso()
    count, missing = 0, []
    for raw in dict.fromkeys(str(i) for i in event_ids):
        event = act.store.get("DriftEvent", raw)
        if event is None:
            missing.append(raw)
            continue
        acknowledgement = views.event_spec(event).acknowledgement
        if acknowledgement is None or not acknowledgement.acknowledged:
            act.writer.patch("DriftEvent", raw, views.acknowledgement_patch(act.user.username, at))
        count += 1
    act.audit("drift.acknowledge", f"DriftEvent/{count} events", count=count, not_found=len(missing))
    return {
        "acknowledged_count": count,
        "acknowledged_by": act.user.username,
        "acknowledged_at": at,
        "not_found": missing,
    }


@router.put("/drift/events/{event_id}/acknowledge", response_model=views.AckResult, summary="Acknowledge an event")
def acknowledge(event_id: PathId, body: AckBody | None = None, act: Write = writes("drift:write")) -> dict[str, Any]:
    """Set the DriftEvent's spec.acknowledgement to the caller and now (as the caller)."""
    if act.store.get("DriftEvent", event_id) is None:
        raise _not_found("Drift event", event_id)
    at, user = now_iso(), act.user.username
    act.writer.patch("DriftEvent", event_id, views.acknowledgement_patch(user, at, body.note if body else None))
    act.audit("drift.acknowledge", f"DriftEvent/{event_id}")
    return {"id": event_id, "acknowledged": True, "acknowledged_by": user, "acknowledged_at": at}


@router.get("/drift/rules", response_model=views.DriftRuleList, summary="Drift rules")
def list_rules(store: StoreDep, user: Principal = require("drift:read")) -> dict[str, Any]:
    """Every DriftRule with its enabled state."""
    rules = memo(store).get(
        "drift-rules", store.version("DriftRule"), lambda: [views.rule_row(r) for r in store.list("DriftRule")]
    )
    return {"rules": rules, "total": len(rules)}


@router.get("/drift/rules/{rule_id}", response_model=views.DriftRuleRow, summary="One drift rule")
def get_rule(rule_id: PathId, store: StoreDep, user: Principal = require("drift:read")) -> dict[str, Any]:
    """One DriftRule (``rule_id`` = its name)."""
    rule = store.get("DriftRule", rule_id)
    if rule is None:
        raise _not_found("Drift rule", rule_id)
    return views.rule_row(rule)


class RuleUpdate(BaseModel):
    """PUT /drift/rules/{rule_id}."""

    enabled: bool


@router.put("/drift/rules/{rule_id}", response_model=views.DriftRuleUpdated, summary="Enable or disable a rule")
def update_rule(
    request: Request,
    rule_id: PathId,
    body: RuleUpdate,
    store: StoreDep,
    writer: WriterDep,
    user: Principal = require("drift:write"),
) -> dict[str, Any]:
    """Patch the DriftRule's spec.enabled (as the caller)."""
    if store.get("DriftRule", rule_id) is None:
        raise _not_found("Drift rule", rule_id)
    writer.patch("DriftRule", rule_id, views.enabled_patch(body.enabled))
    audit(request, user, "drift.rule.update", f"DriftRule/{rule_id}", enabled=body.enabled)
    return {
        "id": rule_id,
        "rule_name": rule_id,
        "enabled": body.enabled,
        "updated_by": user.username,
        "updated_at": now_iso(),
    }
