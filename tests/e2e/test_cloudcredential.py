"""CloudCredential end to end: the real operator validates and inventories OpenStack, AWS, Azure and GCP.

OpenStack is the stand-in (seed "small", on a free port); AWS is moto in server mode with signature
checking on (a wrong secret really fails); Azure and GCP are the TLS stand-ins. Each runs in this test
process on a free port (no clash with the fixed ports of `make demo`); the operator reaches them over
loopback like any cloud. The example credential's Ready=True is test_foundation's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import credential_secret
from tests.standins.aws import AwsStandin, Fault, run_moto
from tests.standins.azure import AzureStandin, run_azure
from tests.standins.gcp import GcpStandin, run_gcp
from tests.standins.openstack.fixtures import StandIn, running_standin

from .conftest import condition, wait_for_condition

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

NS = "cc-e2e"
AWS_ESTATE = {"vms": 6, "storage": 6 + 2, "networks": 1 + 1}  # root volumes; the default VPC
AZURE_ESTATE = {"vms": 3, "storage": 3 + 1, "networks": 2}  # every VM has an OS disk
GCP_ESTATE = {"vms": 3, "storage": 3 + 1, "networks": 2}  # every instance has a boot disk


@pytest.fixture(scope="module")
def openstack() -> Iterator[StandIn]:
    """Keystone + Nova + Cinder + Neutron with the "small" estate."""
    with running_standin("small", clock_mode="real") as standin:
        yield standin


@pytest.fixture(scope="module")
def moto() -> Iterator[AwsStandin]:
    """moto with IAM auth on: users daytwo / daytwo-noec2, 6 instances, 2 volumes, 1 VPC."""
    with run_moto(instances=6, volumes=2, vpcs=1, batch=3) as standin:
        yield standin


@pytest.fixture(scope="module")
def azure() -> Iterator[AzureStandin]:
    """Entra + ARM over TLS: 3 VMs, 1 data disk, 2 VNets."""
    with run_azure(vms=3, disks=1, vnets=2, page_size=2) as standin:
        yield standin


@pytest.fixture(scope="module")
def gcp() -> Iterator[GcpStandin]:
    """OAuth + Compute over TLS: 3 instances, 1 data disk, 2 networks."""
    with run_gcp(instances=3, disks=1, networks=2, page_size=2) as standin:
        yield standin


def secret(name: str, data: dict[str, str], namespace: str = NS) -> str:
    """A Secret manifest."""
    return json.dumps(credential_secret(name, namespace, data))


@pytest.fixture(scope="module")
def namespace(
    kubectl: Kubectl,
    operator: DaytwoProcess,
    openstack: StandIn,
    moto: AwsStandin,
    azure: AzureStandin,
    gcp: GcpStandin,
) -> str:
    """A namespace with a good, a wrong and an incomplete Secret per provider, and the stand-ins' CAs."""
    kubectl.run("create", "namespace", NS)
    admin = openstack.info
    secrets = {
        "openstack": {"username": admin.admin_username, "password": admin.admin_password},
        "openstack-wrong": {"username": admin.admin_username, "password": str(uuid.uuid4())},
        "aws": {"accessKeyId": moto.access_key_id, "secretAccessKey": moto.secret_access_key},
        "aws-wrong": {"accessKeyId": moto.access_key_id, "secretAccessKey": "x" + moto.secret_access_key[1:]},
        "aws-noec2": {"accessKeyId": moto.noec2_access_key_id, "secretAccessKey": moto.noec2_secret_access_key},
        "aws-nokey": {"accessKeyId": moto.access_key_id},
        "azure": {"clientId": azure.client_id, "clientSecret": azure.client_secret},
        "azure-wrong": {"clientId": azure.client_id, "clientSecret": str(uuid.uuid4())},
        "gcp": {"serviceAccountJson": gcp.service_account_json},
        "gcp-forged": {"serviceAccountJson": gcp.forged_service_account_json},
        "standin-ca": {"azure.crt": azure.ca_pem, "gcp.crt": gcp.ca_pem},
    }
    for name, data in secrets.items():
        kubectl.apply(secret(name, data))
    return NS


def credential(name: str, provider: str, secret_name: str, stand: dict[str, Any], **spec: Any) -> str:
    """A CloudCredential manifest for one of the stand-ins (``stand`` maps provider -> provider block)."""
    body = {
        "provider": provider,
        "secretRef": {"name": secret_name},
        provider: stand[provider],
        "validationIntervalSeconds": 3600,
        "inventory": {"enabled": True, "intervalSeconds": 900},
        **spec,
    }
    return json.dumps(
        {
            "apiVersion": "daytwo.io/v1alpha1",
            "kind": "CloudCredential",
            "metadata": {"name": name, "namespace": NS},
            "spec": body,
        }
    )


@pytest.fixture(scope="module")
def blocks(
    namespace: str, openstack: StandIn, moto: AwsStandin, azure: AzureStandin, gcp: GcpStandin
) -> dict[str, Any]:
    """The provider block of each stand-in."""
    return {
        "openstack": {
            "authUrl": openstack.auth_url,
            "allowInsecureHttp": True,  # the stand-ins are plain http on loopback
            "region": openstack.model.region,
            "projectName": openstack.info.admin_project,
        },
        "aws": {"region": moto.region, "endpointUrl": moto.url, "allowInsecureHttp": True},
        "azure": {
            "tenantId": azure.tenant_id,
            "subscriptionId": azure.subscription_id,
            "authorityHost": azure.url,
            "managementEndpoint": azure.url,
            "caSecretRef": {"name": "standin-ca", "key": "azure.crt"},
        },
        "gcp": {
            "projectId": gcp.project_id,
            "endpointOverride": gcp.url,
            "tokenUriOverride": gcp.token_uri,
            "caSecretRef": {"name": "standin-ca", "key": "gcp.crt"},
        },
    }


def inventory_records(kubectl: Kubectl, name: str, namespace: str = NS) -> list[dict[str, Any]]:
    """Every record in the credential's inventory ConfigMaps, following the head's manifest."""
    head = kubectl.get("configmap", f"{name}-inventory", namespace)
    manifest = json.loads(head["data"]["manifest.json"])
    records: list[dict[str, Any]] = []
    for chunk in manifest["chunks"]:
        data = (
            head["data"]
            if chunk["name"] == head["metadata"]["name"]
            else kubectl.get("configmap", chunk["name"], namespace)["data"]
        )
        records.extend(json.loads(data["records.json"]))
    return records


def secret_version(kubectl: Kubectl, name: str, namespace: str = NS) -> str:
    """The Secret's resourceVersion now."""
    return str(kubectl.get("secret", name, namespace)["metadata"]["resourceVersion"])


@pytest.mark.parametrize(
    ("provider", "principal", "counts"),
    [
        ("openstack", None, None),
        ("aws", "arn:aws:iam::123456789012:user/daytwo", AWS_ESTATE),
        ("azure", None, AZURE_ESTATE),
        ("gcp", None, GCP_ESTATE),
    ],
)
def test_each_provider_validates_and_syncs_inventory(
    kubectl: Kubectl,
    blocks: dict[str, Any],
    openstack: StandIn,
    azure: AzureStandin,
    gcp: GcpStandin,
    provider: str,
    principal: str | None,
    counts: dict[str, int] | None,
) -> None:
    name = f"good-{provider}"
    kubectl.apply(credential(name, provider, provider, blocks))
    ready = wait_for_condition(kubectl, "d2cc", name, "Ready", "True", namespace=NS, timeout=90)
    status = ready["status"]
    expected = (
        principal
        or {
            "openstack": openstack.info.admin_username,
            "azure": azure.client_id,
            "gcp": gcp.reader.key_json["client_email"],
        }[provider]
    )
    assert status["identity"]["principal"] == expected
    assert condition(ready, "Validated")["reason"] == "Validated"
    assert condition(ready, "InventorySynced")["reason"] == "Synced"
    assert status["secretResourceVersion"] == secret_version(kubectl, provider)
    assert status["observedGeneration"] == ready["metadata"]["generation"]
    if counts is not None:
        assert status["inventory"]["counts"] == counts
    records = inventory_records(kubectl, name)
    assert len(records) == sum(status["inventory"]["counts"].values()) > 0
    assert {r["provider"] for r in records} == {provider}
    assert {r["type"] for r in records} == {"vm", "storage", "network"}
    head = kubectl.get("configmap", f"{name}-inventory", NS)
    assert head["metadata"]["labels"]["daytwo.io/credential"] == name
    assert head["metadata"]["ownerReferences"][0]["uid"] == ready["metadata"]["uid"]


def test_turning_inventory_off_removes_it(kubectl: Kubectl, blocks: dict[str, Any]) -> None:
    kubectl.apply(credential("toggled", "gcp", "gcp", blocks))
    wait_for_condition(kubectl, "d2cc", "toggled", "InventorySynced", "True", "Synced", NS, timeout=90)
    assert exists(kubectl, "configmap", "toggled-inventory")
    kubectl.apply(credential("toggled", "gcp", "gcp", blocks, inventory={"enabled": False}))
    off = wait_for_condition(kubectl, "d2cc", "toggled", "InventorySynced", "True", "Disabled", NS)
    assert condition(off, "Ready")["status"] == "True"
    wait_until(lambda: "inventory" not in kubectl.get("d2cc", "toggled", NS)["status"], 30, "status.inventory gone")
    assert not exists(kubectl, "configmap", "toggled-inventory")


@pytest.mark.parametrize(
    ("case", "provider", "secret_name", "reason"),
    [
        ("wrong-openstack", "openstack", "openstack-wrong", "AuthFailed"),
        ("wrong-aws", "aws", "aws-wrong", "AuthFailed"),
        ("wrong-azure", "azure", "azure-wrong", "AuthFailed"),
        ("forged-gcp", "gcp", "gcp-forged", "AuthFailed"),
        ("missing-key", "aws", "aws-nokey", "KeyMissing"),
        ("missing-secret", "azure", "no-such-secret", "SecretNotFound"),
    ],
)
def test_validation_failures_have_reasons(
    kubectl: Kubectl, blocks: dict[str, Any], case: str, provider: str, secret_name: str, reason: str
) -> None:
    kubectl.apply(credential(case, provider, secret_name, blocks))
    failed = wait_for_condition(kubectl, "d2cc", case, "Validated", "False", reason=reason, namespace=NS)
    ready, stalled = condition(failed, "Ready"), condition(failed, "Stalled")
    assert ready is not None and (ready["status"], ready["reason"]) == ("False", reason)
    assert stalled is not None and stalled["status"] == "True"
    assert condition(failed, "InventorySynced")["reason"] == "NotValidated"


def test_permission_denied_for_inventory(kubectl: Kubectl, blocks: dict[str, Any]) -> None:
    """A key that authenticates but may not describe EC2: Validated, but InventorySynced=False PermissionDenied."""
    kubectl.apply(credential("noec2", "aws", "aws-noec2", blocks))
    failed = wait_for_condition(kubectl, "d2cc", "noec2", "InventorySynced", "False", "PermissionDenied", NS)
    assert condition(failed, "Validated")["status"] == "True"
    assert condition(failed, "Ready")["reason"] == "PermissionDenied"
    assert "ec2:Describe" in condition(failed, "InventorySynced")["message"]


def test_deleted_secret_is_reported_then_recreated(kubectl: Kubectl, blocks: dict[str, Any], moto: AwsStandin) -> None:
    kubectl.apply(secret("aws-deleted", {"accessKeyId": moto.access_key_id, "secretAccessKey": moto.secret_access_key}))
    kubectl.apply(credential("deleted", "aws", "aws-deleted", blocks))
    wait_for_condition(kubectl, "d2cc", "deleted", "Ready", "True", namespace=NS, timeout=90)
    kubectl.run("delete", "secret", "aws-deleted", "-n", NS)
    gone = wait_for_condition(kubectl, "d2cc", "deleted", "Validated", "False", reason="SecretNotFound", namespace=NS)
    assert "secretResourceVersion" not in gone["status"]
    kubectl.apply(secret("aws-deleted", {"accessKeyId": moto.access_key_id, "secretAccessKey": moto.secret_access_key}))
    back = wait_for_condition(kubectl, "d2cc", "deleted", "Ready", "True", namespace=NS, timeout=90)
    assert back["status"]["secretResourceVersion"] == secret_version(kubectl, "aws-deleted")


def test_provider_outage_is_reported_and_heals(kubectl: Kubectl, blocks: dict[str, Any], moto: AwsStandin) -> None:
    moto.server.add_fault(Fault(status=503, code="ServiceUnavailable", service="sts", times=None))
    try:
        kubectl.apply(credential("outage", "aws", "aws", blocks))
        down = wait_for_condition(kubectl, "d2cc", "outage", "Validated", "False", reason="Unavailable", namespace=NS)
        assert condition(down, "Ready")["reason"] == "Unavailable"
        assert condition(down, "Stalled") is None, "an outage heals by itself: not stalled"
        assert condition(down, "Reconciling")["reason"] == "Retrying"
        assert "lastValidatedTime" not in down["status"], "an outage is not a validation"
    finally:
        moto.server.clear_faults()
    wait_for_condition(kubectl, "d2cc", "outage", "Ready", "True", namespace=NS, timeout=90)


def test_rotated_secret_is_revalidated_at_once(kubectl: Kubectl, blocks: dict[str, Any], moto: AwsStandin) -> None:
    """With an hour between validations, rotating the Secret (wrong -> right key) revalidates it at once."""
    kubectl.apply(secret("aws-rotating", {"accessKeyId": moto.access_key_id, "secretAccessKey": "not-the-key"}))
    kubectl.apply(credential("rotating", "aws", "aws-rotating", blocks))
    wait_for_condition(kubectl, "d2cc", "rotating", "Validated", "False", reason="AuthFailed", namespace=NS)
    kubectl.apply(
        secret("aws-rotating", {"accessKeyId": moto.access_key_id, "secretAccessKey": moto.secret_access_key})
    )
    rotated = wait_for_condition(kubectl, "d2cc", "rotating", "Ready", "True", namespace=NS, timeout=30)
    assert rotated["status"]["secretResourceVersion"] == secret_version(kubectl, "aws-rotating")
    kubectl.apply(secret("aws-rotating", {"accessKeyId": moto.access_key_id, "secretAccessKey": "revoked"}))
    wait_for_condition(kubectl, "d2cc", "rotating", "Validated", "False", reason="AuthFailed", namespace=NS, timeout=30)


def test_referenced_credential_deletion_waits_for_its_users(
    kubectl: Kubectl, operator: DaytwoProcess, blocks: dict[str, Any]
) -> None:
    kubectl.apply(credential("shared", "openstack", "openstack", blocks))
    policy = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": {"name": "uses-shared", "namespace": NS},
        "spec": {
            "credentialsRef": {"kind": "CloudCredential", "name": "shared"},
            "targets": {"openstack": {"volumeMetadata": {"auto_snapshot": "true"}}},
            "policyName": "daily_5",
        },
    }
    kubectl.apply(json.dumps(policy))
    wait_until(
        lambda: (
            {"kind": "SnapshotPolicy", "name": "uses-shared"}
            in (kubectl.get("d2cc", "shared", NS).get("status", {}).get("users") or [])
        ),
        60,
        "the user listed in status.users",
    )
    wait_for_condition(kubectl, "d2cc", "shared", "InventorySynced", "True", namespace=NS, timeout=90)
    kubectl.run("delete", "d2cc", "shared", "-n", NS, "--wait=false")

    wait_until(
        lambda: "CloudCredential is in use by SnapshotPolicy/uses-shared" in operator.log(),
        60,
        "the deletion refused while in use",
    )
    assert kubectl.get("d2cc", "shared", NS)["metadata"]["deletionTimestamp"]
    kubectl.run("delete", "d2sp", "uses-shared", "-n", NS)
    wait_until(lambda: not exists(kubectl, "d2cc", "shared"), 60, "the credential deleted once unreferenced")
    wait_until(lambda: not exists(kubectl, "configmap", "shared-inventory"), 60, "its inventory garbage-collected")


def exists(kubectl: Kubectl, kind: str, name: str) -> bool:
    """Whether the object exists in the test namespace."""
    return (
        kubectl.run("get", kind, name, "-n", NS, "--ignore-not-found", "-o", "name", check=False).stdout.strip() != ""
    )


def billing_document(kubectl: Kubectl, name: str) -> dict[str, Any]:
    """The credential's billing.json, checking the ConfigMap's labels and owner on the way."""
    body = kubectl.get("configmap", f"{name}-billing", NS)
    assert body["metadata"]["labels"]["daytwo.io/billing-of"] == name
    assert body["metadata"]["labels"]["app.kubernetes.io/part-of"] == "daytwo"
    assert body["metadata"]["ownerReferences"][0]["uid"] == kubectl.get("d2cc", name, NS)["metadata"]["uid"]
    document: dict[str, Any] = json.loads(body["data"]["billing.json"])
    return document


def test_aws_billing_from_cost_explorer(kubectl: Kubectl, blocks: dict[str, Any], moto: AwsStandin) -> None:
    """moto answers GetCostAndUsage with what was queued for it (it tracks no cost itself)."""
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    moto.set_cost_results(
        [
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                        "Total": {},
                        "Groups": [
                            {
                                "Keys": ["Amazon Elastic Compute Cloud - Compute"],
                                "Metrics": {"UnblendedCost": {"Amount": "2.5", "Unit": "USD"}},
                            }
                        ],
                        "Estimated": True,
                    }
                    for day in sorted({first, today})
                ]
            }
        ]
    )
    kubectl.apply(credential("billed-aws", "aws", "aws", blocks, billing={"enabled": True}))
    done = wait_for_condition(kubectl, "d2cc", "billed-aws", "BillingSynced", "True", "CostExplorer", NS, timeout=90)
    assert done["status"]["billing"]["source"] == "cost-explorer"
    document = billing_document(kubectl, "billed-aws")
    assert (document["source"], document["priceTable"], document["provider"]) == ("cost-explorer", None, "aws")
    days = {day["date"]: day["services"] for day in document["days"]}
    assert min(days) == (first - timedelta(days=1)).replace(day=1).isoformat() and max(days) == today.isoformat()
    assert days[today.isoformat()] == {"Amazon Elastic Compute Cloud - Compute": 2.5}
    assert condition(done, "Ready")["status"] == "True"


def test_gcp_billing_is_an_estimate_and_goes_with_the_switch(kubectl: Kubectl, blocks: dict[str, Any]) -> None:
    kubectl.apply(credential("billed-gcp", "gcp", "gcp", blocks, billing={"enabled": True}))
    done = wait_for_condition(kubectl, "d2cc", "billed-gcp", "BillingSynced", "True", "Estimated", NS, timeout=90)
    assert "price table daytwo-list-prices-" in condition(done, "BillingSynced")["message"]
    document = billing_document(kubectl, "billed-gcp")
    assert document["source"] == "estimate" and document["priceTable"].startswith("daytwo-list-prices-")
    assert document["days"][-1]["date"] == datetime.now(UTC).date().isoformat()
    assert sum(day["services"].get("Compute Engine", 0) for day in document["days"]) > 0
    kubectl.apply(credential("billed-gcp", "gcp", "gcp", blocks, billing={"enabled": False}))
    wait_for_condition(kubectl, "d2cc", "billed-gcp", "BillingSynced", "True", "Disabled", NS)
    wait_until(lambda: not exists(kubectl, "configmap", "billed-gcp-billing"), 30, "the billing ConfigMap removed")


def test_billing_rules_are_checked_by_the_apiserver(kubectl: Kubectl, blocks: dict[str, Any]) -> None:
    refused = kubectl.run(
        "apply",
        "-f",
        "-",
        input=credential("ce-gcp", "gcp", "gcp", blocks, billing={"source": "cost-explorer"}),
        check=False,
    )
    assert refused.returncode != 0 and "billing.source cost-explorer is for provider aws" in refused.stderr
    no_inventory = credential("est-gcp", "gcp", "gcp", blocks, inventory={"enabled": False}, billing={"enabled": True})
    refused = kubectl.run("apply", "-f", "-", input=no_inventory, check=False)
    assert refused.returncode != 0 and "billing estimates are computed from the inventory" in refused.stderr


def test_secret_values_never_leak(
    kubectl: Kubectl,
    namespace: str,
    operator: DaytwoProcess,
    openstack: StandIn,
    moto: AwsStandin,
    azure: AzureStandin,
    gcp: GcpStandin,
) -> None:
    """Operator log, Events, every CloudCredential's status and every ConfigMap: no Secret value anywhere."""
    wait_for_condition(kubectl, "d2cc", "good-gcp", "Ready", "True", namespace=NS)
    values = [
        openstack.info.admin_password,
        moto.secret_access_key,
        moto.noec2_secret_access_key,
        azure.client_secret,
        gcp.reader.key_json["private_key"].splitlines()[1],
        *azure.issued_tokens(),
        *gcp.issued_tokens(),
    ]
    everything = [
        operator.log(),
        kubectl.run("get", "events", "-A", "-o", "json").stdout,
        kubectl.run("get", "d2cc", "-A", "-o", "json").stdout,
        kubectl.run("get", "configmaps", "-A", "-o", "json").stdout,
    ]
    assert all(values), "every value is non-empty"
    for text in everything:
        for value in values:
            assert value not in text
