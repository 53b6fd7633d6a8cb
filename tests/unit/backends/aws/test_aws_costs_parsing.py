"""Cost Explorer answers: a malformed amount is an error naming where it was, never 0 USD."""

from __future__ import annotations

import re
from typing import Any

import pytest
from daytwo.operator.backends.aws import CostReport
from daytwo.operator.backends.runtime import MalformedAnswer


def report(*items: dict[str, Any]) -> CostReport:
    return CostReport.from_pages(
        [{"ResultsByTime": list(items)}],
        start="2026-01-01",
        end="2026-01-03",
        granularity="DAILY",
        metric="UnblendedCost",
    )


def day(start: str, total: Any = None, groups: dict[str, Any] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"TimePeriod": {"Start": start, "End": f"{start[:-2]}{int(start[-2:]) + 1:02d}"}}
    item["Total"] = {} if total is None else {"UnblendedCost": {"Amount": total, "Unit": "USD"}}
    item["Groups"] = [
        {"Keys": [key], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
        for key, amount in (groups or {}).items()
    ]
    return item


def test_grouped_answer_without_total_sums_the_groups() -> None:
    parsed = report(day("2026-01-01", groups={"Amazon EC2": "12.5", "Amazon S3": "0.25"}))
    assert parsed.total == 12.75
    assert parsed.by_group() == {"Amazon EC2": 12.5, "Amazon S3": 0.25}


@pytest.mark.parametrize("bad", ["twelve", "NaN", "inf", ["1"], {"v": 1}])
def test_non_numeric_total_is_malformed_and_names_the_period(bad: Any) -> None:
    with pytest.raises(MalformedAnswer, match=re.escape("2026-01-02..2026-01-03")) as caught:
        report(day("2026-01-01", total="3.0"), day("2026-01-02", total=bad))
    assert caught.value.reason == "MalformedAnswer" and not caught.value.retryable


def test_non_numeric_group_amount_names_the_group() -> None:
    with pytest.raises(MalformedAnswer, match="Amazon EC2"):
        report(day("2026-01-01", groups={"Amazon EC2": "n/a"}))


def test_metric_that_is_not_an_object_is_malformed() -> None:
    item = day("2026-01-01")
    item["Total"] = {"UnblendedCost": "12.5"}
    with pytest.raises(MalformedAnswer, match="not an object"):
        report(item)
