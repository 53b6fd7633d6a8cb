"""What the platform9 routes share: memoised store reads (api/cached.py), errors, 501 and time helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from daytwo.api.cached import JsonResponse, dumps, fast_json, memo, rendered
from daytwo.api.deps import audit
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.platform9 import drift as drift_views
from daytwo.api.views.platform9 import history as history_views
from daytwo.api.views.platform9 import inventory as inv
from daytwo.api.views.platform9 import models
from daytwo.api.views.platform9 import snapshots as snap
from daytwo.operator.shared.times import format_time
from fastapi import Path

__all__ = [
    "ERRORS",
    "JsonResponse",
    "PathId",
    "audit",
    "dumps",
    "estate",
    "event_rows",
    "fast_json",
    "memo",
    "not_implemented",
    "now_iso",
    "policy_targets",
    "rendered",
    "volume_rows",
]

#: The errors every platform9 route may answer, in the pf9 envelope (replaces FastAPI's default 422 schema,
#: which would not describe the envelope's string messages).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": models.ErrorBody, "description": text}
    for status, text in (
        (401, "Not authenticated"),
        (403, "Permission denied"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Invalid request"),
        (501, "Not supported by daytwo"),
    )
}


#: A path parameter: at least one character besides dots (``.``/``..`` would be resolved by HTTP clients
#: as path segments and leave the API's prefix), no slash.
PathId = Annotated[str, Path(pattern=r"^[^/]*[^/.][^/]*$", max_length=253)]


def now_iso() -> str:
    """The current UTC time in pf9's form."""
    return format_time(datetime.now(UTC))


def not_implemented(what: str, why: str) -> ApiError:
    """A 501 in the pf9 envelope: ``what`` daytwo does not do, and ``why`` / what to use instead."""
    return ApiError(501, f"{what} is not supported by daytwo: {why}", "NOT_IMPLEMENTED")


def event_rows(store: ObjectStore) -> list[dict[str, Any]]:
    """Every DriftEvent as a /drift/events row, sorted by name (memoised on the DriftEvent version).

    Rows are also kept per (name, resourceVersion), so after one acknowledgement only that event is
    converted again, not all 10,000.
    """

    def compute() -> list[dict[str, Any]]:
        cached: dict[str, tuple[str, dict[str, Any]]] = memo(store).get("drift-event-rows", 0, dict)
        rows = []
        seen = set()
        for obj in store.list("DriftEvent"):
            name = obj["metadata"]["name"]
            version = str(obj["metadata"].get("resourceVersion", ""))
            hit = cached.get(name)
            if hit is None or hit[0] != version or not version:
                hit = (version, drift_views.event_row(obj))
                cached[name] = hit
            rows.append(hit[1])
            seen.add(name)
        for gone in set(cached) - seen:
            del cached[gone]
        return rows

    return memo(store).get("drift-events", store.version("DriftEvent"), compute)


def changes_within(store: ObjectStore, hours: int) -> list[dict[str, Any]]:
    """Drift events and VM creations of the last ``hours``, newest first (/history and /dashboard read these)."""
    return history_views.recent_changes(event_rows(store), inv.servers(estate(store)), datetime.now(UTC), hours)


def estate(store: ObjectStore) -> inv.Estate:
    """The parsed OpenStack inventories (memoised on the ConfigMap version: parsing JSON is the cost)."""
    return memo(store).get(
        "estate",
        store.version("ConfigMap"),
        lambda: inv.estate(
            inv.parse_inventories(cm for cm in store.list("ConfigMap") if inv.CREDENTIAL_LABEL in _labels(cm))
        ),
    )


def volume_rows(store: ObjectStore) -> list[dict[str, Any]]:
    """pf9 /volumes rows (memoised)."""
    return memo(store).get("volumes", store.version("ConfigMap"), lambda: inv.volumes(estate(store)))


def policy_targets(store: ObjectStore) -> dict[str, list[dict[str, Any]]]:
    """Policy name -> resolved targets from the ``<p>-targets`` ConfigMaps (memoised)."""
    return memo(store).get(
        "policy-targets",
        store.version("ConfigMap"),
        lambda: snap.targets_of(cm for cm in store.list("ConfigMap") if snap.TARGETS_LABEL in _labels(cm)),
    )


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}
