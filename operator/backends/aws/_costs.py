"""Cost Explorer GetCostAndUsage results as plain values (the multicloud /billing views read these)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from ..runtime import MalformedAnswer

__all__ = ["CostOptions", "CostPeriod", "CostReport"]


class CostOptions(TypedDict, total=False):
    """The keyword options of ``costs``, declared once for :class:`AwsBackend` and the implementation."""

    granularity: str  # default "MONTHLY" (or DAILY, HOURLY)
    group_by: str | None  # default "SERVICE"; None: one total a period
    metric: str  # default "UnblendedCost"


def _amount(metrics: Mapping[str, Any], metric: str, where: str) -> tuple[float, str]:
    """The metric's amount and unit; a metric absent from the answer is 0 (Cost Explorer leaves Total empty
    for grouped queries), an amount that is not a number is a MalformedAnswer naming where it was."""
    value = metrics.get(metric)
    if value is None:
        return 0.0, "USD"
    if not isinstance(value, Mapping):
        raise MalformedAnswer(f"cost explorer GetCostAndUsage: {metric} of {where} is not an object")
    amount = value.get("Amount", 0)
    try:
        number = float(amount if amount not in (None, "") else 0)
    except (TypeError, ValueError):
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise MalformedAnswer(
            f"cost explorer GetCostAndUsage: {metric} amount {str(amount)[:40]!r} of {where} is not a number"
        )
    return number, str(value.get("Unit", "USD") or "USD")


@dataclass(frozen=True, slots=True)
class CostPeriod:
    """One time bucket: total and, when grouped, the cost per group key (e.g. per service)."""

    start: str
    end: str
    total: float
    groups: Mapping[str, float]
    estimated: bool

    @classmethod
    def from_api(cls, item: Mapping[str, Any], metric: str) -> tuple[CostPeriod, str]:
        """Build from one ResultsByTime entry; returns it with the currency unit."""
        period = item.get("TimePeriod") or {}
        where = f"period {period.get('Start', '?')}..{period.get('End', '?')}"
        total, unit = _amount(item.get("Total") or {}, metric, f"the total of {where}")
        groups: dict[str, float] = {}
        for group in item.get("Groups") or ():
            key = "/".join(str(k) for k in group.get("Keys") or ()) or "other"
            amount, unit = _amount(group.get("Metrics") or {}, metric, f"group {key!r} in {where}")
            groups[key] = groups.get(key, 0.0) + amount
        if groups and not total:
            total = sum(groups.values())
        start, end = str(period.get("Start", "")), str(period.get("End", ""))
        return cls(start, end, round(total, 6), groups, bool(item.get("Estimated"))), unit


@dataclass(frozen=True, slots=True)
class CostReport:
    """GetCostAndUsage over [start, end): one period per granularity step, in one currency."""

    start: str
    end: str
    granularity: str
    metric: str
    currency: str
    periods: tuple[CostPeriod, ...]

    @property
    def total(self) -> float:
        """Sum over every period."""
        return round(sum(p.total for p in self.periods), 6)

    def by_group(self) -> dict[str, float]:
        """Cost per group key (e.g. service) summed over the periods."""
        totals: dict[str, float] = {}
        for period in self.periods:
            for key, amount in period.groups.items():
                totals[key] = round(totals.get(key, 0.0) + amount, 6)
        return totals

    @classmethod
    def from_pages(
        cls, pages: Iterable[Mapping[str, Any]], *, start: str, end: str, granularity: str, metric: str
    ) -> CostReport:
        """Build from the GetCostAndUsage answers of every page."""
        periods: list[CostPeriod] = []
        currency = "USD"
        for page in pages:
            for item in page.get("ResultsByTime") or ():
                period, currency = CostPeriod.from_api(item, metric)
                periods.append(period)
        return cls(start, end, granularity, metric, currency, tuple(periods))
