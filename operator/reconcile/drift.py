"""Drift decisions: compare one watched field of every listed resource with its baseline.

Pure. The handler lists the resources (raw API JSON), loads the rule's baseline (kept in
ConfigMaps so it survives a restart), and gets back the DriftEvents to create and the new baseline.

- A resource seen for the first time is a baseline, never drift.
- An empty value becoming set on a resource created less than NEW_RESOURCE_SETTLE_SECONDS ago
  completes its baseline (a boot volume's ``server_id`` right after the server is built: pf9's
  false positive), it is not drift.
- A resource that disappears is one ``Deleted`` event.
- Event names are deterministic: rule, resource, field, new value and the time the old value was
  first seen. A restarted operator that saw the same change creates the same name, which the
  apiserver refuses as already existing: each change is recorded exactly once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from daytwo.crds.drift import ChangeType, DriftEventSpec, DriftRuleSpec

from ..shared.times import format_time, parse_time

__all__ = [
    "NEW_RESOURCE_SETTLE_SECONDS",
    "BaselineEntry",
    "Evaluation",
    "Listing",
    "ListingObserver",
    "Observed",
    "ProjectInfo",
    "RuleView",
    "evaluate",
    "event_name",
    "field_value",
    "observe",
    "resource_identity",
]

#: How long after its creation an empty field may become set without being drift.
NEW_RESOURCE_SETTLE_SECONDS = 900
#: Values longer than this are stored and shown truncated (DriftEvent.spec.oldValue maxLength is 4096).
MAX_VALUE_LENGTH = 4000

Raw = Mapping[str, Any]
#: One step of a JSON path as the CRD allows it: ``.name`` or ``[index]``.
_PATH_TOKEN = re.compile(r"\.([A-Za-z0-9_\-]+)|\[([0-9]+)\]")


def _first_attachment(raw: Raw) -> Any:
    attachments = raw.get("attachments") or []
    return attachments[0].get("server_id") if attachments else None


def _flavor(raw: Raw) -> Any:
    flavor = raw.get("flavor") or {}
    return flavor.get("id") or flavor.get("original_name")


#: pf9's field names where the API spells them differently (everything else is read as named).
ALIASES: dict[str, dict[str, Callable[[Raw], Any]]] = {
    "server": {
        "flavor_id": _flavor,
        "vm_state": lambda raw: raw.get("OS-EXT-STS:vm_state"),
        "task_state": lambda raw: raw.get("OS-EXT-STS:task_state"),
        "power_state": lambda raw: raw.get("OS-EXT-STS:power_state"),
        "hypervisor_hostname": lambda raw: raw.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
        "host": lambda raw: raw.get("OS-EXT-SRV-ATTR:host"),
        "availability_zone": lambda raw: raw.get("OS-EXT-AZ:availability_zone"),
    },
    "volume": {"server_id": _first_attachment},
    "snapshot": {"size": lambda raw: raw.get("size")},
}


@dataclass(frozen=True)
class RuleView:
    """What evaluation needs of a DriftRule."""

    name: str
    resource_type: str
    field: str
    severity: str
    description: str | None = None
    projects: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, name: str, spec: DriftRuleSpec) -> RuleView:
        """What evaluation needs of the DriftRule ``name`` with ``spec``."""
        target = spec.target
        return cls(
            name=name,
            resource_type=target.resource_type,
            field=spec.field,
            severity=spec.severity,
            description=spec.description,
            projects=tuple(target.projects or ()),
            domains=tuple(target.domains or ()),
        )


@dataclass(frozen=True)
class ProjectInfo:
    """A project's name and its domain's name, for filters and event context."""

    name: str
    domain_id: str
    domain_name: str


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """The last observed value of one resource's field (canonical JSON) and since when."""

    value: str
    name: str
    project_id: str | None
    since: str

    def as_list(self) -> list[Any]:
        """Compact form for storage."""
        return [self.value, self.name, self.project_id, self.since]

    @classmethod
    def from_list(cls, data: list[Any]) -> BaselineEntry:
        """Inverse of :meth:`as_list`."""
        return cls(str(data[0]), str(data[1]), data[2], str(data[3]))


@dataclass(frozen=True, slots=True)
class Observed:
    """What drift needs of one listed resource: its identity, creation time and the canonical values of the
    watched fields, without the rest of the API's JSON (a raw server is kilobytes; this is a few strings)."""

    id: str
    name: str
    project_id: str | None
    created: str | None
    fields: tuple[str, ...]  # one tuple shared by a whole listing
    values: tuple[str, ...]  # a tuple, not a dict: a few strings cost less than a hash table per resource

    def value(self, field_name: str) -> str:
        """The canonical value of ``field_name`` (one of ``fields``)."""
        return self.values[self.fields.index(field_name)]


def observe(
    resource_type: str, resources: Iterable[Raw], fields: Iterable[str], interned: dict[str, str] | None = None
) -> list[Observed]:
    """The ``fields`` of every resource, canonical (see :func:`canonical`); equal values are one string object
    (across calls sharing ``interned``)."""
    wanted = tuple(sorted(set(fields)))
    interned = {} if interned is None else interned
    observed = []
    for raw in resources:
        resource_id, name, project_id = resource_identity(raw)
        project_id = None if project_id is None else interned.setdefault(project_id, project_id)
        created = raw.get("created") or raw.get("created_at")
        values = []
        for name_of_field in wanted:
            value = canonical(field_value(resource_type, raw, name_of_field))
            values.append(interned.setdefault(value, value))
        stamp = created if isinstance(created, str) else None
        observed.append(Observed(resource_id, name, project_id, stamp, wanted, tuple(values)))
    return observed


@dataclass(frozen=True, slots=True)
class Listing:
    """One listing of a resource type, observed for ``fields`` (what the rules on it watch)."""

    fields: frozenset[str]
    items: list[Observed]

    @classmethod
    def of(cls, resource_type: str, resources: Iterable[Raw], fields: Iterable[str]) -> Listing:
        """Observe ``fields`` of raw ``resources`` (which the caller then drops)."""
        observer = ListingObserver(resource_type, fields)
        return observer.listing(observer.page(resources))


class ListingObserver:
    """Observes a listing page by page (``page`` is what a backend calls on each page's JSON), so the raw
    JSON of thousands of resources never exists at once; ``listing`` wraps the result."""

    def __init__(self, resource_type: str, fields: Iterable[str]) -> None:
        self.resource_type = resource_type
        self.fields = frozenset(fields)
        self._interned: dict[str, str] = {}

    def page(self, resources: Iterable[Raw]) -> list[Observed]:
        """The observations of one page."""
        return observe(self.resource_type, resources, self.fields, self._interned)

    def listing(self, items: list[Observed]) -> Listing:
        """The whole listing, from every page's observations."""
        return Listing(self.fields, items)


@dataclass
class Evaluation:
    """The outcome of one pass: events to create (name, spec, labels) and the next baseline."""

    events: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    baseline: dict[str, BaselineEntry] = field(default_factory=dict)
    evaluated: int = 0
    baseline_changed: bool = False


def field_value(resource_type: str, raw: Raw, name: str) -> Any:
    """The value of ``name`` (a pf9 field name, an API key, or a JSON path like ``$.metadata.owner``)."""
    if name.startswith("$"):
        return _walk(raw, name)
    alias = ALIASES.get(resource_type, {}).get(name)
    return alias(raw) if alias else raw.get(name)


def _walk(raw: Any, path: str) -> Any:
    current = raw
    for key, index in _PATH_TOKEN.findall(path):
        if index:
            current = current[int(index)] if isinstance(current, list) and int(index) < len(current) else None
        else:
            current = current.get(key) if isinstance(current, Mapping) else None
        if current is None:
            return None
    return current


def resource_identity(raw: Raw) -> tuple[str, str, str | None]:
    """(id, name, project id) of a raw resource of any type."""
    project = raw.get("tenant_id") or raw.get("project_id") or raw.get("os-vol-tenant-attr:tenant_id")
    project = project or raw.get("os-extended-snapshot-attributes:project_id")
    name = raw.get("name") or raw.get("floating_ip_address") or ""
    return str(raw["id"]), str(name), project


def canonical(value: Any) -> str:
    """The stored and shown form of a value: compact JSON with sorted keys, bounded in length."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= MAX_VALUE_LENGTH else text[:MAX_VALUE_LENGTH] + "...(truncated)"


def event_name(rule: str, resource_id: str, field_name: str, new_value: str, since: str) -> str:
    """A DNS-1123 name that is the same for the same change, whoever computes it, whenever."""
    digest = hashlib.sha256("\0".join((rule, resource_id, field_name, new_value, since)).encode()).hexdigest()
    return f"{rule[:200].rstrip('-.')}-{digest[:12]}"


def _selected(rule: RuleView, project_id: str | None, projects: Mapping[str, ProjectInfo]) -> bool:
    if not rule.projects and not rule.domains:
        return True
    info = projects.get(project_id or "")
    if rule.projects and not (project_id in rule.projects or (info is not None and info.name in rule.projects)):
        return False
    return not rule.domains or (
        info is not None and (info.domain_id in rule.domains or info.domain_name in rule.domains)
    )


def _created(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_time(text)  # Cinder and Neutron omit the zone: naive is UTC
    except ValueError:
        return None


def _empty(value_json: str) -> bool:
    return value_json in ("null", '""', "[]", "{}")


def evaluate(
    rule: RuleView,
    resources: Sequence[Raw | Observed],
    baseline: Mapping[str, BaselineEntry],
    projects: Mapping[str, ProjectInfo],
    now: datetime,
) -> Evaluation:
    """Compare every selected resource (raw API JSON, or :class:`Observed` holding ``rule.field``) with the
    baseline; return the events and the next baseline."""
    stamp = format_time(now)
    result = Evaluation()
    seen: set[str] = set()
    for item in resources:
        found = item if isinstance(item, Observed) else observe(rule.resource_type, [item], [rule.field])[0]
        resource_id, name, project_id = found.id, found.name, found.project_id
        if not _selected(rule, project_id, projects):
            continue
        seen.add(resource_id)
        result.evaluated += 1
        value = found.value(rule.field)
        old = baseline.get(resource_id)
        if old is None:
            result.baseline[resource_id] = BaselineEntry(value, name, project_id, stamp)
            result.baseline_changed = True
            continue
        if old.value == value:
            result.baseline[resource_id] = old
            continue
        result.baseline[resource_id] = BaselineEntry(value, name, project_id, stamp)
        result.baseline_changed = True
        created = _created(found.created)
        settling = created is not None and now - created <= timedelta(seconds=NEW_RESOURCE_SETTLE_SECONDS)
        if _empty(old.value) and settling:
            continue
        event = _event(rule, resource_id, name, project_id, old, value, ChangeType.MODIFIED, projects, now)
        result.events.append(event)
    for resource_id, old in baseline.items():
        if resource_id not in seen and _selected(rule, old.project_id, projects):
            result.baseline_changed = True
            result.events.append(
                _event(rule, resource_id, old.name, old.project_id, old, None, ChangeType.DELETED, projects, now)
            )
        elif resource_id not in seen:
            result.baseline_changed = True  # filtered out now: forget it quietly
    return result


def _event(
    rule: RuleView,
    resource_id: str,
    name: str,
    project_id: str | None,
    old: BaselineEntry,
    new_value: str | None,
    change: ChangeType,
    projects: Mapping[str, ProjectInfo],
    now: datetime,
) -> tuple[str, dict[str, Any], dict[str, str]]:
    info = projects.get(project_id or "")
    spec = DriftEventSpec.model_validate(
        {
            "ruleRef": rule.name,
            "resourceType": rule.resource_type,
            "resourceId": resource_id,
            "resourceName": name[:255] or None,
            "field": rule.field,
            "change": change,
            "oldValue": old.value,
            "newValue": new_value,
            "severity": rule.severity,
            "description": rule.description,
            "detectedAt": format_time(now),
            "domainName": info.domain_name if info else None,
            "projectName": info.name if info else None,
        }
    )
    labels = {
        "daytwo.io/drift-rule": rule.name[:63].rstrip("-._"),
        "daytwo.io/severity": rule.severity,
        "daytwo.io/resource-type": rule.resource_type.replace("_", "-"),
    }
    name_for = event_name(rule.name, resource_id, rule.field, new_value or "<deleted>", old.since)
    return name_for, spec.to_k8s(), labels
