"""Building blocks every daytwo kind shares: camelCase models, conditions, references, status.

The pydantic models in this package are the single source of truth for the CRDs: ``generate.py``
turns them into CRD YAML (descriptions for ``kubectl explain``, CEL rules from
``x-kubernetes-validations``), and the operator and the facade parse objects with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

__all__ = [
    "API_VERSION",
    "GROUP",
    "MAX_CONDITIONS",
    "MAX_STATUS_LIST",
    "RECONCILE_ANNOTATION",
    "VERSION",
    "CamelModel",
    "Condition",
    "ConditionStatus",
    "CredentialsKind",
    "CredentialsRef",
    "KindDefinition",
    "KindInfo",
    "PrinterColumn",
    "SecretKeyRef",
    "StatusBase",
    "Step",
    "StepState",
    "cel",
    "explained",
    "rules",
    "unchanged",
    "with_validations",
]

GROUP = "daytwo.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
#: Annotation that forces a reconcile; its value is echoed to ``status.lastHandledReconcileAt`` (Flux's pattern).
RECONCILE_ANNOTATION = "daytwo.io/reconcile-requested-at"
#: Lists in status hold at most this many entries; the status says when it dropped some.
MAX_STATUS_LIST = 50
MAX_CONDITIONS = 16


def cel(rule: str, message: str, *, reason: str | None = None, field_path: str | None = None) -> JsonDict:
    """One CEL ``x-kubernetes-validations`` entry; the message tells the user what to do."""
    entry: JsonDict = {"rule": rule, "message": message}
    if reason:
        entry["reason"] = reason
    if field_path:
        entry["fieldPath"] = field_path
    return entry


class CamelModel(BaseModel):
    """Base model: Python attributes in snake_case, Kubernetes fields in camelCase, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=True,
    )

    def to_k8s(self) -> dict[str, Any]:
        """Serialise for the Kubernetes API: camelCase keys, unset optional fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class ConditionStatus(StrEnum):
    """The three states of a metav1.Condition."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(CamelModel):
    """The latest observation of one aspect of the object (metav1.Condition)."""

    type: str = Field(description="Condition type, e.g. Ready, Reconciling, Stalled.", max_length=316)
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(description="One CamelCase word a program can act on.", max_length=1024)
    message: str = Field("", description="What happened and what to do next, for a person.", max_length=32768)
    last_transition_time: datetime = Field(description="When the status last changed.")
    observed_generation: int | None = Field(
        None, description="The metadata.generation this condition was computed from.", ge=0
    )


class StatusBase(CamelModel):
    """Status fields every daytwo kind carries (kstatus-compatible)."""

    observed_generation: int | None = Field(
        None, description="The metadata.generation the operator last reconciled.", ge=0
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description=(
            "Ready summarises the object. Reconciling and Stalled appear only while True, so Argo CD, "
            "Flux and `kubectl wait --for=condition=Ready` understand every daytwo object."
        ),
        max_length=MAX_CONDITIONS,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    phase: str | None = Field(None, description="A one-word summary for printer columns; conditions are the contract.")
    last_handled_reconcile_at: str | None = Field(
        None, description="The last value of the daytwo.io/reconcile-requested-at annotation the operator handled."
    )

    def patch_of(self, *fields: str) -> dict[str, Any]:
        """The named fields (snake_case) as a status merge patch: camelCase keys, JSON values, None deletes."""
        dumped = self.model_dump(by_alias=True, exclude_none=True, mode="json", include=set(fields))
        aliases = [type(self).model_fields[field].alias or field for field in fields]
        return {alias: dumped.get(alias) for alias in aliases}


class CredentialsKind(StrEnum):
    """The kinds that hold credentials; every other kind names one of them."""

    CLOUD_CREDENTIAL = "CloudCredential"
    PROXMOX_NODE = "ProxmoxNode"


class CredentialsRef(CamelModel):
    """A reference to a CloudCredential or ProxmoxNode in the same namespace."""

    kind: CredentialsKind = Field(
        CredentialsKind.CLOUD_CREDENTIAL, description="CloudCredential (OpenStack and public clouds) or ProxmoxNode."
    )
    name: str = Field(description="Name of the object in this namespace.", min_length=1, max_length=253)


class SecretKeyRef(CamelModel):
    """A key of a Secret in the same namespace."""

    name: str = Field(description="Secret name in this namespace.", min_length=1, max_length=253)
    key: str = Field(description="Key within the Secret's data.", min_length=1, max_length=253)


class PrinterColumn(CamelModel):
    """One additionalPrinterColumns entry."""

    name: str
    type: str = "string"
    json_path: str
    description: str = ""
    priority: int = 0


class KindInfo(CamelModel):
    """Names and presentation of a kind, read by the CRD generator and the clients."""

    kind: str
    plural: str
    short_name: str
    printer_columns: list[PrinterColumn]

    @property
    def singular(self) -> str:
        """The lower-case singular name (``snapshotpolicy``)."""
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        """The CRD's metadata.name (``snapshotpolicies.daytwo.io``)."""
        return f"{self.plural}.{GROUP}"


@dataclass(frozen=True)
class KindDefinition:
    """Everything the generator, the operator and the facade need to know about one kind."""

    info: KindInfo
    description: str
    spec: type[CamelModel]
    status: type[StatusBase]


class StepState(StrEnum):
    """Where one step of a multi-step job stands."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    CANCELED = "Canceled"


class Step(CamelModel):
    """One step of a multi-step job, with the external ids it created so a restart resumes it."""

    name: str = Field(description="Step name, e.g. CreateVolume.")
    state: StepState = Field(StepState.PENDING, description="Pending, Running, Succeeded, Failed, Skipped or Canceled.")
    attempts: int = Field(0, description="How many times the step was tried.", ge=0)
    external_ids: dict[str, str] | None = Field(
        None, description="Ids of cloud objects this step created or acts on (volume, port, server, task UPID)."
    )
    started_at: datetime | None = Field(None, description="When the step first started.")
    finished_at: datetime | None = Field(None, description="When the step finished.")
    message: str | None = Field(None, description="What the step did or why it failed.", max_length=4096)


def with_validations(*rules: JsonDict) -> ConfigDict:
    """A CamelModel config carrying CEL rules for the object the model describes."""
    return ConfigDict(**CamelModel.model_config, json_schema_extra={"x-kubernetes-validations": list(rules)})


def explained(message: str) -> JsonDict:
    """json_schema_extra for a ``pattern`` field: the apiserver answers ``message`` instead of the regex."""
    return {"x-daytwo-pattern-message": message}


def unchanged(*required: str, optional: tuple[str, ...] = ()) -> str:
    """A CEL transition expression: these fields of ``self`` equal those of ``oldSelf`` (optional ones may be unset)."""
    checks = [f"self.{name} == oldSelf.{name}" for name in required]
    checks += [
        f"has(self.{name}) == has(oldSelf.{name}) && (!has(self.{name}) || self.{name} == oldSelf.{name})"
        for name in optional
    ]
    return " && ".join(checks)


def rules(*entries: JsonDict) -> JsonDict:
    """json_schema_extra carrying CEL rules for one field."""
    return {"x-kubernetes-validations": list(entries)}
