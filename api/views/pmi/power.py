"""Power requests as ProxmoxNode ``spec.actions`` entries (pure; shared by the pmi and horcrux routes).

An action runs once per id (the operator records it in ``status.handledActions``). The list is
bounded (50): appending drops actions the operator already handled, oldest first, and refuses when
50 are still pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from daytwo.api.views.statuses import node_status
from daytwo.crds.base import MAX_STATUS_LIST
from daytwo.crds.proxmoxnode import PowerAction, PowerOperation

from .nodes import node_spec

__all__ = ["TooManyPending", "action_id", "append_action", "pending_for", "power_action"]


class TooManyPending(ValueError):
    """spec.actions already holds the maximum of unhandled actions."""


def action_id(prefix: str) -> str:
    """A new action id: ``<prefix>-<12 hex>`` (valid for spec.actions[].id)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def power_action(id_: str, vmid: int, operation: str, force: bool, user: str) -> PowerAction:
    """One spec.actions entry (validated by the apiserver with the model's rules when it is written)."""
    return PowerAction.model_construct(
        id=id_, vmid=vmid, operation=PowerOperation(operation), force=force, requested_by=user[:256]
    )


def append_action(obj: Mapping[str, Any], action: PowerAction) -> list[dict[str, Any]]:
    """The new spec.actions of ``obj`` with ``action`` appended (handled ones dropped to make room)."""
    actions = list(node_spec(obj).actions or [])
    handled = set(node_status(obj).handled_actions or [])
    while len(actions) >= MAX_STATUS_LIST:
        index = next((i for i, a in enumerate(actions) if a.id in handled), None)
        if index is None:
            raise TooManyPending(f"{len(actions)} power operations are still pending on this node; try again later")
        actions.pop(index)
    return [a.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json") for a in [*actions, action]]


def pending_for(obj: Mapping[str, Any], vmid: int) -> list[str]:
    """Ids of operations on ``vmid`` requested or running and not finished yet."""
    status = node_status(obj)
    handled = set(status.handled_actions or [])
    done = {r.id for r in status.history or []}
    waiting = [
        a.id for a in node_spec(obj).actions or [] if a.vmid == vmid and a.id not in handled and a.id not in done
    ]
    running = [e.id for e in status.in_flight or [] if e.vmid == vmid]
    return sorted(set(waiting) | set(running))
