"""What each kind references, and the condition when something is missing."""

from __future__ import annotations

from daytwo.operator.reconcile.references import (
    ObjectRef,
    SecretRef,
    missing_reference_condition,
    object_refs,
    secret_refs,
)


def test_credentials_ref_of_each_shape() -> None:
    assert object_refs("SnapshotPolicy", {"credentialsRef": {"kind": "ProxmoxNode", "name": "p"}}) == [
        ObjectRef("ProxmoxNode", "p")
    ]
    assert object_refs("DriftRule", {"target": {"credentialsRef": {"name": "c"}}}) == [
        ObjectRef("CloudCredential", "c")
    ]
    assert object_refs("DriftEvent", {"ruleRef": "r"}) == [ObjectRef("DriftRule", "r")]
    assert object_refs("CloudCredential", {"provider": "aws"}) == []


def test_secret_refs_follow_renamed_keys() -> None:
    spec = {
        "provider": "aws",
        "secretRef": {"name": "s", "keys": {"accessKeyId": "AK"}},
        "aws": {"region": "eu-west-1"},
    }
    assert secret_refs("CloudCredential", spec) == [SecretRef("s", ("AK", "secretAccessKey"))]
    node = {"tokenSecretRef": {"name": "t"}, "tls": {"caSecretRef": {"name": "ca", "key": "ca.crt"}}}
    assert secret_refs("ProxmoxNode", node) == [
        SecretRef("t", ("tokenId", "tokenSecret")),
        SecretRef("ca", ("ca.crt",)),
    ]


def test_openstack_accepts_password_or_application_credential() -> None:
    spec = {"provider": "openstack", "secretRef": {"name": "s"}, "openstack": {"authUrl": "http://k"}}
    [ref] = secret_refs("CloudCredential", spec)
    assert missing_reference_condition({}, {ref: {"applicationCredentialId", "applicationCredentialSecret"}}) is None
    assert missing_reference_condition({}, {ref: {"username", "password"}}) is None
    missing = missing_reference_condition({}, {ref: {"username"}})
    assert missing is not None and missing.reason == "KeyMissing"
    assert "username+password or applicationCredentialId+applicationCredentialSecret" in missing.message


def test_missing_conditions_name_what_to_create() -> None:
    update = missing_reference_condition({ObjectRef("CloudCredential", "c"): False}, {})
    assert update is not None and update.reason == "CredentialsNotFound" and "'c'" in update.message
    update = missing_reference_condition({ObjectRef("DriftRule", "r"): False}, {})
    assert update is not None and update.reason == "ReferenceNotFound"
    update = missing_reference_condition({}, {SecretRef("s", ("k",)): None})
    assert update is not None and update.reason == "SecretNotFound"
    update = missing_reference_condition({}, {SecretRef("s", ("k", "j")): {"k"}})
    assert update is not None and update.reason == "KeyMissing" and "j" in update.message
    assert (
        missing_reference_condition({ObjectRef("CloudCredential", "c"): True}, {SecretRef("s", ("k",)): {"k"}}) is None
    )
