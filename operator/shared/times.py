"""The one time format of daytwo: status fields, ConfigMap documents and API responses (RFC 3339, UTC, seconds)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["TIME_FORMAT", "format_time", "parse_time"]

#: metav1.Time's wire format; every timestamp daytwo writes uses it.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC, second precision, as status fields carry times."""
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time (``Z`` or offset; naive means UTC), or None."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
