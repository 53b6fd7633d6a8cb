"""CloudResource decisions with plain data: names, requests, assessment, drift, progress lines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from daytwo.crds.cloudresource import CloudResourceSpec
from daytwo.operator.backends.provisioning import ProvisionedResource, ProvisionState, ResourceType
from daytwo.operator.reconcile.cloudresource import (
    Action,
    append_line,
    assess,
    cloud_name,
    phase_of,
    poll_delay,
    provision_request,
)

UID = str(uuid.uuid4())
VM = {
    "credentialsRef": {"name": "aws-prod"},
    "type": "vm",
    "vm": {"size": "t3.medium", "image": "ami-1", "securityGroups": ["sg-b", "sg-a"], "publicIp": True},
    "tags": {"team": "web"},
}


def spec(body: dict[str, object]) -> CloudResourceSpec:
    return CloudResourceSpec.model_validate(body)


def active(**managed: str) -> ProvisionedResource:
    return ProvisionedResource("i-1", ProvisionState.ACTIVE, {"instance_id": "i-1", "private_ip": "10.0.0.5"}, managed)


def test_cloud_name_is_deterministic_short_and_safe() -> None:
    name = cloud_name("Web.Server_Prod" + "x" * 80, UID)
    assert name == cloud_name("Web.Server_Prod" + "x" * 80, UID)
    assert len(name) <= 63 and name.startswith("d2-web-server-prod") and name.endswith(UID[:8])
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_request_from_vm_spec_uses_uid_as_token_and_owner() -> None:
    request = provision_request(spec(VM), "web", UID)
    assert request.type is ResourceType.VM and request.token == UID and request.owner_tag == UID
    assert request.settings["securityGroups"] == ("sg-b", "sg-a") and request.settings["publicIp"] is True
    assert "subnet" not in request.settings and request.tags == {"team": "web"}


def test_vm_without_security_groups_leaves_the_default_group_unmanaged() -> None:
    body = {**VM, "vm": {"size": "t3.medium", "image": "ami-1"}}
    request = provision_request(spec(body), "web", UID)
    assert "securityGroups" not in request.settings
    outcome = assess(request, active(size="t3.medium", securityGroups="sg-default"), spec_changed=True)
    assert outcome.action is Action.SETTLED and outcome.fields["drift"] == []


def test_request_from_network_spec_lists_subnets() -> None:
    body = {
        "credentialsRef": {"name": "c"},
        "type": "network",
        "network": {"cidr": "10.1.0.0/16", "subnets": [{"name": "a", "cidr": "10.1.1.0/24"}]},
    }
    assert provision_request(spec(body), "net", UID).settings["subnets"] == ("a=10.1.1.0/24",)


def test_creating_waits_and_reports_provisioning() -> None:
    request = provision_request(spec(VM), "web", UID)
    outcome = assess(request, ProvisionedResource("i-1", ProvisionState.CREATING), spec_changed=True)
    assert outcome.action is Action.WAIT
    assert [(u.type, u.status, u.reason) for u in outcome.updates][:2] == [
        ("Ready", False, "Provisioning"),
        ("Reconciling", True, "Provisioning"),
    ]


def test_active_without_changes_settles_and_twice_is_the_same() -> None:
    request = provision_request(spec(VM), "web", UID)
    observed = active(size="t3.medium", securityGroups="sg-a,sg-b", **{"tags.team": "web"})
    first = assess(request, observed, spec_changed=True)
    second = assess(request, observed, spec_changed=False)
    assert first.action is second.action is Action.SETTLED
    assert first.fields == second.fields and first.fields["drift"] == []
    assert first.updates[0].status is True and first.fields["outputs"]["instance_id"] == "i-1"


def test_changed_spec_with_a_difference_updates_in_place() -> None:
    request = provision_request(spec(VM), "web", UID)
    outcome = assess(request, active(size="t3.medium", **{"tags.team": "api"}), spec_changed=True)
    assert outcome.action is Action.UPDATE and "tags.team" in outcome.line


def test_unchanged_spec_reports_drift_without_acting() -> None:
    request = provision_request(spec(VM), "web", UID)
    outcome = assess(request, active(size="t3.large"), spec_changed=False)
    assert outcome.action is Action.SETTLED
    assert outcome.fields["drift"] == [{"field": "size", "desired": "t3.medium", "actual": "t3.large"}]
    assert "drift in size" in outcome.updates[0].message


def test_refused_update_stalls_naming_the_field() -> None:
    request = provision_request(spec(VM), "web", UID)
    outcome = assess(request, active(size="t3.large"), spec_changed=True, refused="vm.size: stop it first")
    ready, stalled = outcome.updates[0], outcome.updates[1]
    assert (ready.reason, stalled.type, stalled.status) == ("UpdateRefused", "Stalled", True)
    assert "vm.size" in ready.message


def test_failed_and_deleted_outside_stop() -> None:
    request = provision_request(spec(VM), "web", UID)
    failed = assess(request, ProvisionedResource("i-1", ProvisionState.FAILED), spec_changed=False)
    gone = assess(request, None, spec_changed=False)
    assert failed.action is gone.action is Action.STOPPED
    assert (failed.updates[0].reason, gone.updates[0].reason) == ("ProvisioningFailed", "ExternallyDeleted")


def test_poll_delay_grows_and_is_capped() -> None:
    assert poll_delay(0) == 1.0 and poll_delay(100) == 10.0 and poll_delay(10_000) == 30.0


def test_lines_are_bounded_and_not_repeated() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    lines: list[dict[str, object]] = []
    for n in range(60):
        lines = append_line(lines, f"line {n}", now)
    assert len(lines) == 50 and lines[-1]["message"] == "line 59" and lines[0]["message"] == "line 10"
    assert append_line(lines, "line 59", now) == lines


def test_phase() -> None:
    assert phase_of([{"type": "Ready", "status": "True", "reason": "Active"}]) == "Active"
    assert phase_of([{"type": "Ready", "status": "False", "reason": "Provisioning"}]) == "Provisioning"
    assert phase_of([{"type": "Ready", "status": "False", "reason": "UpdateRefused"}]) == "Failed"
    assert phase_of([{"type": "Ready", "status": "False", "reason": "CredentialsNotFound"}]) == "Blocked"
