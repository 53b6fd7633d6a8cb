"""The status of a daytwo object as its ``crds`` model, parsed once at the view boundary.

Views read ``status`` through these models instead of restating field names and defaults as dict reads;
the CRD schema the apiserver enforces is the same model, so an object the operator wrote always parses.
``conditions=False`` leaves the conditions out of the parse, for views that read them loosely with
:func:`raw_condition` (objects made before the operator's first pass, by hand or by tests, may carry
conditions without ``lastTransitionTime``, which the model requires).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daytwo.crds.aggregatemigration import AggregateMigrationStatus
from daytwo.crds.base import Condition
from daytwo.crds.cloudcredential import CloudCredentialStatus
from daytwo.crds.proxmoxnode import ProxmoxNodeStatus
from daytwo.crds.restorejob import RestoreJobStatus

__all__ = [
    "condition_of",
    "credential_status",
    "migration_status",
    "node_status",
    "raw_condition",
    "restore_status",
]


def _status(obj: Mapping[str, Any], conditions: bool) -> Mapping[str, Any]:
    status: Mapping[str, Any] = obj.get("status") or {}
    return status if conditions else {key: value for key, value in status.items() if key != "conditions"}


def node_status(obj: Mapping[str, Any], *, conditions: bool = True) -> ProxmoxNodeStatus:
    """A ProxmoxNode's status as its model (empty before the operator's first pass)."""
    return ProxmoxNodeStatus.model_validate(_status(obj, conditions))


def credential_status(obj: Mapping[str, Any], *, conditions: bool = True) -> CloudCredentialStatus:
    """A CloudCredential's status as its model (empty before the operator's first pass)."""
    return CloudCredentialStatus.model_validate(_status(obj, conditions))


def restore_status(obj: Mapping[str, Any], *, conditions: bool = True) -> RestoreJobStatus:
    """A RestoreJob's status as its model (empty before the operator's first pass)."""
    return RestoreJobStatus.model_validate(_status(obj, conditions))


def migration_status(obj: Mapping[str, Any], *, conditions: bool = True) -> AggregateMigrationStatus:
    """An AggregateMigration's status as its model (empty before the operator's first pass)."""
    return AggregateMigrationStatus.model_validate(_status(obj, conditions))


def raw_condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    """The condition ``type_`` of ``obj`` as written (see the module docstring), if any."""
    conditions = (obj.get("status") or {}).get("conditions") or ()
    return next((c for c in conditions if c.get("type") == type_), None)


def condition_of(conditions: list[Condition], type_: str) -> Condition | None:
    """The condition ``type_`` among ``conditions``, if any."""
    return next((condition for condition in conditions if condition.type == type_), None)
