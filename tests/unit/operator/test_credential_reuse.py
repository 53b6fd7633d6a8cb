"""A user's pass reuses the credential read before while the indexed view (spec, Secret resourceVersion,
status.secretBinding) is unchanged, still checking the opt-in label and the endpoint binding from the
indexed metadata; and the indexed view itself (issue 18 item 2)."""

from __future__ import annotations

from typing import Any

import pytest
from daytwo.operator.handlers.credentials import (
    ResolvedCredential,
    forget_resolved,
    remember_resolved,
    reused_credential,
)
from daytwo.operator.handlers.references_index import (
    BINDING_INDEX,
    CREDENTIALS_INDEX,
    SECRETS_INDEX,
    CredentialView,
    credential_view,
)
from daytwo.operator.reconcile.references import SecretMeta
from daytwo.operator.reconcile.secretaccess import Binding, SecretRefused, endpoint_fingerprint

NS = "team-reuse"
NAME = "os-prod"
SPEC: dict[str, Any] = {
    "provider": "openstack",
    "secretRef": {"name": "os-login"},
    "openstack": {"authUrl": "https://keystone.example:5000/v3"},
}
RULE = {"target": {"credentialsRef": {"kind": "CloudCredential", "name": NAME}}}
UID = "5f0d7a52-3c6e-4f0b-9a51-8d2e1b7c4a90"


def bound(spec: dict[str, Any], version: str = "17") -> dict[str, str]:
    """status.secretBinding after sending Secret version ``version`` where ``spec`` points."""
    return Binding(UID, version, endpoint_fingerprint("CloudCredential", spec)).to_status()


def view(meta: SecretMeta | None, binding: dict[str, str] | None, spec: dict[str, Any] = SPEC) -> CredentialView:
    return CredentialView("CloudCredential", NS, NAME, spec, binding, {"os-login": meta})


@pytest.fixture
def resolved() -> Any:
    """A credential read at Secret resourceVersion 17, kept for reuse; forgotten afterwards."""
    found = ResolvedCredential(NAME, SPEC, {"username": "u", "password": "p"}, "17", None, Binding(UID, "17", "x"), NS)
    remember_resolved(found, {"os-login": "17"})
    yield found
    forget_resolved(NS, NAME)


def test_an_unchanged_view_reuses_the_read_values(resolved: ResolvedCredential) -> None:
    assert reused_credential(view(SecretMeta("17", True), bound(SPEC))) is resolved


def test_a_written_secret_a_changed_spec_or_no_binding_read_again(resolved: ResolvedCredential) -> None:
    assert reused_credential(view(SecretMeta("18", True), bound(SPEC))) is None  # rotated: new values
    assert reused_credential(view(None, bound(SPEC))) is None  # gone: the read names what is missing
    moved = {**SPEC, "openstack": {"authUrl": "https://other.example:5000/v3"}}
    assert reused_credential(view(SecretMeta("17", True), bound(SPEC), spec=moved)) is None
    assert reused_credential(view(SecretMeta("17", True), None)) is None  # unbound: the read checks the others
    forget_resolved(NS, NAME)
    assert reused_credential(view(SecretMeta("17", True), bound(SPEC))) is None


def test_the_label_and_binding_checks_still_run_on_every_reuse(resolved: ResolvedCredential) -> None:
    with pytest.raises(SecretRefused) as refused:
        reused_credential(view(SecretMeta("17", False), bound(SPEC)))
    assert refused.value.reason == "SecretNotAllowed"
    elsewhere = {**SPEC, "openstack": {"authUrl": "https://elsewhere.example:5000/v3"}}
    with pytest.raises(SecretRefused) as not_rebound:  # this very Secret version was sent to another endpoint
        reused_credential(view(SecretMeta("17", True), bound(elsewhere)))
    assert not_rebound.value.reason == "SecretNotRebound"


def test_the_view_comes_from_the_indexes() -> None:
    key = ("CloudCredential", NS, NAME)
    meta = SecretMeta("17", True, frozenset({"username", "password"}))
    indexes = {
        CREDENTIALS_INDEX: {key: [SPEC]},
        SECRETS_INDEX: {(NS, "os-login"): [meta]},
        BINDING_INDEX: {key: [bound(SPEC)]},
    }
    found = credential_view("DriftRule", NS, RULE, indexes)
    assert found == CredentialView("CloudCredential", NS, NAME, SPEC, bound(SPEC), {"os-login": meta})
    unbound = credential_view("DriftRule", NS, RULE, {**indexes, BINDING_INDEX: {}})
    assert unbound is not None and unbound.binding is None
    assert credential_view("DriftRule", NS, RULE, {**indexes, CREDENTIALS_INDEX: {}}) is None
    assert credential_view("DriftRule", NS, RULE, {CREDENTIALS_INDEX: {key: [SPEC]}}) is None
