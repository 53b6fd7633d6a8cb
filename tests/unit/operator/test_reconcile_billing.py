"""reconcile.billing with plain data: prices, the estimate, Cost Explorer days, the ConfigMap, scheduling."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from daytwo.crds.cloudcredential import CloudCredentialSpec, CloudCredentialStatus
from daytwo.operator.reconcile.billing import (
    BILLING_LABEL,
    billing_condition,
    billing_configmap,
    billing_document,
    billing_period,
    cost_explorer_days,
    estimate_days,
    record_hourly,
    seconds_until_billing,
    why_refresh_billing,
)
from daytwo.operator.reconcile.cloudcredential import RetryState
from daytwo.operator.shared.prices import PRICE_TABLE, PRICE_TABLE_ID
from daytwo.operator.shared.pricing import month_summary, storage_gb_month, vm_hourly

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
SPEC_BODY = {
    "provider": "aws",
    "secretRef": {"name": "aws-keys"},
    "aws": {"region": "eu-west-1"},
    "billing": {"enabled": True, "intervalSeconds": 3600, "source": "auto"},
}
SPEC = CloudCredentialSpec.model_validate(SPEC_BODY)
OFF = CloudCredentialSpec.model_validate({**SPEC_BODY, "billing": {"enabled": False}})
CRED = {
    "apiVersion": "daytwo.io/v1alpha1",
    "kind": "CloudCredential",
    "metadata": {"name": "prod", "namespace": "ns", "uid": "u-1"},
    "spec": SPEC_BODY,
}


def vm(instance_type: str, status: str = "running", created: str | None = None, provider: str = "aws") -> dict:
    record = {"type": "vm", "provider": provider, "status": status, "metadata": {"instance_type": instance_type}}
    if created:
        record["created_at"] = created
    return record


def test_period_is_first_of_previous_month_to_today() -> None:
    assert billing_period(date(2026, 11, 10)) == (date(2026, 10, 1), date(2026, 11, 10))
    assert billing_period(date(2026, 1, 3)) == (date(2025, 12, 1), date(2026, 1, 3))


@pytest.mark.parametrize(
    ("provider", "metadata", "expected"),
    [
        ("aws", {"instance_type": "t3.micro"}, 0.0104),
        ("aws", {"instance_type": "x9.large"}, 0.096),  # unknown family: size fallback
        ("aws", {"instance_type": "x9.4xlarge"}, 16 * 0.048),  # 4 vCPU per xlarge step
        ("aws", {}, 0.096),  # no type: default
        ("azure", {"vm_size": "Standard_D2s_v3"}, 0.096),
        ("azure", {"vm_size": "Standard_L16s_v9"}, 16 * 0.048),
        ("gcp", {"machine_type": "e2-medium"}, 0.03351),
        ("gcp", {"machine_type": "c3-highcpu-22"}, 22 * 0.0335),
        ("gcp", {"machine_type": "custom-6-20480"}, 6 * 0.0335),
        ("openstack", {"vcpus": "2", "ram_mb": "4096"}, 2 * 0.02 + 4 * 0.005),
        ("openstack", {}, 0.03),
    ],
)
def test_vm_prices_and_fallbacks(provider: str, metadata: dict, expected: float) -> None:
    assert vm_hourly(provider, metadata) == pytest.approx(expected)


def test_storage_prices() -> None:
    assert storage_gb_month("aws", {"volume_type": "gp3"}) == 0.08
    assert storage_gb_month("aws", {"volume_type": "weird"}) == PRICE_TABLE["aws"]["default_storage_gb_month"]
    assert storage_gb_month("azure", {"sku": "Premium_LRS"}) == 0.15
    assert storage_gb_month("gcp", {"disk_type": "pd-ssd"}) == 0.17


def test_what_is_charged() -> None:
    assert record_hourly("aws", vm("t3.micro")) == ("EC2", 0.0104)
    assert record_hourly("aws", vm("t3.micro", "stopped")) is None
    assert record_hourly("openstack", {"type": "vm", "status": "ACTIVE", "metadata": {}}) == ("Compute", 0.03)
    disk = {"type": "storage", "status": "in-use", "metadata": {"size_gb": "73", "volume_type": "gp2"}}
    assert record_hourly("aws", disk) == ("EBS", pytest.approx(73 * 0.10 / 730))
    assert record_hourly("aws", {"type": "network", "status": "available", "metadata": {}}) is None
    assert record_hourly("aws", {"type": "storage", "status": "available", "metadata": {}}) is None
    assert record_hourly("unknown", vm("t3.micro")) is None


def test_estimate_counts_hours_from_creation_to_now() -> None:
    records = [
        vm("t3.micro"),  # no created_at: since the period start
        vm("m5.large", created="2026-11-09T18:00:00Z"),  # 6 h on the 9th, 12 h today
        vm("m5.large", status="stopped"),
        {"type": "storage", "status": "in-use", "metadata": {"size_gb": "730", "volume_type": "gp2"}},  # 0.1/h
    ]
    days = estimate_days("aws", records, NOW)
    assert [d["date"] for d in days][:2] == ["2026-10-01", "2026-10-02"] and days[-1]["date"] == "2026-11-10"
    assert len(days) == 41
    assert days[0]["services"] == {"EC2": pytest.approx(0.0104 * 24), "EBS": pytest.approx(2.4)}
    assert days[-2]["services"]["EC2"] == pytest.approx(round(0.0104 * 24 + 0.096 * 6, 4))
    assert days[-1]["services"]["EC2"] == pytest.approx(round(0.0104 * 12 + 0.096 * 12, 4))
    assert days[-1]["services"]["EBS"] == pytest.approx(1.2)


def test_estimate_of_a_resource_created_today_and_of_nothing() -> None:
    days = estimate_days("aws", [vm("m5.large", created="2026-11-10T11:00:00Z")], NOW)
    assert all(not d["services"] for d in days[:-1]) and days[-1]["services"] == {"EC2": 0.096}
    assert all(not d["services"] for d in estimate_days("gcp", [], NOW))
    future = estimate_days("aws", [vm("m5.large", created="2026-12-01T00:00:00Z")], NOW)
    assert all(not d["services"] for d in future)


def test_estimate_of_10000_records_is_linear() -> None:
    records = [
        vm("t3.micro" if i % 2 else "m5.large", created=f"2026-10-{1 + i % 28:02d}T00:00:00Z") for i in range(10_000)
    ]
    days = estimate_days("aws", records, NOW)
    assert days[-1]["services"]["EC2"] == pytest.approx(5000 * (0.0104 + 0.096) * 12, rel=1e-6)


def test_cost_explorer_days_fill_the_period_and_drop_zeroes() -> None:
    periods = [
        ("2026-10-01", {"Amazon EC2": 3.5, "Tax": 0.0}),
        ("2026-11-10", {"Amazon S3": 0.25}),
        ("2026-11-10", {"Amazon S3": 0.25}),
    ]
    days = cost_explorer_days(periods, NOW)
    assert len(days) == 41 and days[0] == {"date": "2026-10-01", "services": {"Amazon EC2": 3.5}}
    assert days[1]["services"] == {} and days[-1]["services"] == {"Amazon S3": 0.5}


def test_document_and_configmap_are_labelled_and_owned() -> None:
    doc = billing_document("prod", "aws", "estimate", [], NOW, note="n", price_table=PRICE_TABLE_ID)
    assert doc["priceTable"] == PRICE_TABLE_ID and doc["generatedAt"] == "2026-11-10T12:00:00Z"
    assert billing_document("prod", "aws", "cost-explorer", [], NOW, note="n", price_table="x")["priceTable"] is None
    body = billing_configmap(CRED, doc)
    assert body["metadata"]["name"] == "prod-billing"
    assert body["metadata"]["labels"][BILLING_LABEL] == "prod"
    assert body["metadata"]["labels"]["app.kubernetes.io/part-of"] == "daytwo"
    assert body["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert json.loads(body["data"]["billing.json"])["source"] == "estimate"


def _status(source: str = "estimate", last: datetime = NOW, ok: bool = True) -> CloudCredentialStatus:
    synced = {"type": "BillingSynced", "status": str(ok), "reason": "Estimated", "lastTransitionTime": last}
    return CloudCredentialStatus.model_validate(
        {"billing": {"lastSyncTime": last.strftime("%Y-%m-%dT%H:%M:%SZ"), "source": source}, "conditions": [synced]}
    )


def test_when_billing_is_due() -> None:
    def why(spec: CloudCredentialSpec = SPEC, status: CloudCredentialStatus | None = None, **kw: object) -> str | None:
        args: dict = {"inventory_synced": False, "revalidated": None, "retry": RetryState(), "now": NOW} | kw
        return why_refresh_billing(spec, _status() if status is None else status, **args)

    assert why(OFF) is None
    assert why(status=CloudCredentialStatus()) == "never computed"
    assert why() is None
    assert why(revalidated="the spec changed") == "the spec changed"
    assert why(inventory_synced=True) == "the inventory was synced"
    assert why(status=_status("cost-explorer"), inventory_synced=True) is None
    assert why(status=_status(last=NOW - timedelta(hours=2))) == "the billing interval elapsed"
    assert why(status=_status(ok=False)) == "the last refresh did not succeed"
    later = RetryState(1, NOW + timedelta(seconds=30))
    assert why(status=_status(ok=False), retry=later) is None
    assert why(status=_status(ok=False), retry=RetryState(1, NOW)) == "retrying after a failure"
    assert why(status=_status(last=datetime(2026, 11, 9, 23, 50, tzinfo=UTC)), now=NOW.replace(hour=0, minute=5)) == (
        "a new day began"
    )


def test_seconds_until_billing() -> None:
    assert seconds_until_billing(OFF, CloudCredentialStatus(), RetryState(), NOW) is None
    assert seconds_until_billing(SPEC, CloudCredentialStatus(), RetryState(), NOW) == 1.0
    assert seconds_until_billing(SPEC, _status(), RetryState(), NOW) == 3600
    assert seconds_until_billing(SPEC, _status(), RetryState(1, NOW + timedelta(seconds=8)), NOW) == 8
    late = NOW.replace(hour=23, minute=30)
    assert seconds_until_billing(SPEC, _status(last=late), RetryState(), late) == 1800  # midnight first


def test_billing_condition() -> None:
    off = OFF
    assert billing_condition(off, [], True, None, None) is None
    assert billing_condition(off, [{"type": "BillingSynced"}], True, None, None).reason == "Disabled"  # type: ignore[union-attr]
    assert billing_condition(SPEC, [], False, None, None).reason == "NotValidated"  # type: ignore[union-attr]
    failed = billing_condition(SPEC, [], True, ("CredentialsNotFound", "gone"), None)
    assert failed is not None and (failed.status, failed.reason) == (False, "KeyMissing")
    done = billing_condition(SPEC, [], True, None, ("cost-explorer", "ok"))
    assert done is not None and (done.status, done.reason) == (True, "CostExplorer")
    assert billing_condition(SPEC, [], True, None, ("estimate", "ok")).reason == "Estimated"  # type: ignore[union-attr]
    assert billing_condition(SPEC, [], True, None, None) is None


def test_month_summary() -> None:
    daily = {"2026-10-01": 100.0, "2026-10-31": 55.0, "2026-11-01": 10.0, "2026-11-10": 20.0, "2026-11-11": 99.0}
    summary = month_summary(daily, date(2026, 11, 10))
    assert summary["current_month"] == {
        "period": "2026-11",
        "total_cost": 30.0,
        "days_elapsed": 10,
        "projected_cost": 90.0,
    }
    assert summary["last_month"] == {"period": "2026-10", "total_cost": 155.0}
    assert summary["change"] == {"absolute": -125.0, "percentage": -80.65}
    assert month_summary({}, date(2026, 11, 10))["change"] == {"absolute": 0.0, "percentage": 0.0}
