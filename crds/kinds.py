"""The registry of daytwo kinds: one place the generator, the operator and the facade iterate."""

from __future__ import annotations

from . import (
    aggregatemigration,
    alertrule,
    cloudcredential,
    cloudresource,
    drift,
    proxmoxnode,
    restorejob,
    snapshotpolicy,
)
from .base import KindDefinition

__all__ = ["KINDS", "by_kind"]

KINDS: tuple[KindDefinition, ...] = (
    snapshotpolicy.DEFINITION,
    restorejob.DEFINITION,
    drift.RULE_DEFINITION,
    drift.EVENT_DEFINITION,
    aggregatemigration.DEFINITION,
    proxmoxnode.DEFINITION,
    cloudcredential.DEFINITION,
    cloudresource.DEFINITION,
    alertrule.DEFINITION,
)


def by_kind(kind: str) -> KindDefinition:
    """Look a kind up by its Kind name (``SnapshotPolicy``); KeyError if daytwo has no such kind."""
    for definition in KINDS:
        if definition.info.kind == kind:
            return definition
    raise KeyError(kind)
