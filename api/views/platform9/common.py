"""Small helpers every platform9 view shares: times, pagination, sorting (memoisation: api/cached.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from daytwo.operator.shared.times import format_time
from daytwo.operator.shared.times import parse_time as parse_rfc3339

__all__ = [
    "iso",
    "limit_offset",
    "page",
    "parse_time",
    "percent",
    "sort_rows",
]

T = TypeVar("T")


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 string (``Z`` or offset) or datetime as an aware UTC datetime; None when absent or invalid."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        moment = parse_rfc3339(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment else None


def iso(value: Any) -> str | None:
    """pf9's timestamp form ``2026-02-08T09:00:00Z`` for a datetime or RFC 3339 string; None stays None."""
    moment = parse_time(value)
    return format_time(moment) if moment else None


def percent(part: float, whole: float, digits: int = 1) -> float:
    """``part / whole * 100`` rounded; 100.0 when there is nothing to measure (nothing is out of compliance)."""
    if whole <= 0:
        return 100.0
    return round(part * 100.0 / whole, digits)


def page(rows: Sequence[T], number: int, size: int) -> list[T]:
    """Rows of 1-based page ``number`` of ``size`` rows (pf9's page/page_size)."""
    start = (max(number, 1) - 1) * size
    return list(rows[start : start + size])


def limit_offset(rows: Sequence[T], limit: int, offset: int) -> dict[str, Any]:
    """pf9's generic pagination envelope ``{total, limit, offset, results}``."""
    return {"total": len(rows), "limit": limit, "offset": offset, "results": list(rows[offset : offset + limit])}


def _sort_key(value: Any) -> tuple[int, Any]:
    # None last; numbers before strings so mixed columns never raise
    if value is None:
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).lower())


def sort_rows(
    rows: Iterable[Mapping[str, Any]], sort_by: str | None, sort_dir: str | None, allowed: Iterable[str]
) -> list[Mapping[str, Any]]:
    """Rows sorted by ``sort_by`` (ignored unless in ``allowed``), ``sort_dir`` asc (default) or desc; stable."""
    listed = list(rows)
    if not sort_by or sort_by not in set(allowed):
        return listed
    return sorted(listed, key=lambda row: _sort_key(row.get(sort_by)), reverse=(sort_dir or "").lower() == "desc")
