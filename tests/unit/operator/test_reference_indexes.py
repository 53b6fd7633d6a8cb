"""A user's credential checked from memory (indexes of credential specs and Secret metadata), and the cloud
endpoint its passes are limited by."""

from __future__ import annotations

import asyncio
from typing import Any

from daytwo.operator.handlers import references_index
from daytwo.operator.handlers.references_index import (
    CREDENTIALS_INDEX,
    SECRETS_INDEX,
    pass_endpoint,
    reference_check,
    wake_users,
)
from daytwo.operator.handlers.wakeups import WAKE
from daytwo.operator.reconcile.references import (
    ObjectRef,
    SecretMeta,
    credential_endpoint,
    credential_reference_condition,
)

NS = "team-a"
CREDENTIAL = {
    "provider": "openstack",
    "secretRef": {"name": "os-login"},
    "openstack": {"authUrl": "https://keystone.example:5000/v3"},
}
RULE = {"target": {"credentialsRef": {"kind": "CloudCredential", "name": "os-prod"}}}
PASSWORD = SecretMeta("17", True, frozenset({"username", "password"}))


def indexes(credentials: dict[Any, Any], secrets: dict[Any, Any]) -> dict[str, Any]:
    """What Kopf passes handlers: each index maps a key to a collection of values (one object here)."""
    return {
        CREDENTIALS_INDEX: {key: [value] for key, value in credentials.items()},
        SECRETS_INDEX: {key: [value] for key, value in secrets.items()},
    }


def test_a_usable_credential_gives_no_condition() -> None:
    found = indexes({("CloudCredential", NS, "os-prod"): CREDENTIAL}, {(NS, "os-login"): PASSWORD})
    assert reference_check("DriftRule", NS, RULE, found) is None


def test_each_broken_link_is_named() -> None:
    assert reference_check("DriftRule", NS, RULE, indexes({}, {})).reason == "CredentialsNotFound"  # type: ignore[union-attr]
    no_secret = reference_check("DriftRule", NS, RULE, indexes({("CloudCredential", NS, "os-prod"): CREDENTIAL}, {}))
    assert no_secret is not None and no_secret.reason == "CredentialsNotFound" and "os-login" in no_secret.message
    unlabelled = SecretMeta("3", False)
    refused = reference_check(
        "DriftRule", NS, RULE, indexes({("CloudCredential", NS, "os-prod"): CREDENTIAL}, {(NS, "os-login"): unlabelled})
    )
    assert refused is not None and refused.reason == "SecretNotAllowed"
    keyless = SecretMeta("4", True, frozenset({"username"}))
    missing_key = reference_check(
        "DriftRule", NS, RULE, indexes({("CloudCredential", NS, "os-prod"): CREDENTIAL}, {(NS, "os-login"): keyless})
    )
    assert missing_key is not None and missing_key.reason == "CredentialsNotFound" and "password" in missing_key.message


def test_another_namespace_does_not_count() -> None:
    found = indexes({("CloudCredential", "team-b", "os-prod"): CREDENTIAL}, {("team-b", "os-login"): PASSWORD})
    assert reference_check("DriftRule", NS, RULE, found) is not None


def test_without_indexes_the_pass_finds_out_itself() -> None:
    assert reference_check("DriftRule", NS, RULE, {}) is None


def test_condition_from_memory_never_mentions_values() -> None:
    problem = credential_reference_condition(ObjectRef("CloudCredential", "c"), CREDENTIAL, {})
    assert problem is not None and "os-login" in problem.message


def test_endpoints_per_cloud() -> None:
    assert credential_endpoint("CloudCredential", CREDENTIAL) == "openstack:keystone.example:5000"
    assert credential_endpoint("ProxmoxNode", {"host": "pve1", "port": 8006}) == "proxmox:pve1:8006"
    assert (
        credential_endpoint("CloudCredential", {"provider": "aws", "aws": {"region": "eu-west-1"}}) == "aws:eu-west-1"
    )
    aws_local = {"provider": "aws", "aws": {"region": "x", "endpointUrl": "http://127.0.0.1:4566"}}
    assert credential_endpoint("CloudCredential", aws_local) == "aws:127.0.0.1:4566"
    assert credential_endpoint("CloudCredential", {"provider": "azure", "azure": {}}) == "azure:management.azure.com"
    assert credential_endpoint("CloudCredential", {"provider": "gcp", "gcp": {}}) == "gcp:googleapis.com"


def test_a_user_pass_is_limited_by_its_credentials_endpoint() -> None:
    found = indexes({("CloudCredential", NS, "os-prod"): CREDENTIAL}, {})
    assert pass_endpoint("DriftRule", NS, RULE, found) == "openstack:keystone.example:5000"
    assert pass_endpoint("DriftRule", NS, RULE, indexes({}, {})) == f"CloudCredential/{NS}/os-prod"
    assert pass_endpoint("CloudCredential", NS, CREDENTIAL, {}) == "openstack:keystone.example:5000"
    assert pass_endpoint("DriftEvent", NS, {"ruleRef": "r"}, found) is None


async def test_a_credentials_users_are_woken_and_only_they() -> None:
    users = {("CloudCredential", NS, "os-prod"): ["DriftRule/rule-a", "SnapshotPolicy/nightly"]}
    mine, other = asyncio.Event(), asyncio.Event()
    WAKE.register(("DriftRule", NS, "rule-a"), mine)
    WAKE.register(("DriftRule", "team-b", "rule-a"), other)
    try:
        assert wake_users(users, ("CloudCredential", NS, "os-prod")) == 1  # the policy has no daemon waiting here
        assert mine.is_set() and not other.is_set()
        assert wake_users(users, ("CloudCredential", NS, "unused")) == 0
    finally:
        WAKE.unregister(("DriftRule", NS, "rule-a"), mine)
        WAKE.unregister(("DriftRule", "team-b", "rule-a"), other)


def test_which_credentials_name_a_secret_follows_their_specs() -> None:
    key = ("CloudCredential", NS, "os-prod")
    references_index._track_secrets(key, {"os-login", "os-ca"})
    assert references_index._NAMED[(NS, "os-login")] == {key} and (NS, "os-ca") in references_index._NAMED
    references_index._track_secrets(key, {"os-login-v2"})
    assert (NS, "os-login") not in references_index._NAMED and (NS, "os-ca") not in references_index._NAMED
    references_index._track_secrets(key, set())  # deleted
    assert (NS, "os-login-v2") not in references_index._NAMED
