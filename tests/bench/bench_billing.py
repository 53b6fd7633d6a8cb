"""Billing computation benchmark: the estimate of 10,000 AWS instances (+ 10,000 volumes) and the facade's reads.

Pure computation (what a billing refresh costs the operator besides reading the inventory ConfigMaps,
and what the facade spends once per ConfigMap change); best of 5 runs each, wall time in ms.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from daytwo.api.views.multicloud import billing as billing_views
from daytwo.api.views.multicloud.inventory import InventoryIndex
from daytwo.operator.reconcile.billing import billing_configmap, billing_document, cost_explorer_days, estimate_days
from daytwo.operator.reconcile.cloudcredential import chunk_records, inventory_configmaps
from daytwo.operator.shared.prices import PRICE_TABLE_ID

from .common import check, check_that, own_peak_rss_mb, write_result

N = 10_000
TYPES = ("t3.micro", "m5.large", "c5.xlarge", "x9.2xlarge", "r5.large")  # x9: priced by the size fallback
CRED = {
    "apiVersion": "daytwo.io/v1alpha1",
    "kind": "CloudCredential",
    "metadata": {"name": "b", "namespace": "n", "uid": "u"},
}


def _records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    vms = [
        {
            "resource_id": f"i-{i:017x}",
            "name": f"vm-{i}",
            "type": "vm",
            "provider": "aws",
            "region": "eu-west-1",
            "status": "stopped" if i % 3 == 0 else "running",
            "metadata": {"instance_type": TYPES[i % len(TYPES)], "private_ip": "10.0.0.1", "vpc_id": "vpc-1"},
            "created_at": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        }
        for i in range(N)
    ]
    volumes = [
        {
            "resource_id": f"vol-{i:017x}",
            "name": f"vol-{i}",
            "type": "storage",
            "provider": "aws",
            "region": "eu-west-1",
            "status": "in-use",
            "metadata": {"size_gb": str(8 + i % 100), "volume_type": "gp3"},
        }
        for i in range(N)
    ]
    return vms, volumes


def _best_ms(run: Callable[[], object], times: int = 5) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def main() -> None:
    """Measure and write the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".daytwo/bench/bench_billing.json"))
    args = parser.parse_args()
    now = datetime.now(UTC)
    vms, volumes = _records()

    def refresh(records: list[dict[str, Any]]) -> dict[str, Any]:
        days = estimate_days("aws", records, now)
        document = billing_document("b", "aws", "estimate", days, now, note="bench", price_table=PRICE_TABLE_ID)
        return billing_configmap(CRED, document)

    chunks = chunk_records(vms)
    configmaps = inventory_configmaps(CRED, "aws", chunks, {"vms": N, "storage": 0, "networks": 0}, now)
    periods = [(f"2026-11-{d:02d}", {f"service-{s}": 1.5 for s in range(50)}) for d in range(1, 31)]
    ce_days = cost_explorer_days(periods, now)
    ce_doc = billing_document("b", "aws", "cost-explorer", ce_days, now, note="bench")
    billing_map = billing_configmap(CRED, ce_doc)
    docs = billing_views.documents([billing_map])
    days = estimate_days("aws", vms, now)
    checks = [
        check("records read back from the inventory ConfigMaps", sum(len(json.loads(c)) for c in chunks), N),
        check_that("estimated days", len(days), len(days) > 0, "> 0"),
        check("billing.json in the billing ConfigMap", "billing.json" in refresh(vms)["data"], True),
        check_that("Cost Explorer days", len(ce_days), len(ce_days) >= len(periods), f">= {len(periods)}"),
    ]
    write_result(
        args.out,
        "bench_billing",
        checks,
        records=N,
        estimate_10k_vms_ms=_best_ms(lambda: refresh(vms)),
        estimate_10k_vms_10k_volumes_ms=_best_ms(lambda: refresh(vms + volumes)),
        parse_10k_records_from_configmaps_ms=_best_ms(lambda: [r for c in chunks for r in json.loads(c)]),
        cost_explorer_days_50_services_ms=_best_ms(lambda: cost_explorer_days(periods, now)),
        billing_json_bytes_cost_explorer_50_services=len(billing_map["data"]["billing.json"]),
        facade_inventory_index_10k_ms=_best_ms(lambda: InventoryIndex.build(configmaps)),
        facade_billing_costs_by_service_ms=_best_ms(
            lambda: billing_views.costs(docs, date.fromisoformat(ce_days[0]["date"]), now.date(), "service")
        ),
        peak_rss_mb=own_peak_rss_mb(),
    )


if __name__ == "__main__":
    main()
