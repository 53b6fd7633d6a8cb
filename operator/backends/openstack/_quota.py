"""Parse the ``quota_set`` bodies Nova (``/detail``) and Cinder (``?usage=True``) return."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._records import QuotaUsage

__all__ = ["quota_usages"]


def quota_usages(service: str, project_id: str, body: Any) -> list[QuotaUsage]:
    """One QuotaUsage per resource that reports limit/in_use; other keys are ignored."""
    quota_set = body.get("quota_set", {}) if isinstance(body, Mapping) else {}
    out: list[QuotaUsage] = []
    for name, value in sorted(quota_set.items()):
        if isinstance(value, Mapping) and "limit" in value:
            out.append(
                QuotaUsage(
                    service=service,
                    project_id=project_id,
                    resource=str(name),
                    limit=int(value.get("limit", -1)),
                    in_use=int(value.get("in_use", 0)),
                    reserved=int(value.get("reserved", 0)),
                )
            )
    return out
