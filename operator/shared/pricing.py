"""List prices and month arithmetic that the operator's billing estimate and the facade's views share.

Pure and dependency-free: the price table (:mod:`.prices`), the hourly price of a VM and the GB-month
price of a disk from their types, and the multicloud /billing/summary month numbers.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from .prices import PRICE_TABLE

__all__ = ["HOURS_PER_MONTH", "PRICE_TABLE", "month_summary", "number", "storage_gb_month", "vm_hourly"]

#: Hours in a billing month (AWS's convention for turning GB-month prices into hourly ones).
HOURS_PER_MONTH = 730.0


def number(text: Any) -> float | None:
    """A float from a number or numeric text; None when it is neither."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def vm_hourly(provider: str, metadata: Mapping[str, Any], table: Mapping[str, Any] = PRICE_TABLE) -> float:
    """Hourly list price of a VM from its type; unknown types by the provider's documented fallback.

    aws: listed ``instance_type``, else its size (micro, large, 4xlarge -> 4 vCPU steps...) at the
    general-purpose rate; azure: listed ``vm_size``, else the vCPU count in the name times the per-vCPU
    rate; gcp: listed ``machine_type``, else <family>-<class>-<vCPUs> or custom-<vCPUs>-<MB> times the
    per-vCPU rate; openstack: flavor vCPUs and RAM times the notional rates. Else the default type.
    """
    prices = table[provider]
    if provider == "openstack":
        cores, ram_mb = number(metadata.get("vcpus")), number(metadata.get("ram_mb"))
        if cores is None and ram_mb is None:
            return float(prices["default_vm_hourly"])
        return float((cores or 0) * prices["per_vcpu_hourly"] + (ram_mb or 0) / 1024 * prices["per_gb_ram_hourly"])
    field = {"aws": "instance_type", "azure": "vm_size", "gcp": "machine_type"}[provider]
    kind = str(metadata.get(field) or "").lower()
    listed = prices["vm_hourly"].get(kind)
    if listed is not None:
        return float(listed)
    vcpus: float | None = None
    if provider == "aws":
        size = kind.partition(".")[2]
        if size in prices["size_hourly"]:
            return float(prices["size_hourly"][size])
        steps = re.fullmatch(r"(\d+)xlarge", size)
        vcpus = 4.0 * int(steps.group(1)) if steps else None
    elif provider == "azure":
        found = re.match(r"(?:standard|basic)_[a-z]+(\d+)", kind)
        vcpus = float(found.group(1)) if found else None
    else:
        found = re.fullmatch(r"(?:[a-z0-9]+-)?custom-(\d+)-\d+(?:-ext)?", kind) or re.fullmatch(
            r"[a-z0-9]+-[a-z]+-(\d+)", kind
        )
        vcpus = float(found.group(1)) if found else None
    if vcpus:
        return vcpus * float(prices["per_vcpu_hourly"])
    return float(prices["default_vm_hourly"])


def storage_gb_month(provider: str, metadata: Mapping[str, Any], table: Mapping[str, Any] = PRICE_TABLE) -> float:
    """Price per GB-month of a disk/volume from its type (aws volume_type, azure sku, gcp disk_type)."""
    prices = table[provider]
    field = {"aws": "volume_type", "azure": "sku", "gcp": "disk_type", "openstack": "volume_type"}[provider]
    kind = str(metadata.get(field) or "").lower()
    return float(prices["storage_gb_month"].get(kind, prices["default_storage_gb_month"]))


def month_summary(daily_totals: Mapping[str, float], today: date) -> dict[str, Any]:
    """The multicloud /billing/summary numbers from cost per day (YYYY-MM-DD -> total).

    current month: total so far, days elapsed (today included), projection = total / days elapsed x days
    in the month; last month: its total; change = current total - last month's total (and in %; 0 when
    last month cost nothing).
    """
    current = today.strftime("%Y-%m")
    previous = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    this_total = sum(v for day, v in daily_totals.items() if day.startswith(current) and day <= today.isoformat())
    last_total = sum(v for day, v in daily_totals.items() if day.startswith(previous))
    elapsed = today.day
    in_month = calendar.monthrange(today.year, today.month)[1]
    absolute = this_total - last_total
    return {
        "current_month": {
            "period": current,
            "total_cost": round(this_total, 2),
            "days_elapsed": elapsed,
            "projected_cost": round(this_total / elapsed * in_month, 2),
        },
        "last_month": {"period": previous, "total_cost": round(last_total, 2)},
        "change": {
            "absolute": round(absolute, 2),
            "percentage": round(absolute / last_total * 100, 2) if last_total else 0.0,
        },
    }
