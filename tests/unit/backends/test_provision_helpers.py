"""The pure helpers the Azure and GCP provisioners build on: deterministic names and ids, settings parsing,
and the process-wide client factory."""

from __future__ import annotations

import uuid

import pytest
from daytwo.operator.backends.azure import AzureClientFactory
from daytwo.operator.backends.azure._provision import account_name, container_name
from daytwo.operator.backends.gcp import GcpClientFactory, GcpWriteClientFactory
from daytwo.operator.backends.gcp._provision import label_value, request_id
from daytwo.operator.backends.provisioning import ProvisionRequest, ResourceType, provision_kind, setting_list
from daytwo.operator.errors import InvalidRequest


def test_shared_factory_is_one_per_class() -> None:
    assert AzureClientFactory.shared() is AzureClientFactory.shared()
    assert GcpWriteClientFactory.shared() is GcpWriteClientFactory.shared()
    reader: object = GcpClientFactory.shared()
    assert GcpWriteClientFactory.shared() is not reader
    assert type(GcpWriteClientFactory.shared()) is GcpWriteClientFactory


def test_provision_kind_splits_storage() -> None:
    def kind(type: ResourceType, **settings: object) -> str:
        return provision_kind(ProvisionRequest(type, "n", "t", "o", settings=settings))  # type: ignore[arg-type]

    assert kind(ResourceType.VM) == "vm" and kind(ResourceType.NETWORK) == "network"
    assert kind(ResourceType.STORAGE) == "bucket"
    assert kind(ResourceType.STORAGE, storageKind="volume") == "volume"
    with pytest.raises(InvalidRequest, match="storageKind 'tape'"):
        kind(ResourceType.STORAGE, storageKind="tape")


def test_setting_list_reads_tuples_and_comma_strings() -> None:
    assert setting_list({"g": ("a", "", "b")}, "g") == ["a", "b"]
    assert setting_list({"g": "a, b,"}, "g") == ["a", "b"]
    assert setting_list({}, "g") == []


def test_azure_bucket_names_are_deterministic_and_valid() -> None:
    token = str(uuid.uuid4())
    name = account_name(token)
    assert name == account_name(token) != account_name(str(uuid.uuid4()))
    assert len(name) == 24 and name.isalnum() and name == name.lower()
    assert container_name("My--Bucket_1") == "my-bucket-1"
    assert container_name("x") == "x00" and len(container_name("a" * 80)) == 63


def test_gcp_request_ids_and_labels() -> None:
    token = str(uuid.uuid4())
    first = request_id(token, "insert", "web-1")
    assert first == request_id(token, "insert", "web-1") and uuid.UUID(first).version == 5
    assert first != request_id(token, "insert", "web-2") != request_id(str(uuid.uuid4()), "insert", "web-1")
    assert label_value(token) == token, "a uid is a valid label value as it is"
    assert label_value("Team/Ops Prod") == "team_ops_prod" and len(label_value("x" * 99)) == 63
