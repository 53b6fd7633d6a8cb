"""Which Secrets the operator reads and where it may send them: the opt-in label and the endpoint binding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from daytwo.crds.cloudcredential import CloudCredentialSpec
from daytwo.crds.secrets import CREDENTIAL_SECRET_LABEL, CREDENTIAL_SECRET_LABEL_VALUE, is_credential_secret
from daytwo.operator.reconcile.cloudcredential import (
    AUTH_RETRY_CAP,
    RetryState,
    Validation,
    after_validation,
    secret_problem,
)
from daytwo.operator.reconcile.references import SecretRef, missing_reference_condition
from daytwo.operator.reconcile.secretaccess import (
    Binding,
    Bound,
    binding_decision,
    endpoint_fields,
    endpoint_fingerprint,
    not_allowed_message,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OPENSTACK = {
    "provider": "openstack",
    "secretRef": {"name": "os"},
    "openstack": {"authUrl": "https://keystone.example/v3", "projectName": "p"},
}
NODE = {"host": "pve.example", "port": 8006, "tokenSecretRef": {"name": "tok"}}


def with_block(**changes: Any) -> dict[str, Any]:
    """OPENSTACK with its provider block changed."""
    return {**OPENSTACK, "openstack": {**OPENSTACK["openstack"], **changes}}


def test_only_the_exact_label_opts_in() -> None:
    assert CREDENTIAL_SECRET_LABEL == "daytwo.io/credential" and CREDENTIAL_SECRET_LABEL_VALUE == "true"
    assert is_credential_secret({"daytwo.io/credential": "true"})
    assert not is_credential_secret({"daytwo.io/credential": "false"})
    assert not is_credential_secret({"app": "daytwo-api"})
    assert not is_credential_secret(None)


def test_unlabelled_secret_is_not_allowed_before_its_keys_are_looked_at() -> None:
    ref = SecretRef("daytwo-api-bootstrap-admin", ("username", "password"))
    refused = missing_reference_condition({}, {ref: {"other"}}, {"daytwo-api-bootstrap-admin"})
    assert refused is not None and refused.reason == "SecretNotAllowed"
    assert "kubectl label secret daytwo-api-bootstrap-admin daytwo.io/credential=true" in refused.message
    assert "other" not in refused.message and "username" not in refused.message
    assert missing_reference_condition({}, {ref: {"username", "password"}}) is None


def test_cloudcredential_secret_problem_names_the_label() -> None:
    problem = secret_problem(CloudCredentialSpec.model_validate(OPENSTACK), {"os": {"username", "password"}}, {"os"})
    assert problem is not None and (problem.type, problem.reason) == ("Validated", "SecretNotAllowed")
    assert problem.message == not_allowed_message("os")
    assert secret_problem(CloudCredentialSpec.model_validate(OPENSTACK), {"os": {"username", "password"}}) is None


@pytest.mark.parametrize(
    "change",
    [
        {"authUrl": "https://evil.example/v3"},
        {"interface": "internal"},
        {"caSecretRef": {"name": "ca", "key": "ca.crt"}},
        {"allowInsecureHttp": True},
    ],
)
def test_every_endpoint_field_changes_the_openstack_fingerprint(change: dict[str, Any]) -> None:
    assert endpoint_fingerprint("CloudCredential", with_block(**change)) != endpoint_fingerprint(
        "CloudCredential", OPENSTACK
    )


def test_scope_and_defaults_do_not_change_the_fingerprint() -> None:
    base = endpoint_fingerprint("CloudCredential", OPENSTACK)
    assert endpoint_fingerprint("CloudCredential", with_block(projectName="other", region="R2")) == base
    assert endpoint_fingerprint("CloudCredential", with_block(interface="public", allowInsecureHttp=False)) == base
    assert endpoint_fingerprint("ProxmoxNode", {**NODE, "port": 8006}) == endpoint_fingerprint(
        "ProxmoxNode", {k: v for k, v in NODE.items() if k != "port"}
    )


@pytest.mark.parametrize(
    "change",
    [
        {"host": "10.0.0.9"},
        {"port": 443},
        {"tls": {"insecureSkipVerify": True}},
        {"tls": {"caSecretRef": {"name": "ca", "key": "ca.crt"}}},
    ],
)
def test_every_endpoint_field_changes_the_proxmox_fingerprint(change: dict[str, Any]) -> None:
    assert endpoint_fingerprint("ProxmoxNode", {**NODE, **change}) != endpoint_fingerprint("ProxmoxNode", NODE)


@pytest.mark.parametrize(
    ("provider", "block"),
    [
        ("aws", {"region": "eu-west-1", "endpointUrl": "https://a"}),
        ("azure", {"tenantId": "t", "subscriptionId": "s", "managementEndpoint": "https://a"}),
        ("gcp", {"projectId": "demo-project", "tokenUriOverride": "https://a"}),
    ],
)
def test_public_cloud_endpoint_overrides_change_the_fingerprint(provider: str, block: dict[str, Any]) -> None:
    spec = {"provider": provider, "secretRef": {"name": "s"}, provider: block}
    plain = {**spec, provider: {k: v for k, v in block.items() if not v.startswith("https://")}}
    assert endpoint_fingerprint("CloudCredential", spec) != endpoint_fingerprint("CloudCredential", plain)


def current(spec: dict[str, Any] = OPENSTACK, uid: str = "u1", rv: str = "10") -> Binding:
    """The binding sending the Secret (uid, rv) where ``spec`` says would give."""
    return Binding(uid, rv, endpoint_fingerprint("CloudCredential", spec))


def test_new_object_may_send_an_unbound_secret() -> None:
    assert binding_decision("CloudCredential", OPENSTACK, "os", current(), None, []).allowed


def test_new_object_may_send_a_secret_bound_to_the_same_endpoint() -> None:
    others = [Bound("CloudCredential", "prod", current())]
    assert binding_decision("CloudCredential", OPENSTACK, "os", current(), None, others).allowed


def test_new_object_may_not_send_an_unchanged_bound_secret_elsewhere() -> None:
    elsewhere = with_block(authUrl="https://listener.example/v3")
    others = [Bound("ProxmoxNode", "other", Binding("u9", "10", "x")), Bound("CloudCredential", "prod", current())]
    decision = binding_decision("CloudCredential", elsewhere, "os", current(elsewhere), None, others)
    assert not decision.allowed and decision.reason == "SecretBoundElsewhere"
    assert "CloudCredential/prod" in str(decision.message) and "kubectl annotate secret os" in str(decision.message)
    error = decision.refusal()
    assert (error.reason, error.retryable) == ("SecretBoundElsewhere", False)


def test_new_object_may_send_a_secret_written_since_it_was_bound_elsewhere() -> None:
    elsewhere = with_block(authUrl="https://listener.example/v3")
    others = [Bound("CloudCredential", "prod", current(rv="9"))]
    assert binding_decision("CloudCredential", elsewhere, "os", current(elsewhere), None, others).allowed
    recreated = [Bound("CloudCredential", "prod", current(uid="u0"))]
    assert binding_decision("CloudCredential", elsewhere, "os", current(elsewhere), None, recreated).allowed


def test_same_endpoint_is_allowed_also_after_a_rotation() -> None:
    assert binding_decision("CloudCredential", OPENSTACK, "os", current(), current(), []).allowed
    assert binding_decision("CloudCredential", OPENSTACK, "os", current(rv="11"), current(), []).allowed


def test_moved_endpoint_without_a_rewrite_is_refused() -> None:
    moved = with_block(authUrl="https://listener.example/v3")
    others = [Bound("CloudCredential", "x", Binding("u1", "10", "y"))]  # not consulted once bound
    decision = binding_decision("CloudCredential", moved, "os", current(moved), current(), others)
    assert not decision.allowed and decision.reason == "SecretNotRebound"
    assert str(decision.message).startswith("spec.openstack.authUrl, spec.openstack.interface")
    assert "write Secret 'os' again" in str(decision.message)


def test_moved_endpoint_after_a_rewrite_or_recreate_is_allowed() -> None:
    moved = with_block(authUrl="https://new.example/v3")
    assert binding_decision("CloudCredential", moved, "os", current(moved, rv="11"), current(), []).allowed
    assert binding_decision("CloudCredential", moved, "os", current(moved, uid="u2"), current(), []).allowed


def test_binding_round_trips_through_status() -> None:
    binding = current()
    assert Binding.from_status({"secretBinding": binding.to_status()}) == binding
    assert Binding.from_status({}) is None and Binding.from_status(None) is None
    assert Binding.from_status({"secretBinding": {"secretUid": "u"}}) is None


def test_fields_named_per_kind() -> None:
    assert endpoint_fields("ProxmoxNode", NODE) == "spec.host, spec.port or spec.tls"
    aws = {"provider": "aws", "secretRef": {"name": "s"}, "aws": {"region": "eu-west-1"}}
    assert endpoint_fields("CloudCredential", aws).endswith("or spec.aws.allowInsecureHttp")


def test_auth_failure_is_retried_with_backoff_up_to_the_interval() -> None:
    rejected = Validation("AuthFailed", "wrong password", reached_cloud=True, retryable=False)
    first = after_validation(RetryState(), rejected, NOW, (2.0, 240.0), 3600.0, 30.0)
    assert first.failures == 1 and first.not_before is not None
    assert (first.not_before - NOW).total_seconds() == 30.0
    later = first
    for _ in range(20):
        later = after_validation(later, rejected, NOW, (2.0, 240.0), 600.0, 30.0)
    assert later.not_before is not None and (later.not_before - NOW).total_seconds() == 600.0
    capped = after_validation(later, rejected, NOW, (2.0, 240.0), 86400.0, 30.0)
    assert capped.not_before is not None and capped.not_before - NOW == AUTH_RETRY_CAP


def test_other_terminal_failures_wait_the_interval_and_success_clears() -> None:
    denied = Validation("PermissionDenied", "no", reached_cloud=True)
    state = after_validation(RetryState(), denied, NOW, (2.0, 240.0), 3600.0, 30.0)
    assert state.not_before is not None and (state.not_before - NOW).total_seconds() == 3600.0
    ok = Validation(None, "fine", reached_cloud=True)
    assert after_validation(state, ok, NOW, (2.0, 240.0), 3600.0, 30.0) == RetryState()
