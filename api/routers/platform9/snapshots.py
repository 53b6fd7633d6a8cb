"""pf9 snapshot management: policy sets = SnapshotPolicies, assignments, runs, run-now and SLA compliance."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from daytwo.api.deps import Principal, StoreDep, WriterDep, require
from daytwo.api.errors import ApiError
from daytwo.api.routers.snapshotpolicies import typed_policies, typed_policy
from daytwo.api.store import ObjectStore
from daytwo.api.views.platform9 import models
from daytwo.api.views.platform9 import snapshots as views
from daytwo.api.views.snapshotpolicy import InvalidSpec, Policy, new_spec, spec_body
from daytwo.crds.base import RECONCILE_ANNOTATION, CredentialsKind, CredentialsRef
from daytwo.crds.snapshotpolicy import OpenStackVolumeTargets, Retention, SnapshotPolicySpec, SnapshotTargets
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from ._shared import ERRORS, PathId, audit, memo, not_implemented, policy_targets, volume_rows
from .monitoring import TimedRoute

__all__ = ["router"]

router = APIRouter(tags=["snapshots"], route_class=TimedRoute, responses=ERRORS)

NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
KIND = "SnapshotPolicy"
REQUESTED_BY = "daytwo.io/requested-by"
#: run-now tokens this process set and the store may not show yet (read-your-writes for the 409 check)
_ISSUED: WeakKeyDictionary[ObjectStore, dict[str, str]] = WeakKeyDictionary()
_run_now_lock = threading.Lock()


def _policy(store: ObjectStore, name: str) -> Policy:
    policy = store.get(KIND, name)
    if policy is None:
        raise ApiError(404, f"Snapshot policy {name!r} not found", "NOT_FOUND")
    return typed_policy(policy)


def _policies(store: ObjectStore) -> list[Policy]:
    return typed_policies(store)


@router.get("/snapshot-policies", response_model=models.PolicyList, summary="Snapshot policy sets")
def list_policies(store: StoreDep, user: Principal = require("snapshots:read")) -> dict[str, Any]:
    """Every SnapshotPolicy as a pf9 policy set."""
    rows = memo(store).get("policies", store.version(KIND), lambda: [views.policy_row(p) for p in _policies(store)])
    return {"policies": rows, "total": len(rows)}


@router.get("/snapshot-policies/{policy_id}", response_model=models.PolicySet, summary="One snapshot policy set")
def get_policy(policy_id: PathId, store: StoreDep, user: Principal = require("snapshots:read")) -> dict[str, Any]:
    """One SnapshotPolicy."""
    return views.policy_row(_policy(store, policy_id))


class PolicyBody(BaseModel):
    """A policy set: a named pf9 policy (daily_5) or a cron schedule, over OpenStack volumes of a CloudCredential."""

    credential: str | None = Field(None, description="CloudCredential to act with (required on create).")
    policy_name: str | None = Field(None, description="pf9 named policy, e.g. daily_5 (or set schedule).")
    schedule: str | None = Field(None, description="Cron schedule (or set policy_name).")
    time_zone: str | None = Field(None, description="IANA time zone, default UTC.")
    keep_last: int | None = Field(None, ge=1)
    max_age: str | None = Field(None, description="e.g. 30d")
    sla_days: int | None = Field(None, ge=1)
    suspend: bool | None = None
    volume_ids: list[str] | None = None
    projects: list[str] | None = None
    domains: list[str] | None = None
    volume_metadata: dict[str, str] | None = None


class PolicyCreate(PolicyBody):
    """POST /snapshot-policies."""

    name: str = Field(pattern=NAME, description="SnapshotPolicy name (DNS label).")


#: PolicyBody fields that are SnapshotPolicySpec fields of the same name.
_SPEC_FIELDS = ("policy_name", "schedule", "time_zone", "sla_days", "suspend")
#: Volumes a policy created without selectors covers (pf9 assigns policies by this metadata).
_DEFAULT_TARGETS = OpenStackVolumeTargets(volume_metadata={"auto_snapshot": "true"})


def _selectors(body: PolicyBody) -> OpenStackVolumeTargets:
    return OpenStackVolumeTargets(
        volume_ids=body.volume_ids, projects=body.projects, domains=body.domains, volume_metadata=body.volume_metadata
    )


def _given(body: PolicyBody, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(body, name) for name in names if getattr(body, name) is not None}


def _create_spec(body: PolicyBody) -> dict[str, Any]:
    """The new SnapshotPolicy's spec from the model (only the fields given; the operator applies defaults)."""
    fields: dict[str, Any] = _given(body, _SPEC_FIELDS)
    if body.keep_last is not None or body.max_age is not None:
        fields["retention"] = Retention(**_given(body, ("keep_last", "max_age")))
    selectors = _selectors(body)
    try:
        spec = new_spec(
            credentials_ref=CredentialsRef(kind=CredentialsKind.CLOUD_CREDENTIAL, name=str(body.credential)),
            targets=SnapshotTargets(
                openstack=selectors if selectors.model_dump(exclude_none=True) else _DEFAULT_TARGETS
            ),
            **fields,
        )
    except InvalidSpec as error:
        raise ApiError(422, str(error), "VALIDATION_ERROR") from None
    return spec_body(spec)


def _update_patch(body: PolicyBody) -> dict[str, Any]:
    """A merge patch of the spec: the fields given; a schedule clears policyName and the reverse; retention
    and selectors are replaced as a whole (their other fields null)."""
    fields = _given(body, _SPEC_FIELDS)
    patch: dict[str, Any] = {
        SnapshotPolicySpec.model_fields[name].alias or name: value for name, value in fields.items()
    }
    if body.credential is not None:
        patch["credentialsRef"] = CredentialsRef(kind=CredentialsKind.CLOUD_CREDENTIAL, name=body.credential).to_k8s()
    if body.policy_name is not None:
        patch["schedule"] = None
    if body.schedule is not None:
        patch["policyName"] = None
    if body.keep_last is not None or body.max_age is not None:
        patch["retention"] = Retention(keep_last=body.keep_last, max_age=body.max_age).model_dump(by_alias=True)
    selectors = _selectors(body)
    if selectors.model_dump(exclude_none=True):
        patch["targets"] = {"openstack": selectors.model_dump(by_alias=True)}
    return patch


@router.post("/snapshot-policies", status_code=201, response_model=models.PolicySet, summary="Create a policy set")
def create_policy(
    request: Request, body: PolicyCreate, writer: WriterDep, user: Principal = require("snapshots:admin")
) -> dict[str, Any]:
    """Create a SnapshotPolicy (as the caller); the apiserver's validation messages come back as 422."""
    if not body.credential:
        raise ApiError(422, "credential is required: the CloudCredential whose volumes the policy snapshots")
    created = writer.create(KIND, {"metadata": {"name": body.name}, "spec": _create_spec(body)})
    audit(request, user, "snapshot.policy.create", f"{KIND}/{body.name}")
    return views.policy_row(typed_policy(created))


@router.put("/snapshot-policies/{policy_id}", response_model=models.PolicySet, summary="Update a policy set")
def update_policy(
    request: Request,
    policy_id: PathId,
    body: PolicyBody,
    store: StoreDep,
    writer: WriterDep,
    user: Principal = require("snapshots:admin"),
) -> dict[str, Any]:
    """Merge-patch the SnapshotPolicy's spec with the fields given."""
    _policy(store, policy_id)
    updated = writer.patch(KIND, policy_id, {"spec": _update_patch(body)})
    audit(request, user, "snapshot.policy.update", f"{KIND}/{policy_id}")
    return views.policy_row(typed_policy(updated))


@router.delete("/snapshot-policies/{policy_id}", status_code=204, summary="Delete a policy set")
def delete_policy(
    request: Request,
    policy_id: PathId,
    store: StoreDep,
    writer: WriterDep,
    user: Principal = require("snapshots:admin"),
) -> Response:
    """Delete the SnapshotPolicy (its snapshots stay)."""
    _policy(store, policy_id)
    writer.delete(KIND, policy_id)
    audit(request, user, "snapshot.policy.delete", f"{KIND}/{policy_id}")
    return Response(status_code=204)


@router.get("/snapshot-assignments", response_model=models.AssignmentList, summary="Policy assignments")
def list_assignments(
    store: StoreDep,
    volume_id: str | None = None,
    policy_set_id: str | None = None,
    user: Principal = require("snapshots:read"),
) -> dict[str, Any]:
    """(policy, volume) pairs: the targets each policy's last run resolved plus its explicit volumeIds."""
    rows = memo(store).get(
        "assignments",
        (store.version(KIND), store.version("ConfigMap")),
        lambda: views.assignments(_policies(store), policy_targets(store)),
    )
    chosen = [
        r
        for r in rows
        if (volume_id is None or r["volume_id"] == volume_id)
        and (policy_set_id is None or r["policy_set_id"] == policy_set_id)
    ]
    return {"assignments": chosen, "total": len(chosen)}


class AssignBody(BaseModel):
    """POST /snapshot-assignments."""

    policy_set_id: str = Field(pattern=NAME)
    volume_ids: list[str] = Field(min_length=1, max_length=500)


@router.post("/snapshot-assignments", status_code=201, response_model=models.AssignmentList, summary="Assign volumes")
def assign(
    request: Request, body: AssignBody, store: StoreDep, writer: WriterDep, user: Principal = require("snapshots:admin")
) -> dict[str, Any]:
    """Add the volumes to the policy's targets.openstack.volumeIds."""
    openstack = _policy(store, body.policy_set_id).openstack
    if openstack is None:
        raise ApiError(409, f"Snapshot policy {body.policy_set_id!r} targets Proxmox guests, not OpenStack volumes")
    ids = list(dict.fromkeys([*(openstack.volume_ids or []), *body.volume_ids]))
    updated = writer.patch(KIND, body.policy_set_id, _volume_ids_patch(ids))
    audit(request, user, "snapshot.assign", f"{KIND}/{body.policy_set_id}", volumes=len(body.volume_ids))
    rows = views.assignments([typed_policy(updated)], {})
    chosen = [r for r in rows if r["volume_id"] in set(body.volume_ids)]
    return {"assignments": chosen, "total": len(chosen)}


@router.delete("/snapshot-assignments/{assignment_id}", status_code=204, summary="Remove an assignment")
def unassign(
    request: Request,
    assignment_id: PathId,
    store: StoreDep,
    writer: WriterDep,
    user: Principal = require("snapshots:admin"),
) -> Response:
    """Remove ``<policy>:<volume id>`` from the policy's volumeIds (409 when a selector covers it)."""
    policy_id, _, volume_id = assignment_id.partition(":")
    openstack = _policy(store, policy_id).openstack
    ids = list((openstack.volume_ids if openstack else None) or [])
    if volume_id not in ids:
        raise ApiError(
            409,
            f"Volume {volume_id!r} is not listed in {policy_id}'s volumeIds; it is covered by a selector "
            "(projects, domains or volumeMetadata): change the policy or the volume's metadata instead",
        )
    ids.remove(volume_id)
    writer.patch(KIND, policy_id, _volume_ids_patch(ids or None))
    audit(request, user, "snapshot.unassign", f"{KIND}/{policy_id}", volume=volume_id)
    return Response(status_code=204)


def _volume_ids_patch(ids: list[str] | None) -> dict[str, Any]:
    """The merge patch that sets targets.openstack.volumeIds (None removes it)."""
    volume_ids = OpenStackVolumeTargets.model_fields["volume_ids"].alias or "volume_ids"
    return {"spec": {"targets": {"openstack": {volume_ids: ids}}}}


@router.get("/snapshot-runs", response_model=models.RunList, summary="Snapshot runs")
def list_runs(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    status: Annotated[str | None, Query(pattern="^(pending|running|completed|failed)$")] = None,
    user: Principal = require("snapshots:read"),
) -> dict[str, Any]:
    """Current, last and historical runs of every policy, newest first."""
    rows = memo(store).get("runs", store.version(KIND), lambda: views.run_rows(_policies(store)))
    chosen = [r for r in rows if status is None or r["status"] == status]
    return {"runs": chosen[:limit], "total": len(chosen)}


def _busy(store: ObjectStore, policy: Policy) -> str | None:
    """Why a run-now must wait; also counts the tokens this process set that the cache does not show yet."""
    issued = _ISSUED.setdefault(store, {})
    uid = policy.uid or policy.name
    token = issued.get(uid)
    if token is not None:
        seen = policy.annotations.get(RECONCILE_ANNOTATION)
        if seen is not None and seen >= token:
            del issued[uid]  # the cache caught up: its annotation and status tell the rest
        else:
            return "pending"
    return views.busy_reason(policy)


@router.post(
    "/snapshot/run-now",
    status_code=202,
    response_model=models.RunNowAccepted,
    responses={409: {"description": "A run is already pending or running"}},
    summary="Run snapshot policies now",
)
def run_now(
    request: Request,
    store: StoreDep,
    writer: WriterDep,
    policy: Annotated[str | None, Query(description="Only this SnapshotPolicy (default: every active one)")] = None,
    user: Principal = require("snapshots:admin"),
) -> dict[str, Any]:
    """Annotate the policies with a run-now token; 409 while any of them has a run pending or running."""
    chosen = [_policy(store, policy)] if policy else [p for p in _policies(store) if not p.spec.suspend]
    if not chosen:
        raise ApiError(404, "No active SnapshotPolicy to run; create one first", "NOT_FOUND")
    if policy and chosen[0].spec.suspend:
        raise ApiError(409, f"Snapshot policy {policy!r} is suspended; set suspend false first", "CONFLICT")
    with _run_now_lock:
        if any(_busy(store, p) for p in chosen):
            raise ApiError(409, "An on-demand snapshot pipeline is already pending or running.", "CONFLICT")
        token = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        names = [p.name for p in chosen]
        for name in names:
            writer.annotate(KIND, name, {RECONCILE_ANNOTATION: token, REQUESTED_BY: user.username})
        for chosen_policy in chosen:
            _ISSUED.setdefault(store, {})[chosen_policy.uid or chosen_policy.name] = token
    audit(request, user, "snapshot.run_now", f"{KIND}/{','.join(names)}", token=token)
    return {
        "job_id": names[0] if len(names) == 1 else token,
        "status": "pending",
        "message": "Snapshot run requested: the operator starts it within seconds. "
        "Poll /snapshot/run-now/status for progress.",
        "policies": names,
    }


@router.get("/snapshot/run-now/status", response_model=models.RunNowStatus, summary="On-demand run status")
def run_now_status(
    store: StoreDep,
    job_id: Annotated[str | None, Query(description="A job id run-now returned (default: the newest)")] = None,
    user: Principal = require("snapshots:read"),
) -> dict[str, Any]:
    """Status of the newest (or the given) run-now request, aggregated over the policies it asked."""
    policies = _policies(store)
    tokens = {p.name: p.annotations.get(RECONCILE_ANNOTATION) for p in policies}
    token = tokens.get(job_id) if job_id in tokens else job_id
    if token is None:
        token = max((t for t in tokens.values() if t), default=None)
    return views.run_now_status(policies, token)


@router.get("/snapshot/compliance", response_model=models.Compliance, summary="Snapshot SLA compliance")
def compliance(
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=365)] = 2,
    tenant_id: str | None = None,
    project_id: str | None = None,
    user: Principal = require("snapshots:read"),
) -> dict[str, Any]:
    """The policies' status.sla, per tenant and per policy (each policy evaluated on its own slaDays)."""
    tenant = tenant_id or project_id
    return memo(store).get(
        ("compliance", days, tenant),
        store.version(KIND),
        lambda: views.compliance_report(_policies(store), days, tenant),
    )


@router.get("/dashboard/snapshot-sla-compliance", response_model=models.SlaDashboard, summary="Snapshot SLA by tenant")
def sla_dashboard(
    store: StoreDep, days: Annotated[int, Query(ge=1, le=365)] = 2, user: Principal = require("dashboard:read")
) -> dict[str, Any]:
    """Per-tenant SLA compliance with the volumes out of SLA."""
    return memo(store).get(
        ("sla-dashboard", days), store.version(KIND), lambda: views.sla_dashboard(_policies(store), days)
    )


@router.get("/dashboard/coverage-risks", response_model=models.CoverageRisks, summary="Volumes without snapshots")
def coverage_risks(store: StoreDep, user: Principal = require("dashboard:read")) -> dict[str, Any]:
    """Inventory volumes that no policy's resolved targets cover."""

    def compute() -> dict[str, Any]:
        policies = [p for p in _policies(store) if p.openstack is not None]
        suggestion = policies[0].name if policies else None
        return views.coverage_risks(volume_rows(store), policy_targets(store), suggestion)

    return memo(store).get("coverage", (store.version(KIND), store.version("ConfigMap")), compute)


@router.get(
    "/snapshots", summary="Volume snapshots (not inventoried)", responses={501: {"description": "Not supported"}}
)
def list_snapshots(user: Principal = require("snapshots:read")) -> None:
    """daytwo does not inventory Cinder snapshots."""
    raise not_implemented(
        "Listing volume snapshots",
        "daytwo does not inventory Cinder snapshots; use /snapshot/compliance for SLA and /snapshot-runs for runs",
    )
