"""pmi /api/proxmox/nodes*: a node is a ProxmoxNode plus a Secret holding its API token (write-only).

Tests of a connection ask the operator (annotation ``daytwo.io/reconcile-requested-at``) and read
the ProxmoxNode's Connected condition; the facade itself never calls Proxmox. Their waits run on the
event loop (async routes polling the watch-backed cache), at most ``pmi_waits_per_user`` per user at
once: past that a node test answers 202 at once (poll the node) and test-connection answers 429.

Token Secrets carry the operator's opt-in label and the facade's mark; the facade rewrites and deletes
only those it made for that node (a kubectl-made ``<node>-token`` is left alone). Moving a node (host,
port, ssl_verify) needs ``api_token_secret`` in the same request (422, nothing changed); the node is
patched first, then its Secret rewritten, so the operator sees the new endpoint with a Secret written
after it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.deps import Principal, SettingsDep, StoreDep, WriterDep, require
from daytwo.api.errors import ApiError, undo
from daytwo.api.kubewrite import Writer, owned_secret, preconditions_of
from daytwo.api.routers.secrets import owned_or_conflict
from daytwo.api.views.pmi import nodes as views
from daytwo.api.views.statuses import node_status
from daytwo.crds.proxmoxnode import ProxmoxNodeSpec
from daytwo.operator.shared.times import format_time
from fastapi import APIRouter, Body, Query, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from ._shared import KIND, Envelope, Message, node_or_404, ok, wait_for, wait_slot
from .schemas import Connected, NodeCreate, NodeId, NodeUpdate, NodeView

__all__ = ["router"]

log = logging.getLogger("daytwo.api.pmi")
router = APIRouter(prefix="/api/proxmox", tags=["nodes"])

RECONCILE = "daytwo.io/reconcile-requested-at"
#: How long a node test waits for the operator before answering 202.
TEST_WAIT_SECONDS = 5.0
#: How long test-connection waits for a throw-away ProxmoxNode's first contact.
PROBE_WAIT_SECONDS = 8.0
PROBE_LABEL = "daytwo.io/pmi-connection-test"


def _token() -> str:
    return f"{format_time(datetime.now(UTC))}-{uuid.uuid4().hex[:6]}"


def _connection_answer(obj: dict[str, Any]) -> dict[str, Any]:
    """The operator's verdict: ``connected`` true with the version, or false with the reason (both 200:
    the test itself worked; the answer is about the node)."""
    status = node_status(obj)
    connected, message = views.connection(status)
    if connected:
        version = status.version
        return ok({"connected": True, "version": version}, f"Connected to Proxmox VE {version}")
    entry = views.condition(status, "Connected")
    reason = entry.reason if entry else ""
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
    writer.create_secret(
        secret, {"tokenId": body.api_token_id, "tokenSecret": body.api_token_secret}, views.token_secret_labels(node_id)
    )
    try:
        writer.create(
            KIND, views.proxmoxnode_body(node_id, body.name, body.host, body.port, body.ssl_verify, body.timeout, {})
        )
    except ApiError:
        undo(lambda: writer.delete_secret(secret), f"delete Secret {secret} of node {node_id}")
        raise
    return ok({"node_id": node_id}, f"Node '{body.name}' added successfully")


@router.put("/nodes/{node_id}", response_model=Message, summary="Update a node (partial)")
def update_node(
    node_id: str, body: NodeUpdate, store: StoreDep, writer: WriterDep, user: Principal = require("credentials:write")
) -> dict[str, Any]:
    """Patch the ProxmoxNode with the fields given; a new token id/secret goes into its Secret.

    Moving the node (host, port, ssl_verify) needs ``api_token_secret`` too (422 naming it, nothing changed);
    a token goes only into a Secret this API made for the node (409 otherwise).
    """
    obj = node_or_404(store, node_id)
    spec = views.node_spec(obj)
    fields = body.model_dump(exclude_none=True)
    changed = views.endpoint_changes(spec, fields)
    if changed and not body.api_token_secret:
        raise RequestValidationError(
            [
                {
                    "type": "missing",
                    "loc": ("body", "api_token_secret"),
                    "msg": f"Changing {', '.join(changed)} sends the node's token somewhere new: send "
                    "api_token_secret again in the same request (nothing was changed)",
                }
            ]
        )
    token = {k: v for k, v in (("tokenId", body.api_token_id), ("tokenSecret", body.api_token_secret)) if v}
    ref = spec.token_secret_ref
    secret = _owned_token(writer, ref.name, node_id) if token else None
    patch = views.node_patch(fields)
    if patch:
        writer.patch(KIND, node_id, patch)
    if secret is not None:
        keys = {"tokenId": ref.token_id_key, "tokenSecret": ref.token_secret_key}
        try:
            writer.patch_secret(
                ref.name,
                {keys[k]: v for k, v in token.items()},
                views.token_secret_labels(node_id),
                secret.get("resourceVersion"),
            )
        except ApiError:
            if changed:  # the new endpoint must not stay without the Secret written for it
                _undo(writer, node_id, spec)
            raise
    return ok(message=f"Node '{body.name or views.node_name(obj)}' updated successfully")


def _owned_token(writer: Writer, name: str, node_id: str) -> dict[str, Any]:
    """The metadata of the node's token Secret if this API made it for this node, else 409."""
    fix = "change the token where it was made (kubectl), or add the node through this API"
    return owned_or_conflict(writer, name, views.token_owner(node_id), f"node {node_id!r}", fix)


def _undo(writer: Writer, node_id: str, spec: ProxmoxNodeSpec) -> None:
    """Put host, port and TLS back after the token Secret could not be rewritten (best effort, logged)."""
    endpoint = spec.model_dump(by_alias=True, exclude_none=True, mode="json", include={"host", "port", "tls"})
    try:
        writer.patch(KIND, node_id, {"spec": endpoint})
    except ApiError:
        log.warning("node %s: could not restore its endpoint after its token Secret was not rewritten", node_id)


@router.delete(
    "/nodes/{node_id}", response_model=Message, summary="Remove a node (and the token Secret the facade created)"
)
def delete_node(
    node_id: str, store: StoreDep, writer: WriterDep, user: Principal = require("credentials:write")
) -> dict[str, Any]:
    """Delete the ProxmoxNode, then its token Secret if this API made it for the node (a kubectl-made one stays)."""
    obj = node_or_404(store, node_id)
    writer.delete(KIND, node_id)
    name = views.node_spec(obj).token_secret_ref.name
    found = owned_secret(writer, name, views.token_owner(node_id))
    if found is not None:
        try:
            writer.delete_secret(name, preconditions_of(found))
        except ApiError as error:
            if error.status_code not in (404, 409):  # gone, or replaced since: not ours to delete
                raise
    return ok(message=f"Node '{views.node_name(obj)}' deleted successfully")


@router.post(
    "/nodes/{node_id}/test",
    response_model=Envelope[Connected],
    responses={202: {"model": Envelope[Connected], "description": "Requested; the operator has not answered yet"}},
    summary="Test the connection of a node",
)
async def test_node(
    node_id: str,
    response: Response,
    store: StoreDep,
    writer: WriterDep,
    settings: SettingsDep,
    wait: Annotated[
        float, Query(ge=0, le=9, description="daytwo: seconds to wait for the operator")
    ] = TEST_WAIT_SECONDS,
    user: Principal = require("nodes:write"),
) -> dict[str, Any]:
    """Ask the operator to contact the node now and wait briefly for its answer (else 202, job id = node).

    The wait holds no worker thread; a user already waiting ``pmi_waits_per_user`` times gets 202 at once.
    """
    node_or_404(store, node_id)
    token = _token()
    await run_in_threadpool(writer.annotate, KIND, node_id, {RECONCILE: token})
    obj = None
    with wait_slot(user.username, settings.pmi_waits_per_user) as slot:
        if slot:
            obj = await wait_for(store, node_id, lambda o: node_status(o).last_handled_reconcile_at == token, wait)
    if obj is None:
        response.status_code = 202
        return ok(
            {"connected": None, "job_id": node_id}, f"Connection test requested; poll GET /api/proxmox/nodes/{node_id}"
        )
    return _connection_answer(obj)


@router.post(
    "/test-connection",
    response_model=Envelope[Connected],
    responses={429: {"description": "The caller already has pmi_waits_per_user tests waiting"}},
    summary="Test a configuration without saving it",
)
async def test_connection(
    store: StoreDep,
    writer: WriterDep,
    settings: SettingsDep,
    body: Annotated[NodeCreate, Body()],
    wait: Annotated[
        float, Query(ge=0, le=9, description="daytwo: seconds to wait for the operator")
    ] = PROBE_WAIT_SECONDS,
    user: Principal = require("credentials:write"),
) -> dict[str, Any]:
    """Create a throw-away Secret + ProxmoxNode, wait for the operator's first contact, delete both.

    The wait holds no worker thread; a user already waiting ``pmi_waits_per_user`` times gets 429.
    """
    with wait_slot(user.username, settings.pmi_waits_per_user) as slot:
        if not slot:
            raise ApiError(
                429,
                f"{settings.pmi_waits_per_user} connection tests of yours are already waiting; try again when one "
                "has answered",
                "RATE_LIMITED",
            )
        probe = f"pmi-test-{uuid.uuid4().hex[:10]}"
        labels = {PROBE_LABEL: "true"}
        secret = views.token_secret_name(probe)
        data = {"tokenId": body.api_token_id, "tokenSecret": body.api_token_secret}
        await run_in_threadpool(writer.create_secret, secret, data, views.token_secret_labels(probe, labels))
        try:
            manifest = views.proxmoxnode_body(
                probe, body.name, body.host, body.port, body.ssl_verify, min(body.timeout, 15), labels
            )
            await run_in_threadpool(writer.create, KIND, manifest)
            obj = await wait_for(store, probe, lambda o: views.condition(o, "Connected") is not None, wait)
        finally:
            await run_in_threadpool(undo, lambda: writer.delete(KIND, probe), f"delete probe ProxmoxNode {probe}")
            await run_in_threadpool(undo, lambda: writer.delete_secret(secret), f"delete probe Secret {secret}")
    if obj is None:
        raise ApiError(408, f"No answer from {body.host}:{body.port} within {wait:.0f}s", "TIMEOUT_ERROR")
    return _connection_answer(obj)
