"""Cost Explorer through moto (signatures checked) into billing days: what moto answers, and each refusal.

moto tracks no cost: GetCostAndUsage answers no ResultsByTime unless results are queued through
/moto-api/static/ce/cost-and-usage-results (a queued answer is bound to the first request body that
takes it). The billing handler treats "no periods" as "Cost Explorer has no data" and estimates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from daytwo.operator.backends.aws import AwsClientFactory
from daytwo.operator.errors import InvalidRequest, PermissionDenied
from daytwo.operator.reconcile.billing import billing_period, cost_explorer_days

from tests.standins.aws import AwsStandin, Fault

from .conftest import params

NOW = datetime.now(UTC)


def _range() -> tuple[date, date]:
    start, today = billing_period(NOW.date())
    return start, today + timedelta(days=1)


def _daily(day: date, services: dict[str, str]) -> dict:
    return {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Total": {},
        "Groups": [
            {"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": v, "Unit": "USD"}}} for k, v in services.items()
        ],
        "Estimated": True,
    }


def test_moto_without_queued_results_has_no_periods(aws: AwsStandin, factory: AwsClientFactory) -> None:
    start, end = _range()
    report = factory.get(params(aws)).costs(start - timedelta(days=3), end, granularity="DAILY")
    assert report.periods == () and report.total == 0


def test_daily_results_become_billing_days(aws: AwsStandin, factory: AwsClientFactory) -> None:
    start, end = _range()
    today = end - timedelta(days=1)
    aws.set_cost_results(
        [
            {
                "ResultsByTime": [
                    _daily(start, {"Amazon Elastic Compute Cloud - Compute": "12.5", "Tax": "0"}),
                    _daily(today, {"Amazon Simple Storage Service": "0.75"}),
                ]
            }
        ]
    )
    report = factory.get(params(aws)).costs(start, end, granularity="DAILY", group_by="SERVICE")
    days = cost_explorer_days([(p.start, p.groups) for p in report.periods], NOW)
    assert days[0] == {"date": start.isoformat(), "services": {"Amazon Elastic Compute Cloud - Compute": 12.5}}
    assert days[-1] == {"date": today.isoformat(), "services": {"Amazon Simple Storage Service": 0.75}}
    assert all(not d["services"] for d in days[1:-1])
    assert [e.action for e in aws.server.journal()] == ["GetCostAndUsage"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("AccessDeniedException", PermissionDenied), ("DataUnavailableException", InvalidRequest)],
)
def test_refusals_are_terminal(aws: AwsStandin, factory: AwsClientFactory, code: str, expected: type) -> None:
    aws.server.add_fault(Fault(status=400, code=code, message="no", service="ce", times=1))
    start, end = _range()
    with pytest.raises(expected) as caught:
        factory.get(params(aws)).costs(start, end, granularity="DAILY")
    assert not caught.value.retryable
    assert aws.secret_access_key not in str(caught.value)
    assert len(aws.server.journal()) == 1  # not retried
