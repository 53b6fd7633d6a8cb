"""pmi resources (VMs and containers of a node), their metrics, power control and the operation history.

Power requests are ProxmoxNode ``spec.actions`` entries; the answer is 202 with the action id as the
operation id, and ``/history`` shows it in progress, then finished. The history is the ProxmoxNode's
``status.history`` (the newest 50 finished operations per node) plus its running operations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from daytwo.api.cached import JsonResponse, dumps, memo
from daytwo.api.deps import Principal, StoreDep, Write, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.views.pmi import history as history_views
from daytwo.api.views.pmi import nodes as views
from daytwo.api.views.pmi.guests import Guest, NodeGuests
from fastapi import APIRouter, Body, Depends, Query

from ._shared import KIND, Envelope, inventories, node_guests, node_or_404, now, ok, request_power
from .schemas import History, OperationAccepted, PowerBody, Resource, Resources

__all__ = ["router"]

router = APIRouter(prefix="/api/proxmox", tags=["resources"])

#: pmi operation -> ProxmoxNode operation (stop without force is a graceful shutdown).
OPERATIONS = {("start", False): "start", ("start", True): "start", ("stop", False): "shutdown", ("stop", True): "stop"}
OPERATIONS |= {("restart", False): "reboot", ("restart", True): "reboot"}


Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]
ResourceType = Annotated[str | None, Query(pattern="^(vm|lxc|node)$", description="vm, lxc or node")]
OperationType = Annotated[str | None, Query(pattern="^(start|stop|restart)$", description="start, stop or restart")]
Status = Annotated[
    str | None, Query(pattern="^(success|failed|in_progress)$", description="success, failed or in_progress")
]


def _by_vmid(store: StoreDep, node: NodeGuests) -> dict[int, Guest]:
    return memo(store).get(("pmi-guest-index", node.cr), node, lambda: {g.vmid: g for g in node.guests})


def _guest(store: StoreDep, obj: dict[str, Any], vmid: int) -> Guest | None:
    return _by_vmid(store, node_guests(store, obj)).get(vmid)


@router.get("/nodes/{node_id}/resources", response_model=Envelope[Resources], summary="VMs and containers of a node")
def resources(node_id: str, store: StoreDep, user: Principal = require("nodes:read")) -> JsonResponse:
    """Every guest of the node with usage, from its guest inventory ConfigMaps (rendered once per inventory
    change); until the operator has written them, the bounded status list (usage null, ``truncated``)."""
    node = node_guests(store, node_or_404(store, node_id))
    data = memo(store).get(("pmi-resources", node.cr), node, lambda: dumps(views.resources_view(node)))
    return JsonResponse(b'{"success":true,"data":' + data + b',"timestamp":' + dumps(now()) + b"}")


@router.get(
    "/nodes/{node_id}/resources/{vmid}/metrics", response_model=Envelope[Resource], summary="One VM or container"
)
def resource_metrics(
    node_id: str, vmid: int, store: StoreDep, user: Principal = require("nodes:read")
) -> dict[str, Any]:
    """One guest of the node's inventory, with its usage (null until the operator wrote the inventory)."""
    guest = _guest(store, node_or_404(store, node_id), vmid)
    if guest is None:
        raise ApiError(404, f"Resource {vmid} not found on node '{node_id}'", "RESOURCE_NOT_FOUND")
    return ok(views.resource_view(guest))


def _power(act: Write, node_id: str, vmid: int, verb: str, force: bool) -> dict[str, Any]:
    store = act.store
    obj = node_or_404(store, node_id)
    if _guest(store, obj, vmid) is None and node_guests(store, obj).complete:
        raise ApiError(404, f"Resource {vmid} not found on node '{node_id}'", "RESOURCE_NOT_FOUND")
    operation = OPERATIONS[(verb, force)]
    op_id = request_power(
        store, act.writer, node_id, vmid, operation, force and operation != "stop", act.user.username, "pmi"
    )
    past = {"start": "start", "stop": "stop", "restart": "restart"}[verb]
    return ok(
        {"operation_id": op_id, "status": "in_progress", "node_id": node_id},
        f"Requested {past} of resource {vmid}; follow it with GET /api/proxmox/history",
    )


@router.post(
    "/nodes/{node_id}/resources/{vmid}/start",
    response_model=Envelope[OperationAccepted],
    status_code=202,
    summary="Start a VM or container",
)
def start(node_id: str, vmid: int, act: Write = writes("nodes:write")) -> dict[str, Any]:
    """Request a start (ProxmoxNode spec.actions); 202 with the operation id."""
    return _power(act, node_id, vmid, "start", False)


def _forceable_power_route(verb: str, summary: str, doc: str) -> None:
    """Register POST .../{verb}: one optional ``force`` body, 202 with the operation id (stop and restart)."""

    def route(
        node_id: str, vmid: int, body: Annotated[PowerBody | None, Body()] = None, act: Write = writes("nodes:write")
    ) -> dict[str, Any]:
        return _power(act, node_id, vmid, verb, bool(body and body.force))

    route.__name__, route.__qualname__, route.__doc__ = verb, verb, doc
    router.post(
        f"/nodes/{{node_id}}/resources/{{vmid}}/{verb}",
        response_model=Envelope[OperationAccepted],
        status_code=202,
        summary=summary,
    )(route)


_forceable_power_route(
    "stop",
    "Stop a VM or container (force: power off)",
    "Request a graceful shutdown, or a hard stop with ``force``; 202 with the operation id.",
)
_forceable_power_route("restart", "Restart a VM or container", "Request a reboot; 202 with the operation id.")


def _names(store: StoreDep) -> dict[str, dict[int, str]]:
    nodes = inventories(store)
    return memo(store).get("pmi-guest-names", nodes, lambda: {n.cr: {g.vmid: g.name for g in n.guests} for n in nodes})


@dataclass(frozen=True)
class HistoryFilters:
    """The query parameters of both history routes."""

    node: str | None = None
    resource_type: ResourceType = None
    operation_type: OperationType = None
    status: Status = None
    limit: Limit = 100
    offset: Offset = 0


Filters = Annotated[HistoryFilters, Depends()]


def _history(store: StoreDep, objects: list[dict[str, Any]], filters: HistoryFilters) -> dict[str, Any]:
    rows = history_views.operations(objects, _names(store))
    return ok(history_views.history_page(rows, **asdict(filters)))


@router.get("/history", response_model=Envelope[History], summary="Operation history with filters")
def history(store: StoreDep, filters: Filters, user: Principal = require("history:read")) -> dict[str, Any]:
    """Operations of every node (newest 50 finished per node, plus the running ones)."""
    return _history(store, store.list(KIND), filters)


@router.get("/nodes/{node_id}/history", response_model=Envelope[History], summary="Operation history of one node")
def node_history(
    node_id: str, store: StoreDep, filters: Filters, user: Principal = require("history:read")
) -> dict[str, Any]:
    """Operations of one node."""
    return _history(store, [node_or_404(store, node_id)], filters)
