"""Multicloud /billing: the operator's billing documents, saying whether each number is measured or estimated."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from daytwo.api.deps import Principal, StoreDep, require
from daytwo.api.errors import ApiError
from daytwo.api.views.multicloud import billing as views
from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from ._shared import billing_documents, now
from .schemas import BillingCosts, BillingSummary, errors

__all__ = ["router"]

router = APIRouter(tags=["multicloud: billing"])
Reader = Annotated[Principal, require("billing:read")]


def _calendar_date(value: object) -> object:
    """Only YYYY-MM-DD (pydantic would also read a number as a Unix time)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


Day = Annotated[date | None, BeforeValidator(_calendar_date)]


@router.get("/billing/costs", response_model=BillingCosts, responses=errors(400, 401, 403, 422))
def billing_costs(
    store: StoreDep,
    user: Reader,
    start_date: Annotated[Day, Query(description="First day (YYYY-MM-DD); default the 1st of this month.")] = None,
    end_date: Annotated[Day, Query(description="Last day (YYYY-MM-DD), included; default today.")] = None,
    group_by: Annotated[Literal["provider", "service", "day"], Query(description="Breakdown.")] = "provider",
) -> dict[str, Any]:
    """Costs over the period (data covers the previous month's 1st to today) with the breakdown asked for."""
    today = now().date()
    start = start_date or (end_date or today).replace(day=1)
    end = end_date or max(today, start)
    if start > end:
        raise ApiError(400, f"start_date {start} is after end_date {end}", "BAD_REQUEST")
    return views.costs(billing_documents(store), start, end, group_by)


@router.get("/billing/summary", response_model=BillingSummary, responses=errors(401, 403))
def billing_summary(store: StoreDep, user: Reader) -> dict[str, Any]:
    """This month so far and projected, last month, and the change."""
    return views.summary(billing_documents(store), now().date())
