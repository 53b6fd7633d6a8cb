"""pmi /api/proxmox/nodes*: a node is a ProxmoxNode plus a Secret holding its API token (write-only).

Tests of a connection ask the operator (annotation ``daytwo.io/reconcile-requested-at``) and read
the ProxmoxNode's Connected condition; the facade itself never calls Proxmox.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.deps import Principal, StoreDep, WriterDep, require
from daytwo.api.errors import ApiError
from daytwo.api.views.pmi import nodes as views
from fastapi import APIRouter, Body, Query, Response

from ._shared import KIND, Envelope, Message, node_or_404, ok, wait_for
from .schemas import Connected, NodeCreate, NodeId, NodeUpdate, NodeView

__all__ = ["router"]

router = APIRouter(prefix="/api/proxmox", tags=["nodes"])

RECONCILE = "daytwo.io/reconcile-requested-at"
#: How long a node test waits for the operator before answering 202.
TEST_WAIT_SECONDS = 5.0
#: How long test-connection waits for a throw-away ProxmoxNode's first contact.
PROBE_WAIT_SECONDS = 8.0
PROBE_LABEL = "daytwo.io/pmi-connection-test"


def _token() -> str:
    return f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}-{uuid.uuid4().hex[:6]}"


def _connection_answer(obj: dict[str, Any]) -> dict[str, Any]:
    """The operator's verdict: ``connected`` true with the version, or false with the reason (both 200:
    the test itself worked; the answer is about the node)."""
    connected, message = views.connection(obj)
    if connected:
        version = (obj.get("status") or {}).get("version")
        return ok({"connected": True, "version": version}, f"Connected to Proxmox VE {version}")
    reason = str((views.condition(obj, "Connected") or {}).get("reason") or "")
    return ok({"connected": False, "reason": reason}, f"Connection failed ({reason}): {message}")


@router.get("/nodes", response_model=Envelope[list[NodeView]], summary="All configured nodes with their status")
def list_nodes(store: StoreDep, user: Principal = require("nodes:read")) -> dict[str, Any]:
    """Every ProxmoxNode (except throw-away connection tests) as a pmi node."""
    now = datetime.now(UTC)
    objects = [o for o in store.list(KIND) if PROBE_LABEL not in (o["metadata"].get("labels") or {})]
    return ok([views.node_view(o, now) for o in objects])


@router.get("/nodes/{node_id}", response_model=Envelope[NodeView], summary="One node")
def get_node(node_id: str, store: StoreDep, user: Principal = require("nodes:read")) -> dict[str, Any]:
    """One ProxmoxNode as a pmi node."""
    return ok(views.node_view(node_or_404(store, node_id), datetime.now(UTC)))


@router.post("/nodes", response_model=Envelope[NodeId], status_code=201, summary="Add a node (Secret + ProxmoxNode)")
def add_node(
    body: NodeCreate, store: StoreDep, writer: WriterDep, user: Principal = require("credentials:write")
) -> dict[str, Any]:
    """Create the token Secret, then the ProxmoxNode; the Secret is removed again if the node is refused."""
    taken = {o["metadata"]["name"] for o in store.list(KIND)}
    node_id = views.node_id_for(body.name, taken, uuid.uuid4().hex[:5])
    secret = views.token_secret_name(node_id)
    labels = {"daytwo.io/proxmox-node": node_id}
    writer.create_secret(
        secret,
        {"tokenId": body.api_token_id, "tokenSecret": body.api_token_secret},
        {**labels, "app.kubernetes.io/part-of": "daytwo"},
    )
    try:
        writer.create(
            KIND, views.proxmoxnode_body(node_id, body.name, body.host, body.port, body.ssl_verify, body.timeout, {})
        )
    except ApiError:
        with contextlib.suppress(ApiError):
            writer.delete_secret(secret)
        raise
    return ok({"node_id": node_id}, f"Node '{body.name}' added successfully")


@router.put("/nodes/{node_id}", response_model=Message, summary="Update a node (partial)")
def update_node(
    node_id: str, body: NodeUpdate, store: StoreDep, writer: WriterDep, user: Principal = require("credentials:write")
) -> dict[str, Any]:
    """Patch the ProxmoxNode with the fields given; a new token id/secret goes into its Secret."""
    obj = node_or_404(store, node_id)
    fields = body.model_dump(exclude_none=True)
    token = {k: v for k, v in (("tokenId", body.api_token_id), ("tokenSecret", body.api_token_secret)) if v}
    if token:
        ref = obj["spec"]["tokenSecretRef"]
        keys = {"tokenId": ref.get("tokenIdKey", "tokenId"), "tokenSecret": ref.get("tokenSecretKey", "tokenSecret")}
        writer.patch_secret(ref["name"], {keys[k]: v for k, v in token.items()})
    patch = views.node_patch(fields)
    if patch:
        writer.patch(KIND, node_id, patch)
    return ok(message=f"Node '{body.name or views.node_name(obj)}' updated successfully")


@router.delete(
    "/nodes/{node_id}", response_model=Message, summary="Remove a node (and the token Secret the facade created)"
)
def delete_node(
    node_id: str, store: StoreDep, writer: WriterDep, user: Principal = require("credentials:write")
) -> dict[str, Any]:
    """Delete the ProxmoxNode, then its token Secret when it is the one "add node" created."""
    obj = node_or_404(store, node_id)
    writer.delete(KIND, node_id)
    if obj["spec"]["tokenSecretRef"]["name"] == views.token_secret_name(node_id):
        try:
            writer.delete_secret(views.token_secret_name(node_id))
        except ApiError as error:
            if error.status_code != 404:
                raise
    return ok(message=f"Node '{views.node_name(obj)}' deleted successfully")


@router.post(
    "/nodes/{node_id}/test",
    response_model=Envelope[Connected],
    responses={202: {"model": Envelope[Connected], "description": "Requested; the operator has not answered yet"}},
    summary="Test the connection of a node",
)
def test_node(
    node_id: str,
    response: Response,
    store: StoreDep,
    writer: WriterDep,
    wait: Annotated[
        float, Query(ge=0, le=9, description="daytwo: seconds to wait for the operator")
    ] = TEST_WAIT_SECONDS,
    user: Principal = require("nodes:write"),
) -> dict[str, Any]:
    """Ask the operator to contact the node now and wait briefly for its answer (else 202, job id = node)."""
    node_or_404(store, node_id)
    token = _token()
    writer.annotate(KIND, node_id, {RECONCILE: token})
    obj = wait_for(store, node_id, lambda o: (o.get("status") or {}).get("lastHandledReconcileAt") == token, wait)
    if obj is None:
        response.status_code = 202
        return ok(
            {"connected": None, "job_id": node_id}, f"Connection test requested; poll GET /api/proxmox/nodes/{node_id}"
        )
    return _connection_answer(obj)


@router.post("/test-connection", response_model=Envelope[Connected], summary="Test a configuration without saving it")
def test_connection(
    store: StoreDep,
    writer: WriterDep,
    body: Annotated[NodeCreate, Body()],
    wait: Annotated[
        float, Query(ge=0, le=9, description="daytwo: seconds to wait for the operator")
    ] = PROBE_WAIT_SECONDS,
    user: Principal = require("credentials:write"),
) -> dict[str, Any]:
    """Create a throw-away Secret + ProxmoxNode, wait for the operator's first contact, delete both."""
    probe = f"pmi-test-{uuid.uuid4().hex[:10]}"
    labels = {PROBE_LABEL: "true"}
    writer.create_secret(
        views.token_secret_name(probe), {"tokenId": body.api_token_id, "tokenSecret": body.api_token_secret}, labels
    )
    try:
        writer.create(
            KIND,
            views.proxmoxnode_body(
                probe, body.name, body.host, body.port, body.ssl_verify, min(body.timeout, 15), labels
            ),
        )
        obj = wait_for(store, probe, lambda o: views.condition(o, "Connected") is not None, wait)
    finally:
        with contextlib.suppress(ApiError):
            writer.delete(KIND, probe)
        with contextlib.suppress(ApiError):
            writer.delete_secret(views.token_secret_name(probe))
    if obj is None:
        raise ApiError(408, f"No answer from {body.host}:{body.port} within {wait:.0f}s", "TIMEOUT_ERROR")
    return _connection_answer(obj)
