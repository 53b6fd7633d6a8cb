"""The normalised values every public-cloud backend (aws, azure, gcp, and OpenStack as an account) returns.

Every provider turns its answers into the same frozen values, so the CloudCredential reconciler and the
multicloud facade never see SDK types:

    identity = backend.validate()                       # CloudIdentity
    inventory = backend.inventory([InventoryKind.VMS])  # Inventory of InventoryRecord
    inventory.counts()                                  # {"vms": 12, "storage": 0, "networks": 0}
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ..errors import InvalidRequest

__all__ = [
    "ALL_KINDS",
    "CloudIdentity",
    "Inventory",
    "InventoryKind",
    "InventoryRecord",
    "inventory_record",
    "parse_kinds",
    "record_time",
]

log = logging.getLogger(__name__)


class InventoryKind(StrEnum):
    """The inventory categories a CloudCredential syncs (same values as the CRD's spec.inventory.kinds)."""

    VMS = "vms"
    STORAGE = "storage"
    NETWORKS = "networks"

    @property
    def resource_type(self) -> str:
        """The multicloud API's resource_type of records of this kind: vm, storage or network."""
        return {"vms": "vm", "storage": "storage", "networks": "network"}[self.value]


ALL_KINDS: tuple[InventoryKind, ...] = (InventoryKind.VMS, InventoryKind.STORAGE, InventoryKind.NETWORKS)


def parse_kinds(kinds: Iterable[str] | None) -> tuple[InventoryKind, ...]:
    """The kinds asked for, deduplicated in canonical order; None means all three."""
    if kinds is None:
        return ALL_KINDS
    wanted: set[InventoryKind] = set()
    for kind in kinds:
        try:
            wanted.add(InventoryKind(str(kind)))
        except ValueError:
            raise InvalidRequest(f"inventory kind {kind!r} is not one of vms, storage, networks") from None
    return tuple(k for k in ALL_KINDS if k in wanted)


@dataclass(frozen=True, slots=True)
class CloudIdentity:
    """Who a credential authenticates as (the CRD's status.identity plus status.expiresAt).

    aws: account = account id, principal = user/assumed-role ARN; azure: tenant, principal = client id,
    account = subscription id; gcp: project, principal = service account email.
    """

    provider: str
    principal: str
    account: str | None = None
    tenant: str | None = None
    project: str | None = None
    expires_at: datetime | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InventoryRecord:
    """One VM, disk/volume or network, in the multicloud API's shape (resource_type vm/storage/network)."""

    resource_id: str
    name: str
    type: str
    provider: str
    region: str
    status: str
    metadata: Mapping[str, str]
    last_synced: datetime
    created_at: datetime | None = None


def inventory_record(
    provider: str,
    kind: str,
    resource_id: str,
    name: str,
    region: str,
    status: str,
    metadata: Mapping[str, str],
    synced: datetime,
    created_at: datetime | None = None,
) -> InventoryRecord:
    """One :class:`InventoryRecord`: what each cloud's record builders end with, once they have read the item."""
    # Duplicate scan: a keyword-per-field constructor call, shaped like other such calls (reconcile.cloudcredential).
    return InventoryRecord(
        resource_id=resource_id,
        name=name,
        type=kind,
        provider=provider,
        region=region,
        status=status,
        metadata=metadata,
        last_synced=synced,
        created_at=created_at,
    )


@dataclass(frozen=True, slots=True)
class Inventory:
    """The records of one sync, all stamped with the same ``synced_at``."""

    provider: str
    kinds: tuple[InventoryKind, ...]
    records: tuple[InventoryRecord, ...]
    synced_at: datetime
    api_calls: int = 0

    def counts(self) -> dict[str, int]:
        """Records per requested kind (the CRD's status.inventory.counts); 0 for a kind with none."""
        by_type = Counter(r.type for r in self.records)
        return {k.value: by_type.get(k.resource_type, 0) for k in self.kinds}

    def of_kind(self, kind: InventoryKind) -> list[InventoryRecord]:
        """The records of one kind, in the order the cloud listed them."""
        return [r for r in self.records if r.type == kind.resource_type]


def record_time(value: Any, where: str) -> datetime | None:
    """A cloud's timestamp (a datetime, or ISO 8601 text with ``Z`` and up to 7 fractional digits) in UTC;
    None when absent. Text that is not a time is logged with ``where`` (provider and object) and gives None,
    so one odd field does not fail a whole inventory."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # ARM writes 7 fractional digits; Python takes at most 6
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        log.warning("%s: timestamp %r is not ISO 8601; recorded without it", where, value[:40])
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
