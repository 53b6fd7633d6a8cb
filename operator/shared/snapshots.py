"""Snapshot naming and schedule reading that the operator and the facade share.

Pure: a SnapshotPolicy object -> its typed spec and status (the ``crds`` models), a spec ->
:class:`PolicyView` (cron, zone, retention, name template), the metadata keys and names daytwo's
snapshots carry (Cinder and Proxmox), and the time formats status fields use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from daytwo.crds.snapshotpolicy import Retention, SnapshotPolicySpec, SnapshotPolicyStatus, named_policy
from pydantic import ValidationError

from .times import format_time, parse_time

__all__ = [
    "GUEST_SNAPSHOT_NAME_MAX",
    "GUEST_SNAPSHOT_NAME_RE",
    "OWNER_KEY",
    "SLOT_KEY",
    "TARGETS_LABEL",
    "PolicyView",
    "format_time",
    "guest_snapshot_name",
    "owner_hash",
    "parse_duration",
    "parse_time",
    "policy_spec",
    "policy_status",
    "policy_view",
    "slot_stamp",
]

#: Snapshot metadata naming the policy that owns a snapshot (``<namespace>/SnapshotPolicy/<name>``).
OWNER_KEY = "daytwo.io/owner"
#: Snapshot metadata naming the schedule slot a snapshot serves (ISO 8601, UTC).
SLOT_KEY = "daytwo.io/scheduled-at"
#: Label naming the policy whose targets a ``<policy>-targets`` ConfigMap lists (operator writes, facade reads).
TARGETS_LABEL = "daytwo.io/snapshot-policy"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class PolicyView:
    """What a run needs from a SnapshotPolicy spec, validated."""

    namespace: str
    name: str
    cron: str
    time_zone: ZoneInfo
    keep_last: int | None
    max_age: timedelta | None
    prefix: str
    metadata: Mapping[str, str]
    force: bool
    sla_days: int
    suspend: bool
    run_on_create: bool
    starting_deadline: timedelta | None
    include_memory: bool = False

    @property
    def owner(self) -> str:
        """The owner value every snapshot of this policy carries."""
        return f"{self.namespace}/SnapshotPolicy/{self.name}"


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``1d12h``, ``2w`` -> timedelta; ValueError when malformed."""
    parts = re.findall(r"([0-9]+)([smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h or 1d12h")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def _invalid(part: str, obj: Mapping[str, Any], error: ValidationError) -> ValueError:
    meta = obj.get("metadata") or {}
    where = "; ".join(f"{part}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5])
    return ValueError(f"SnapshotPolicy {meta.get('namespace')}/{meta.get('name')} does not match its schema: {where}")


def policy_spec(obj: Mapping[str, Any]) -> SnapshotPolicySpec:
    """The typed spec of a SnapshotPolicy object; ValueError naming each invalid field (the CRD validates
    what the apiserver stores, so this means an object from another version of the schema)."""
    try:
        return SnapshotPolicySpec.model_validate(obj.get("spec") or {})
    except ValidationError as error:
        raise _invalid("spec", obj, error) from None


def policy_status(obj: Mapping[str, Any]) -> SnapshotPolicyStatus:
    """The typed status of a SnapshotPolicy object (empty when none yet); ValueError like :func:`policy_spec`."""
    try:
        return SnapshotPolicyStatus.model_validate(obj.get("status") or {})
    except ValidationError as error:
        raise _invalid("status", obj, error) from None


def policy_view(namespace: str, name: str, spec: SnapshotPolicySpec) -> PolicyView:
    """Validate the parts CEL cannot check (cron syntax, time zone); ValueError with a clear message.

    Defaults are the model's (``crds.snapshotpolicy``); with policyName, keepLast defaults to its number.
    """
    retention = spec.retention or Retention()
    keep_last = retention.keep_last
    if spec.policy_name:
        cron, implied = named_policy(spec.policy_name)
        keep_last = keep_last or implied
    else:
        cron = spec.schedule or ""
        if not croniter.is_valid(cron):
            raise ValueError(f"schedule {cron!r} is not a valid cron expression")
    try:
        zone = ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"timeZone {spec.time_zone!r} is not a known IANA time zone") from error
    template = spec.snapshot
    deadline = spec.starting_deadline_seconds
    return PolicyView(
        namespace=namespace,
        name=name,
        cron=cron,
        time_zone=zone,
        keep_last=keep_last,
        max_age=parse_duration(retention.max_age) if retention.max_age else None,
        prefix=template.name_prefix,
        metadata=dict(template.metadata or {}),
        force=template.force,
        sla_days=spec.sla_days,
        suspend=spec.suspend,
        run_on_create=spec.run_on_create,
        starting_deadline=None if deadline is None else timedelta(seconds=deadline),
        include_memory=template.include_memory,
    )


def slot_stamp(slot: datetime) -> str:
    """``YYYYMMDDHHMM`` (UTC) for schedule slots; ``YYYYMMDDHHMMSS`` for on-demand runs, which start at
    the second they were requested."""
    utc = slot.astimezone(UTC)
    return f"{utc:%Y%m%d%H%M}" if utc.second == 0 else f"{utc:%Y%m%d%H%M%S}"


#: Proxmox's limit on snapshot names.
GUEST_SNAPSHOT_NAME_MAX = 40
_PREFIX_MAX = GUEST_SNAPSHOT_NAME_MAX - len("-abcdef-YYYYMMDDHHMMSS")
GUEST_SNAPSHOT_NAME_RE = re.compile(r"^(?P<prefix>.+)-(?P<owner>[0-9a-f]{6})-(?P<slot>[0-9]{12}(?:[0-9]{2})?)$")


def owner_hash(view: PolicyView) -> str:
    """Six hex digits of the policy's owner string: how a Proxmox snapshot name says which policy made it."""
    return hashlib.sha256(view.owner.encode()).hexdigest()[:6]


def _prefix(view: PolicyView) -> str:
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", view.prefix)
    if not prefix[:1].isalpha():
        prefix = f"d2{prefix}"
    return prefix[:_PREFIX_MAX]


def guest_snapshot_name(view: PolicyView, slot: datetime) -> str:
    """``<prefix>-<policy hash>-<slot stamp>``: valid for Proxmox, the same on every retry."""
    return f"{_prefix(view)}-{owner_hash(view)}-{slot_stamp(slot)}"
