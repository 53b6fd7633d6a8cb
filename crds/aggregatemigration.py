"""AggregateMigration: move an OpenStack compute host between host aggregates, with preview and rollback."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .base import (
    MAX_STATUS_LIST,
    CamelModel,
    CredentialsRef,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    StatusBase,
    Step,
    cel,
    with_validations,
)

__all__ = [
    "DEFINITION",
    "AggregateMigrationSpec",
    "AggregateMigrationStatus",
    "CommandLogEntry",
    "MigrationPlan",
    "OnFailure",
    "ValidationCheck",
]


class OnFailure(StrEnum):
    """What to do when a step fails."""

    ROLLBACK = "Rollback"
    STOP = "Stop"


SPEC_VALIDATIONS = [
    cel(
        "(has(self.sourceAggregate) || has(self.targetAggregate)) != (has(self.removeFrom) || has(self.addTo))",
        "use either sourceAggregate/targetAggregate or removeFrom/addTo, not both and not neither",
    ),
    cel(
        "!has(self.sourceAggregate) || !has(self.targetAggregate) || self.sourceAggregate != self.targetAggregate",
        "sourceAggregate and targetAggregate must differ",
    ),
    cel("self.credentialsRef.kind == 'CloudCredential'", "credentialsRef.kind must be CloudCredential (OpenStack)"),
    cel(
        "oldSelf.dryRun || self == oldSelf",
        "the spec is immutable once the migration was executed (dryRun false); create a new AggregateMigration",
    ),
]


class AggregateMigrationSpec(CamelModel):
    """Which host moves where, and how carefully."""

    model_config = with_validations(*SPEC_VALIDATIONS)

    credentials_ref: CredentialsRef = Field(description="The CloudCredential (provider openstack) to act with.")
    host: str = Field(description="Compute host (hypervisor hostname).", min_length=1, max_length=255)
    source_aggregate: str | None = Field(None, description="Aggregate to leave.", min_length=1, max_length=255)
    target_aggregate: str | None = Field(None, description="Aggregate to join.", min_length=1, max_length=255)
    remove_from: list[str] | None = Field(
        None, description="Aggregates to leave (instead of sourceAggregate).", max_length=16
    )
    add_to: list[str] | None = Field(
        None, description="Aggregates to join (instead of targetAggregate).", max_length=16
    )
    dry_run: bool = Field(False, description="Preview only: validate and show the commands. Flip to false to execute.")
    force: bool = Field(False, description="Move a host with running VMs out of a spot or runpod aggregate anyway.")
    check_availability_zone: bool = Field(True, description="Refuse when the target changes the host's AZ.")
    on_failure: OnFailure = Field(OnFailure.ROLLBACK, description="Rollback (undo finished steps) or Stop.")
    requested_by: str | None = Field(None, description="Who asked for it (the command log's user).", max_length=256)


class ValidationCheck(CamelModel):
    """One preflight check."""

    name: str = Field(description="SourceExists, TargetExists, HostInSource, RunningVMs or AvailabilityZone.")
    ok: bool = Field(description="Whether the check passed.")
    message: str = Field("", description="Details.", max_length=2048)


class MigrationPlan(CamelModel):
    """The preview."""

    compute_host: str | None = Field(
        None, description="The compute service host the commands use (spec.host resolved through the hypervisors)."
    )
    checks: list[ValidationCheck] | None = Field(None, description="Preflight checks.", max_length=16)
    running_vms: int | None = Field(None, description="VMs running on the host.", ge=0)
    vm_names: list[str] | None = Field(None, description="Some of them (bounded).", max_length=MAX_STATUS_LIST)
    availability_zone_before: str | None = Field(None, description="Host AZ now.")
    availability_zone_after: str | None = Field(None, description="Host AZ after the move.")
    commands: list[str] | None = Field(
        None, description="The equivalent `openstack aggregate add/remove host` commands, in order.", max_length=32
    )


class CommandLogEntry(CamelModel):
    """One executed command (the spot manager's command log)."""

    timestamp: datetime = Field(description="When it ran.")
    command: str = Field(description="The equivalent openstack CLI command.")
    status: str = Field(description="success, error or rolled_back.")
    duration_ms: int | None = Field(None, description="How long it took.", ge=0)
    user: str | None = Field(None, description="Who requested it.")
    output: str | None = Field(None, description="Result or error.", max_length=2048)


class AggregateMigrationStatus(StatusBase):
    """Observed state of an AggregateMigration."""

    plan: MigrationPlan | None = Field(None, description="The preview.")
    steps: list[Step] | None = Field(None, description="Add, remove and rollback steps.", max_length=32)
    command_log: list[CommandLogEntry] | None = Field(
        None, description="Executed commands.", max_length=MAX_STATUS_LIST
    )


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="AggregateMigration",
        plural="aggregatemigrations",
        short_name="d2am",
        printer_columns=[
            PrinterColumn(name="Host", json_path=".spec.host"),
            PrinterColumn(name="From", json_path=".spec.sourceAggregate"),
            PrinterColumn(name="To", json_path=".spec.targetAggregate"),
            PrinterColumn(name="Dry Run", type="boolean", json_path=".spec.dryRun"),
            PrinterColumn(name="Phase", json_path=".status.phase"),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
        ],
    ),
    description="Move an OpenStack compute host between host aggregates: preview (dryRun), execute adding before "
    "removing, roll back on failure.",
    spec=AggregateMigrationSpec,
    status=AggregateMigrationStatus,
)
