"""CloudCredential + Secret values -> connection parameters of each provider (no network, no cluster)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from daytwo.operator.errors import CredentialsNotFound, InvalidRequest
from daytwo.operator.handlers.credentials import ResolvedCredential, aws_params, azure_params, gcp_params

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def resolved(spec: dict[str, Any], values: dict[str, str], ca: str | None = None) -> ResolvedCredential:
    """A credential as resolve_credential returns it."""
    return ResolvedCredential("prod", spec, values, "7", ca)


def test_aws_params_with_role_endpoint_and_renamed_keys() -> None:
    spec = {
        "provider": "aws",
        "secretRef": {"name": "keys", "keys": {"secretAccessKey": "secret"}},
        "aws": {
            "region": "eu-west-1",
            "assumeRoleArn": "arn:aws:iam::123456789012:role/reader",
            "endpointUrl": "https://aws.example",
        },
    }
    params = aws_params(resolved(spec, {"accessKeyId": "AKIA1", "secret": "s3cr3t", "secretAccessKey": "s3cr3t"}, CA))
    assert (params.access_key_id, params.region, params.endpoint_url) == ("AKIA1", "eu-west-1", "https://aws.example")
    assert params.assume_role_arn == "arn:aws:iam::123456789012:role/reader" and params.ca_bundle_pem == CA
    assert "s3cr3t" not in repr(params)


def test_missing_keys_are_named_as_they_are_in_the_secret() -> None:
    spec = {"provider": "aws", "secretRef": {"name": "keys", "keys": {"secretAccessKey": "secret"}}, "aws": {}}
    with pytest.raises(CredentialsNotFound) as caught:
        aws_params(resolved(spec, {"accessKeyId": "AKIA1"}))
    assert caught.value.message == "Secret 'keys' has no key(s) secret; add them"


def test_azure_params_with_overrides() -> None:
    spec = {
        "provider": "azure",
        "secretRef": {"name": "sp"},
        "azure": {
            "tenantId": "t-1",
            "subscriptionId": "s-1",
            "authorityHost": "https://login.example",
            "managementEndpoint": "https://arm.example",
        },
    }
    params = azure_params(resolved(spec, {"clientId": "app-1", "clientSecret": "pw"}, CA))
    assert (params.tenant_id, params.client_id, params.subscription_id) == ("t-1", "app-1", "s-1")
    assert (params.authority_host, params.management_endpoint) == ("https://login.example", "https://arm.example")
    defaults = azure_params(
        resolved({**spec, "azure": {"tenantId": "t", "subscriptionId": "s"}}, {"clientId": "a", "clientSecret": "b"})
    )
    assert defaults.management_endpoint == "https://management.azure.com"


def test_gcp_params_and_a_malformed_key() -> None:
    key = {"type": "service_account", "client_email": "sa@p.iam", "private_key": "k", "private_key_id": "1"}
    spec = {"provider": "gcp", "secretRef": {"name": "sa"}, "gcp": {"projectId": "my-project-1"}}
    params = gcp_params(resolved(spec, {"serviceAccountJson": json.dumps(key)}))
    assert params.project_id == "my-project-1" and params.service_account_email == "sa@p.iam"
    with pytest.raises(InvalidRequest) as caught:
        gcp_params(resolved(spec, {"serviceAccountJson": "not json {k}"}))
    assert "{k}" not in caught.value.message


def test_a_builder_refuses_another_provider() -> None:
    spec = {"provider": "gcp", "secretRef": {"name": "sa"}, "gcp": {"projectId": "my-project-1"}}
    with pytest.raises(InvalidRequest):
        aws_params(resolved(spec, {}))
