"""AlertRule: a threshold over a metric daytwo collects, evaluated by the operator with ``for`` and hysteresis.

Metrics come from the ProxmoxNode inventory (guest usage in the ``<node>-guests`` ConfigMaps, node usage in
``status.nodes``), SnapshotPolicy SLA compliance and open DriftEvents. Each matching target (a guest, a
node, a policy, a rule) fires after the condition held for ``forSeconds`` and resolves once the value is
back past ``clearThreshold`` (default: the threshold) for ``clearForSeconds``. Firing and resolved alerts
are kept in status (bounded), and deliveries go to the notification channels named in the spec.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .base import (
    MAX_STATUS_LIST,
    CamelModel,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    StatusBase,
    cel,
    with_validations,
)

__all__ = [
    "DEFINITION",
    "AlertAcknowledgement",
    "AlertInstance",
    "AlertMetric",
    "AlertRecord",
    "AlertRuleSpec",
    "AlertRuleStatus",
    "AlertSeverity",
    "Comparison",
]


class AlertMetric(StrEnum):
    """What a rule watches: guest and node usage (percent; network in bytes/s), snapshot SLA, drift."""

    GUEST_CPU = "guest_cpu"
    GUEST_MEMORY = "guest_memory"
    GUEST_DISK = "guest_disk"
    GUEST_NETWORK_RX = "guest_network_rx"
    GUEST_NETWORK_TX = "guest_network_tx"
    NODE_CPU = "node_cpu"
    NODE_MEMORY = "node_memory"
    NODE_DISK = "node_disk"
    SNAPSHOT_SLA = "snapshot_sla"
    DRIFT_EVENTS = "drift_events"


class Comparison(StrEnum):
    """Fire above (``>``) or below (``<``) the threshold."""

    ABOVE = ">"
    BELOW = "<"


class AlertSeverity(StrEnum):
    """horcrux's severities."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertAcknowledgement(CamelModel):
    """Someone acknowledged the alert of ``target`` (applies to the alert firing at ``at``)."""

    target: str = Field(description="The alert's target.", min_length=1, max_length=256)
    by: str | None = Field(None, description="Who acknowledged it.", max_length=256)
    at: datetime = Field(description="When.")


class AlertRuleSpec(CamelModel):
    """The condition, its timing and where notifications go."""

    model_config = with_validations(
        cel(
            "!has(self.clearThreshold) || (self.comparison == '>' ? self.clearThreshold <= self.threshold "
            ": self.clearThreshold >= self.threshold)",
            "clearThreshold must be on the resolved side of threshold (<= for '>', >= for '<')",
        ),
    )

    display_name: str = Field(description="The rule's name as horcrux shows it.", min_length=1, max_length=253)
    metric: AlertMetric = Field(description="guest_cpu, guest_memory, ..., node_cpu, snapshot_sla, drift_events.")
    comparison: Comparison = Field(Comparison.ABOVE, description="'>' fires above the threshold, '<' below.")
    threshold: float = Field(description="Percent for usage, bytes/s for network, percent compliant for SLA.")
    clear_threshold: float | None = Field(
        None, description="Hysteresis: resolve only past this value (default: the threshold)."
    )
    for_seconds: int = Field(0, description="Fire after the condition held this long.", ge=0, le=604800)
    clear_for_seconds: int = Field(0, description="Resolve after it cleared this long.", ge=0, le=604800)
    severity: AlertSeverity = Field(AlertSeverity.WARNING, description="info, warning or critical.")
    enabled: bool = Field(True, description="Evaluate the rule.")
    interval_seconds: int = Field(30, description="How often the operator evaluates it.", ge=5, le=3600)
    proxmox_node: str | None = Field(
        None, description="Only this ProxmoxNode (guest_*/node_* metrics); all when unset.", max_length=253
    )
    notification_channels: list[str] = Field(
        default_factory=list, description="Names of notification channels (see README).", max_length=20
    )
    acknowledgements: list[AlertAcknowledgement] | None = Field(
        None,
        description="Acknowledged alerts (set by the facade's acknowledge).",
        max_length=MAX_STATUS_LIST,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["target"]},
    )


class AlertInstance(CamelModel):
    """One target whose condition holds (pending) or whose alert fires."""

    target: str = Field(description="Guest (<proxmoxnode>:<vmid>), node (<proxmoxnode>:<node>), policy or rule.")
    state: str = Field(description="pending (waiting for forSeconds), firing, or clearing (waiting to resolve).")
    since: datetime = Field(description="When the condition started to hold (pending) or to clear (clearing).")
    triggered_at: datetime | None = Field(None, description="When it fired.")
    value: float = Field(description="Last value seen.")


class AlertRecord(CamelModel):
    """A fired alert, in the bounded history."""

    alert_id: str = Field(description="Id of this firing.")
    target: str = Field(description="Target.")
    severity: AlertSeverity = Field(description="Severity at the time.")
    triggered_at: datetime = Field(description="When it fired.")
    resolved_at: datetime | None = Field(None, description="When it resolved (unset while firing).")
    value: float = Field(description="Value when it fired.")
    acknowledged_by: str | None = Field(None, description="Who acknowledged it.")


class AlertRuleStatus(StatusBase):
    """What the operator last evaluated."""

    alerts: list[AlertInstance] | None = Field(
        None, description="Pending, firing and clearing targets.", max_length=MAX_STATUS_LIST
    )
    history: list[AlertRecord] | None = Field(
        None, description=f"Fired alerts, newest first (at most {MAX_STATUS_LIST}).", max_length=MAX_STATUS_LIST
    )
    last_evaluation_time: datetime | None = Field(None, description="When the rule was last evaluated.")
    firing: int | None = Field(None, ge=0, description="Targets firing now.")


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="AlertRule",
        plural="alertrules",
        short_name="d2ar",
        printer_columns=[
            PrinterColumn(name="Metric", json_path=".spec.metric"),
            PrinterColumn(name="Threshold", type="number", json_path=".spec.threshold"),
            PrinterColumn(name="Severity", json_path=".spec.severity"),
            PrinterColumn(name="Firing", type="integer", json_path=".status.firing"),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
        ],
    ),
    description="An alert rule over daytwo's metrics (guest/node usage, snapshot SLA, drift), evaluated by the "
    "operator with for durations and hysteresis, delivered to notification channels.",
    spec=AlertRuleSpec,
    status=AlertRuleStatus,
)
