"""DriftRule and DriftEvent: which cloud fields are watched, and each change detected."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .base import (
    CamelModel,
    CredentialsRef,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    StatusBase,
    cel,
    explained,
    unchanged,
    with_validations,
)

__all__ = [
    "EVENT_DEFINITION",
    "RULE_DEFINITION",
    "Acknowledgement",
    "ChangeType",
    "DriftEventSpec",
    "DriftRuleSpec",
    "DriftRuleStatus",
    "ResourceType",
    "Severity",
]


class Severity(StrEnum):
    """pf9's drift severities."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class ResourceType(StrEnum):
    """OpenStack resource types drift detection inventories."""

    SERVER = "server"
    VOLUME = "volume"
    NETWORK = "network"
    SUBNET = "subnet"
    PORT = "port"
    FLOATING_IP = "floating_ip"
    SECURITY_GROUP = "security_group"
    SNAPSHOT = "snapshot"


class DriftTarget(CamelModel):
    """Which resources a rule inventories."""

    credentials_ref: CredentialsRef = Field(description="The CloudCredential (provider openstack) to read with.")
    resource_type: ResourceType = Field(description="server, volume, network, subnet, port, floating_ip, ...")
    domains: list[str] | None = Field(None, description="Only resources in these domains (names or ids).")
    projects: list[str] | None = Field(None, description="Only resources in these projects (names or ids).")


class DriftRuleSpec(CamelModel):
    """A watched (resource type, field) pair."""

    model_config = with_validations(
        cel(
            "self.target.credentialsRef.kind == 'CloudCredential'",
            "drift rules read OpenStack: credentialsRef.kind must be CloudCredential",
        ),
    )

    target: DriftTarget = Field(description="Which resources to watch.")
    field: str = Field(
        description="Field name (flavor_id) or a JSON path into the resource ($.metadata.owner).",
        min_length=1,
        max_length=256,
        pattern=r"^(\$(\.[A-Za-z0-9_\-]+|\[[0-9]+\])+|[A-Za-z_][A-Za-z0-9_]*)$",
        json_schema_extra=explained(
            "field must be a field name such as flavor_id or a JSON path such as $.metadata.owner"
        ),
    )
    severity: Severity = Field(Severity.WARNING, description="critical, warning or info.")
    description: str | None = Field(None, description="What a change of this field means.", max_length=1024)
    enabled: bool = Field(True, description="Disabled rules evaluate nothing and raise no events.")
    interval_seconds: int = Field(300, description="How often to inventory and compare.", ge=30, le=86400)


class DriftRuleStatus(StatusBase):
    """Observed state of a DriftRule."""

    last_evaluation_time: datetime | None = Field(
        None,
        description="When the rule last compared, coarsely: written with any other status change (first "
        "evaluation, drift found, a different resource count, conditions), else at most every "
        "DAYTWO_STATUS_HEARTBEAT_SECONDS (default 1 h), so a rule at rest writes no status; each pass is "
        "counted in the operator's metrics.",
    )
    resources_evaluated: int | None = Field(None, description="Resources compared in the last pass.", ge=0)
    open_events: int | None = Field(None, description="DriftEvents this rule raised.", ge=0)
    unacknowledged_events: int | None = Field(None, description="Of those, not yet acknowledged.", ge=0)
    baseline_ref: str | None = Field(None, description="ConfigMap holding the last observed values.")


class ChangeType(StrEnum):
    """What kind of change an event records."""

    MODIFIED = "Modified"
    DELETED = "Deleted"


class Acknowledgement(CamelModel):
    """Who acknowledged an event, and when."""

    acknowledged: bool = Field(False, description="Whether someone has looked at it.")
    by: str | None = Field(None, description="Who acknowledged it.", max_length=256)
    at: datetime | None = Field(None, description="When.")
    note: str | None = Field(None, description="Why, or what was done.", max_length=2048)


_IMMUTABLE = ("ruleRef", "resourceType", "resourceId", "field", "change", "detectedAt")
_IMMUTABLE_OPTIONAL = ("oldValue", "newValue")


class DriftEventSpec(CamelModel):
    """One detected drift. Written by the operator; only acknowledgement is meant to change."""

    model_config = with_validations(
        cel(
            unchanged(*_IMMUTABLE, optional=_IMMUTABLE_OPTIONAL),
            "a DriftEvent records what was detected: only spec.acknowledgement may change",
        ),
        cel(
            "!has(self.acknowledgement) || !self.acknowledgement.acknowledged || has(self.acknowledgement.by)",
            "an acknowledgement needs acknowledgement.by (who looked at it)",
        ),
    )

    rule_ref: str = Field(description="Name of the DriftRule that raised it (its owner).", max_length=253)
    resource_type: ResourceType = Field(description="Type of the drifted resource.")
    resource_id: str = Field(description="Cloud id of the resource.", max_length=255)
    resource_name: str | None = Field(None, description="Its name.", max_length=255)
    field: str = Field(description="The field that changed.", max_length=256)
    change: ChangeType = Field(ChangeType.MODIFIED, description="Modified, or Deleted when the resource disappeared.")
    old_value: str | None = Field(None, description="Last observed value (JSON).", max_length=4096)
    new_value: str | None = Field(None, description="Value now (JSON); empty for deletions.", max_length=4096)
    severity: Severity = Field(description="From the rule.")
    description: str | None = Field(None, description="From the rule.", max_length=1024)
    detected_at: datetime = Field(description="When the change was seen.")
    domain_name: str | None = Field(None, description="Domain of the resource.", max_length=255)
    project_name: str | None = Field(None, description="Project (tenant) of the resource.", max_length=255)
    acknowledgement: Acknowledgement | None = Field(None, description="Set to acknowledge the event.")


class DriftEventStatus(StatusBase):
    """Observed state of a DriftEvent."""


RULE_DEFINITION = KindDefinition(
    info=KindInfo(
        kind="DriftRule",
        plural="driftrules",
        short_name="d2dr",
        printer_columns=[
            PrinterColumn(name="Type", json_path=".spec.target.resourceType"),
            PrinterColumn(name="Field", json_path=".spec.field"),
            PrinterColumn(name="Severity", json_path=".spec.severity"),
            PrinterColumn(name="Enabled", type="boolean", json_path=".spec.enabled"),
            PrinterColumn(name="Open", type="integer", json_path=".status.unacknowledgedEvents"),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
        ],
    ),
    description="Watch one field of one OpenStack resource type and raise a DriftEvent when it changes.",
    spec=DriftRuleSpec,
    status=DriftRuleStatus,
)

EVENT_DEFINITION = KindDefinition(
    info=KindInfo(
        kind="DriftEvent",
        plural="driftevents",
        short_name="d2de",
        printer_columns=[
            PrinterColumn(name="Severity", json_path=".spec.severity"),
            PrinterColumn(name="Type", json_path=".spec.resourceType"),
            PrinterColumn(name="Resource", json_path=".spec.resourceName"),
            PrinterColumn(name="Field", json_path=".spec.field"),
            PrinterColumn(name="Old", json_path=".spec.oldValue", priority=1),
            PrinterColumn(name="New", json_path=".spec.newValue", priority=1),
            PrinterColumn(name="Acked", type="boolean", json_path=".spec.acknowledgement.acknowledged"),
            PrinterColumn(name="Detected", type="date", json_path=".spec.detectedAt"),
        ],
    ),
    description="One detected drift: resource, field, old and new value, severity; acknowledge via "
    "spec.acknowledgement.",
    spec=DriftEventSpec,
    status=DriftEventStatus,
)
