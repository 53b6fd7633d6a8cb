"""AggregateMigration decisions: the preflight plan, its commands, and the conditions of each outcome.

Pure: the handler reads Nova (hypervisors, aggregates, servers on the host) into an
:class:`Observed`, and gets back a :class:`Plan` (checks, the equivalent ``openstack aggregate``
commands, the availability-zone effect) and the conditions to write. The step machine that
executes the plan lives in :mod:`.steps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from daytwo.crds.aggregatemigration import AggregateMigrationSpec, MigrationPlan, OnFailure, ValidationCheck
from daytwo.crds.base import MAX_STATUS_LIST

from ...shared.gpuviews import VOLATILE_POOLS, classify
from ..conditions import ConditionUpdate

__all__ = [
    "AggregateState",
    "Check",
    "Observed",
    "Plan",
    "Request",
    "command_text",
    "make_plan",
    "plan_conditions",
    "request_from_spec",
    "resolve_host",
]

#: Condition reason when a check fails, by check name.
FAILURE_REASONS = {
    "SourceExists": "SourceAggregateNotFound",
    "TargetExists": "TargetAggregateNotFound",
    "HostInSource": "HostNotInSource",
    "RunningVMs": "RunningVMs",
    "AvailabilityZone": "AvailabilityZoneConflict",
}
#: Nova's name for the zone of a host that no aggregate puts in one.
DEFAULT_ZONE = "nova"


@dataclass(frozen=True)
class Request:
    """What the spec asks for, normalised to tuples (defaults live in the spec model)."""

    host: str
    remove_from: tuple[str, ...]
    add_to: tuple[str, ...]
    dry_run: bool
    force: bool
    check_availability_zone: bool
    on_failure: OnFailure
    requested_by: str | None


@dataclass(frozen=True)
class AggregateState:
    """One aggregate as Nova reports it."""

    id: str
    name: str
    zone: str | None
    hosts: frozenset[str]


@dataclass(frozen=True)
class Observed:
    """What the handler read before planning; ``host`` is the compute service host (None = unknown)."""

    host: str | None
    aggregates: Mapping[str, AggregateState]
    running_vms: Sequence[str] = ()


@dataclass(frozen=True)
class Check:
    """One preflight check."""

    name: str
    ok: bool
    message: str

    @property
    def reason(self) -> str:
        """Condition reason when this check fails."""
        return FAILURE_REASONS.get(self.name, self.name)


@dataclass(frozen=True)
class Plan:
    """The preview: checks, commands in execution order, and the availability-zone effect."""

    host: str
    checks: list[Check]
    commands: list[str]
    zones_before: list[str]
    zones_after: list[str]
    running_vms: list[str] = field(default_factory=list)
    in_place: bool = False

    @property
    def ok(self) -> bool:
        """Every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The checks that failed, in order."""
        return [check for check in self.checks if not check.ok]

    def to_status(self) -> MigrationPlan:
        """``status.plan`` (bounded lists)."""
        return MigrationPlan(
            compute_host=self.host,
            checks=[ValidationCheck(name=c.name, ok=c.ok, message=c.message[:2048]) for c in self.checks],
            running_vms=len(self.running_vms),
            vm_names=sorted(self.running_vms)[:MAX_STATUS_LIST],
            availability_zone_before=",".join(self.zones_before),
            availability_zone_after=",".join(self.zones_after),
            commands=self.commands,
        )


def request_from_spec(spec: AggregateMigrationSpec) -> Request:
    """The request a spec makes (sourceAggregate/targetAggregate or removeFrom/addTo)."""
    remove = spec.remove_from or ([spec.source_aggregate] if spec.source_aggregate else [])
    add = spec.add_to or ([spec.target_aggregate] if spec.target_aggregate else [])
    return Request(
        host=spec.host,
        remove_from=tuple(remove),
        add_to=tuple(add),
        dry_run=spec.dry_run,
        force=spec.force,
        check_availability_zone=spec.check_availability_zone,
        on_failure=OnFailure(spec.on_failure),
        requested_by=spec.requested_by,
    )


def resolve_host(name: str, hypervisors: Sequence[tuple[str, str | None]]) -> str | None:
    """The compute service host (what aggregates list) for a hypervisor hostname or service host name.

    ``hypervisors`` are (hypervisor_hostname, service_host) pairs; ``h100-host-004.cloud.local`` and
    ``h100-host-004`` both resolve to the service host ``h100-host-004``.
    """
    for hostname, service in hypervisors:
        if name in (hostname, service) or hostname.split(".")[0] == name:
            return service or hostname
    return None


def command_text(action: str, aggregate: str, host: str) -> str:
    """The equivalent OpenStack CLI command (``action`` is add or remove)."""
    return f"openstack aggregate {action} host {aggregate} {host}"


def _zones(aggregates: Sequence[AggregateState]) -> list[str]:
    return sorted({agg.zone for agg in aggregates if agg.zone}) or [DEFAULT_ZONE]


def _zone_check(request: Request, host: str, observed: Observed) -> tuple[Check, list[str], list[str]]:
    """Zones before and after, and whether adding before removing would put the host in two zones."""
    current = [agg for agg in observed.aggregates.values() if host in agg.hosts]
    added = [observed.aggregates[name] for name in request.add_to if name in observed.aggregates]
    removed = set(request.remove_from)
    before = _zones(current)
    after = _zones([agg for agg in current if agg.name not in removed] + added)
    during = sorted({agg.zone for agg in current + added if agg.zone})
    if not request.check_availability_zone:
        return Check("AvailabilityZone", True, "not checked (checkAvailabilityZone is false)"), before, after
    if len(during) > 1:
        message = (
            f"adding before removing would put {host} in availability zones {', '.join(during)} at once, "
            "which Nova refuses; move the host between zones by hand or pick a target in its zone"
        )
        return Check("AvailabilityZone", False, message), before, after
    if before != after:
        message = (
            f"the move changes {host}'s availability zone from {','.join(before)} to {','.join(after)}; "
            "set checkAvailabilityZone: false to accept that"
        )
        return Check("AvailabilityZone", False, message), before, after
    return Check("AvailabilityZone", True, f"stays in {','.join(after)}"), before, after


def _exists(name: str, kind: str, names: Sequence[str], observed: Observed) -> Check:
    missing = [agg for agg in names if agg not in observed.aggregates]
    if missing:
        return Check(name, False, f"no host aggregate named {', '.join(missing)}; check the {kind} name")
    return Check(name, True, ", ".join(names) if names else f"no {kind} aggregate given")


def _vm_check(request: Request, observed: Observed, rules: Sequence[tuple[str, str]]) -> Check:
    running = len(observed.running_vms)
    volatile = [name for name in request.remove_from if (pool := classify(name, rules)) and pool.pool in VOLATILE_POOLS]
    if running and volatile and not request.force:
        message = (
            f"{running} VM(s) run on the host and it would leave {', '.join(volatile)} (spot/runpod); "
            "drain it first or set force: true"
        )
        return Check("RunningVMs", False, message)
    suffix = " (force: true)" if running and volatile else ""
    return Check("RunningVMs", True, f"{running} running VM(s){suffix}")


def make_plan(request: Request, observed: Observed, rules: Sequence[tuple[str, str]]) -> Plan:
    """Preflight checks and commands; adds come before removes so the host is never in no aggregate."""
    host = observed.host or request.host
    source = _exists("SourceExists", "source", request.remove_from, observed)
    target = _exists("TargetExists", "target", request.add_to, observed)
    to_add = [n for n in request.add_to if n in observed.aggregates and host not in observed.aggregates[n].hosts]
    to_remove = [n for n in request.remove_from if n in observed.aggregates and host in observed.aggregates[n].hosts]
    in_place = source.ok and target.ok and observed.host is not None and not to_add and not to_remove
    if observed.host is None:
        placement = Check("HostInSource", False, f"no compute host {request.host!r}; check spec.host")
    elif in_place:
        placement = Check("HostInSource", True, f"{host} is already where it should be; nothing to do")
    else:
        outside = [n for n in request.remove_from if n in observed.aggregates and n not in to_remove]
        added = [n for n in request.add_to if n not in to_add]
        ok = not outside or bool(added)  # left the source already only if it joined the target (a resumed move)
        where = sorted(agg.name for agg in observed.aggregates.values() if host in agg.hosts)
        placement = (
            Check("HostInSource", True, f"{host} is in {', '.join(request.remove_from) or 'its aggregates'}")
            if ok
            else Check("HostInSource", False, f"{host} is not in {', '.join(outside)}; it is in {', '.join(where)}")
        )
    zone, before, after = _zone_check(request, host, observed)
    checks = [source, target, placement, _vm_check(request, observed, rules), zone]
    commands = [command_text("add", n, host) for n in to_add] + [command_text("remove", n, host) for n in to_remove]
    return Plan(host, checks, commands, before, after, list(observed.running_vms), in_place)


def plan_conditions(plan: Plan, dry_run: bool) -> list[ConditionUpdate]:
    """Planned, Ready, Reconciling and Stalled for a plan that is previewed or refused before execution."""
    if plan.ok:
        summary = "; ".join(plan.commands) if plan.commands else "nothing to do: the host is already in place"
        return [
            ConditionUpdate("Planned", True, "Planned", summary),
            ConditionUpdate(
                "Ready", True, "PreviewReady", f"dry run, nothing executed; set dryRun: false to run: {summary}"
            )
            if dry_run
            else ConditionUpdate("Ready", False, "Migrating", summary),
            ConditionUpdate("Reconciling", not dry_run, "Migrating", summary),
            ConditionUpdate("Stalled", False, "Planned"),
        ]
    first = plan.failures[0]
    message = "; ".join(f"{check.name}: {check.message}" for check in plan.failures)
    return [
        ConditionUpdate("Planned", False, first.reason, message),
        ConditionUpdate("Ready", False, first.reason, message),
        ConditionUpdate("Reconciling", False, first.reason),
        ConditionUpdate("Stalled", not dry_run, first.reason, message),
    ]
