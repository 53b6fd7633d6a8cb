"""multicloud views with plain data: credential bodies, inventory items, billing and dashboard numbers."""

from __future__ import annotations

import json
from datetime import date

import pytest
from daytwo.api.views.multicloud import billing, credentials, dashboard
from daytwo.api.views.multicloud.inventory import InventoryIndex, item_id, page

from .data import billing as billing_cm
from .data import credential, inventory, records

TODAY = date(2026, 12, 10)


def test_aws_create_body_becomes_secret_and_credential() -> None:
    body = {
        "provider": "aws",
        "name": "AWS Production Account",
        "access_key": "AKIA",
        "secret_key": "s3cr3t",
        "region": "us-east-1",
        "endpoint_url": "http://moto:5000",
        "inventory": None,
    }
    secret, data, manifest = credentials.credential_manifests(body, "alice")
    assert secret == "aws-production-account-credentials"
    assert data == {"accessKeyId": "AKIA", "secretAccessKey": "s3cr3t"}
    assert manifest["metadata"]["name"] == "aws-production-account"
    assert manifest["metadata"]["annotations"] == {
        "daytwo.io/display-name": "AWS Production Account",
        "daytwo.io/created-by": "alice",
    }
    spec = manifest["spec"]
    assert spec["aws"] == {"region": "us-east-1", "endpointUrl": "http://moto:5000"}
    assert spec["secretRef"] == {"name": secret}
    assert spec["inventory"] == {"enabled": True} and spec["billing"] == {"enabled": True}
    assert "s3cr3t" not in json.dumps(manifest)


def test_gcp_project_comes_from_the_key_and_azure_region_is_a_label() -> None:
    key = json.dumps({"type": "service_account", "project_id": "proj-123456"})
    _, data, manifest = credentials.credential_manifests(
        {"provider": "gcp", "name": "g", "service_account_json": key}, "u"
    )
    assert manifest["spec"]["gcp"] == {"projectId": "proj-123456"} and data == {"serviceAccountJson": key}
    _, _, azure = credentials.credential_manifests(
        {
            "provider": "azure",
            "name": "Azure Main",
            "tenant_id": "t",
            "subscription_id": "s",
            "client_id": "c",
            "client_secret": "x",
            "region": "eastus",
        },
        "u",
    )
    assert azure["metadata"]["annotations"]["daytwo.io/region"] == "eastus"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"provider": "aws", "name": "a", "access_key": "k"}, "needs region, access_key, secret_key"),
        ({"provider": "gcp", "name": "g", "service_account_json": "nope"}, "not a service account key"),
        ({"provider": "aws", "name": "!!!", "access_key": "k", "secret_key": "s", "region": "r"}, "letter or digit"),
        ({"provider": "ibm", "name": "x"}, "provider must be one of"),
    ],
)
def test_bad_bodies_say_what_is_missing(body: dict, message: str) -> None:
    with pytest.raises(credentials.InvalidCredential, match=message):
        credentials.credential_manifests(body, "u")


def test_names_and_updates() -> None:
    assert credentials.credential_name("  9 Lives -- Prod ") == "c-9-lives-prod"
    data, patch = credentials.update_patches("aws", {"secret_key": "new", "name": "Renamed", "inventory": False})
    assert data == {"secretAccessKey": "new"}
    assert patch == {
        "metadata": {"annotations": {"daytwo.io/display-name": "Renamed"}},
        "spec": {"inventory": {"enabled": False}},
    }
    assert credentials.update_patches("aws", {}) == ({}, {})


def test_credential_item_has_no_secret_and_reports_validation() -> None:
    item = credentials.credential_item(credential("prod", "aws"))
    assert item["id"] == "prod" and item["name"] == "PROD account" and item["region"] == "eu-west-1"
    assert item["is_active"] is True and item["status"] == "Ready" and item["principal"] == "prod-principal"
    bad = credentials.credential_item(credential("old", "aws", valid=False))
    assert (bad["is_active"], bad["status"]) == (False, "AuthFailed")


def test_inventory_items_from_chunked_configmaps() -> None:
    aws, gcp = credential("prod", "aws"), credential("lab", "gcp")
    maps = inventory(aws, records("aws", "eu-west-1", 30), budget=2_000) + inventory(
        gcp, records("gcp", "us-central1", 2)
    )
    assert len(maps) > 3  # several chunks
    index = InventoryIndex.build(maps)
    assert len(index.items) == 32 + 4
    vms = index.select("vm", provider="aws", status="RUNNING")
    assert len(vms) == 15 and all(v["status"] == "running" for v in vms)
    first = vms[0]
    assert first["last_synced"] == "2026-12-01T00:00:00Z" and first["credential"] == "prod"
    assert first["metadata"]["cost_per_hour"] == 0.0104 and first["resource_type"] == "vm"
    assert index.find(str(first["id"])) is first and index.find("aws-vm-0") is first
    assert index.find("/aws/net/0") is not None and index.find("12345") is None and index.find("\u00b3") is None
    assert first["id"] == item_id("prod", "aws-vm-0")
    assert len(index.select("network", region="us-central1")) == 1
    items, headers = page(index.select("vm"), 10, 5)
    assert len(items) == 5 and headers == {"X-Total-Count": "32", "X-Page-Size": "5", "X-Page-Number": "3"}


def test_billing_costs_by_provider_service_and_day() -> None:
    docs = billing.documents(
        [
            billing_cm(credential("prod", "aws"), "cost-explorer", {"Amazon EC2": 10.0, "Amazon S3": 1.0}, TODAY),
            billing_cm(credential("lab", "gcp"), "estimate", {"Compute Engine": 2.0}, TODAY),
        ]
    )
    costs = billing.costs(docs, date(2026, 12, 1), date(2026, 12, 2), "provider")
    assert costs["total_cost"] == 26.0 and costs["period"] == {"start": "2026-12-01", "end": "2026-12-02"}
    assert costs["breakdown"][0] == {
        "provider": "aws",
        "cost": 22.0,
        "services": [{"service": "Amazon EC2", "cost": 20.0}, {"service": "Amazon S3", "cost": 2.0}],
    }
    assert costs["source"] == "mixed"
    assert {(s["credential"], s["source"], s["price_table"]) for s in costs["sources"]} == {
        ("prod", "cost-explorer", None),
        ("lab", "estimate", "daytwo-list-prices-test"),
    }
    by_service = billing.costs(docs, date(2026, 12, 1), date(2026, 12, 1), "service")["breakdown"]
    assert by_service == [
        {"service": "Amazon EC2", "cost": 10.0},
        {"service": "Compute Engine", "cost": 2.0},
        {"service": "Amazon S3", "cost": 1.0},
    ]
    by_day = billing.costs(docs, date(2026, 11, 30), date(2026, 12, 1), "day")["breakdown"]
    assert by_day == [{"date": "2026-11-30", "cost": 13.0}, {"date": "2026-12-01", "cost": 13.0}]
    assert billing.costs([], TODAY, TODAY, "day")["source"] == "none"
    before = billing.costs(docs, date(2020, 1, 1), date(2020, 1, 2), "provider")
    assert before["breakdown"] == [
        {"provider": "aws", "cost": 0.0, "services": []},
        {"provider": "gcp", "cost": 0.0, "services": []},
    ]


def test_billing_summary_and_categories() -> None:
    docs = billing.documents([billing_cm(credential("prod", "aws"), "estimate", {"EC2": 1.0}, TODAY)])
    summary = billing.summary(docs, TODAY)
    assert summary["current_month"] == {
        "period": "2026-12",
        "total_cost": 10.0,
        "days_elapsed": 10,
        "projected_cost": 31.0,
    }
    assert summary["last_month"] == {"period": "2026-11", "total_cost": 30.0}
    assert summary["source"] == "estimate"
    assert [billing.service_category(s) for s in ("EBS", "Amazon Virtual Private Cloud", "EC2 - Other", "Tax")] == [
        "storage",
        "network",
        "compute",
        "other",
    ]


def test_dashboard_stats() -> None:
    aws, bad = credential("prod", "aws"), credential("old", "aws", valid=False)
    gcp = credential("lab", "gcp")
    index = InventoryIndex.build(
        inventory(aws, records("aws", "eu-west-1", 4)) + inventory(gcp, records("gcp", "us-central1", 1))
    )
    docs = billing.documents([billing_cm(aws, "estimate", {"EC2": 2.0, "EBS": 1.0}, TODAY)])
    out = dashboard.stats(index.items, docs, [aws, bad, gcp], TODAY, "2026-12-10T12:00:00Z")
    assert (out["total_resources"], out["active_vms"], out["total_storage"], out["total_networks"]) == (9, 3, 2, 2)
    assert out["provider_breakdown"][0] == {"provider": "aws", "count": 6, "vms": 4, "storage": 1}
    assert out["cost_by_provider"] == [{"provider": "aws", "cost": 30.0}]
    assert out["cost_by_service"] == [{"service": "compute", "cost": 20.0}, {"service": "storage", "cost": 10.0}]
    assert out["estimated_monthly_cost"] == 93.0 and out["cost_source"] == "estimate"
    assert out["region_distribution"][0] == {"region": "eu-west-1", "count": 6}
    health = {h["provider"]: h for h in out["provider_health"]}
    assert health["aws"]["status"] == "degraded" and "AuthFailed" in health["aws"]["error_message"]
    assert health["gcp"]["status"] == "healthy" and health["gcp"]["error_message"] is None
    assert len(out["recent_activity"]) == 9 and out["last_updated"] == "2026-12-01T00:00:00Z"


def test_openstack_compute_records_stay_out_of_the_multicloud_inventory() -> None:
    """Aggregates, hypervisors and flavors (the spot views' compute kind) are not multicloud resources."""
    cloud = credential("os", "openstack")
    compute = [
        {"resource_id": f"{kind}-1", "name": kind, "type": kind, "provider": "openstack", "region": "RegionOne",
         "status": "active", "metadata": {}}
        for kind in ("aggregate", "hypervisor", "flavor")
    ]  # fmt: skip
    index = InventoryIndex.build(inventory(cloud, records("openstack", "RegionOne", 2) + compute))
    assert sorted({item["resource_type"] for item in index.items}) == ["network", "storage", "vm"]
    assert index.find("flavor-1") is None
