"""SnapshotPolicy objects as the facade's views read them, and the bodies the facade writes.

The store holds objects as the apiserver returns them; :func:`parse_policy` turns one into a
:class:`Policy` (the metadata the views use plus the typed spec and status of ``crds.snapshotpolicy``),
so defaults come from the models. The CRD validates what the apiserver stores: an object that does not
parse (another schema version) is a ValueError naming the field. :func:`spec_body` serialises a spec
model for a create or a patch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from daytwo.crds.snapshotpolicy import (
    OpenStackVolumeTargets,
    SnapshotPolicySpec,
    SnapshotPolicyStatus,
    SnapshotRun,
    named_policy,
)
from daytwo.operator.shared.snapshots import format_time, policy_spec, policy_status
from pydantic import ValidationError

__all__ = ["InvalidSpec", "Policy", "new_spec", "parse_policies", "parse_policy", "spec_body", "stamp"]


class InvalidSpec(ValueError):
    """A spec the facade was asked to write does not match the model; the message says what to change."""


@dataclass(frozen=True)
class Policy:
    """One SnapshotPolicy: name, the metadata the views read, typed spec and status."""

    name: str
    namespace: str
    spec: SnapshotPolicySpec
    status: SnapshotPolicyStatus
    uid: str | None = None
    created: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def runs(self) -> list[SnapshotRun]:
        """Current, last, then history runs, each run id once."""
        found: dict[str, SnapshotRun] = {}
        for run in (self.status.current_run, self.status.last_run, *(self.status.history or [])):
            if run is not None and run.id and run.id not in found:
                found[run.id] = run
        return list(found.values())

    @property
    def openstack(self) -> OpenStackVolumeTargets | None:
        """The OpenStack volume selectors, or None for a policy over Proxmox guests."""
        return self.spec.targets.openstack

    @property
    def keep_last(self) -> int | None:
        """retention.keepLast, or the named policy's number."""
        keep = self.spec.retention.keep_last if self.spec.retention else None
        if keep is None and self.spec.policy_name:
            keep = named_policy(self.spec.policy_name)[1]
        return keep

    @property
    def cron(self) -> str:
        """The cron expression: the schedule, or the named policy's."""
        return named_policy(self.spec.policy_name)[0] if self.spec.policy_name else self.spec.schedule or ""


def parse_policy(obj: Mapping[str, Any]) -> Policy:
    """The typed view of a SnapshotPolicy object; ValueError naming the invalid field."""
    meta = obj.get("metadata") or {}
    return Policy(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        spec=policy_spec(obj),
        status=policy_status(obj),
        uid=meta.get("uid"),
        created=meta.get("creationTimestamp"),
        annotations=dict(meta.get("annotations") or {}),
        labels=dict(meta.get("labels") or {}),
    )


def parse_policies(objs: Iterable[Mapping[str, Any]]) -> list[Policy]:
    """:func:`parse_policy` of each object."""
    return [parse_policy(obj) for obj in objs]


def new_spec(**fields: Any) -> SnapshotPolicySpec:
    """``SnapshotPolicySpec(**fields)``; InvalidSpec naming each bad field with the CRD's own message."""
    try:
        return SnapshotPolicySpec(**fields)
    except ValidationError as error:
        raise InvalidSpec(_explain(error)) from None


def _explain(error: ValidationError) -> str:
    """Each invalid field with what to do (the pattern message the CRD answers with, where there is one)."""
    by_key = {key: f for name, f in SnapshotPolicySpec.model_fields.items() for key in (name, f.alias)}
    messages = []
    for entry in error.errors()[:5]:
        field = by_key.get(str(entry["loc"][0])) if entry["loc"] else None
        extra = field.json_schema_extra if field and isinstance(field.json_schema_extra, dict) else {}
        explained = extra.get("x-daytwo-pattern-message") if entry["type"] == "string_pattern_mismatch" else None
        messages.append(str(explained or f"{'.'.join(str(p) for p in entry['loc'])}: {entry['msg']}"))
    return "; ".join(messages)


def spec_body(spec: SnapshotPolicySpec) -> dict[str, Any]:
    """The spec as the apiserver takes it: camelCase, unset fields left out."""
    return spec.model_dump(by_alias=True, exclude_none=True, exclude_unset=True, mode="json")


def stamp(moment: datetime | None) -> str | None:
    """A status time as responses carry it (``2026-02-08T09:00:00Z``); None stays None."""
    return format_time(moment) if moment else None
