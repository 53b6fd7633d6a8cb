"""The credential users index: which credentials a user names, and the users of one credential."""

from __future__ import annotations

from daytwo.operator.handlers.users_index import referenced, users_in


def test_a_user_names_its_credential_by_kind_in_its_namespace() -> None:
    policy = {"credentialsRef": {"kind": "ProxmoxNode", "name": "pve"}, "targets": {}}
    assert referenced("SnapshotPolicy", "ns", policy) == {("ProxmoxNode", "ns", "pve")}
    rule = {"target": {"credentialsRef": {"name": "prod"}, "resourceType": "server"}}
    assert referenced("DriftRule", "ns", rule) == {("CloudCredential", "ns", "prod")}
    assert referenced("DriftRule", "ns", {"target": {"resourceType": "server"}}) == frozenset()


def test_users_of_one_credential_sorted_and_deduplicated() -> None:
    index = {
        ("CloudCredential", "ns", "prod"): ["SnapshotPolicy/b", "DriftRule/a", "DriftRule/a"],
        ("CloudCredential", "other", "prod"): ["DriftRule/x"],
    }
    assert users_in(index, "CloudCredential", "ns", "prod") == ["DriftRule/a", "SnapshotPolicy/b"]
    assert users_in(index, "ProxmoxNode", "ns", "prod") == []
