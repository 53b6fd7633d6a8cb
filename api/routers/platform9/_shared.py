"""What the platform9 routes share: memoised store reads, fast JSON answers, 501 and time helpers."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from daytwo.api.deps import audit
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.platform9 import drift as drift_views
from daytwo.api.views.platform9 import inventory as inv
from daytwo.api.views.platform9 import models
from daytwo.api.views.platform9 import snapshots as snap
from daytwo.api.views.platform9.common import Memo
from fastapi import Path
from fastapi.responses import JSONResponse

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

#: One memo per store (normally one per process) for every derived platform9 view, keyed by view name
#: (+ parameters) and the store versions it was computed from.
_MEMOS: WeakKeyDictionary[ObjectStore, Memo] = WeakKeyDictionary()


#: Rendered single objects per store, keyed by object and memoised on its (and its relations')
#: resourceVersions; cleared whole past 50,000 entries (names of deleted objects linger until then).
_RENDERED: WeakKeyDictionary[ObjectStore, Memo] = WeakKeyDictionary()


def memo(store: ObjectStore) -> Memo:
    """The memo of derived views of ``store``."""
    found = _MEMOS.get(store)
    if found is None:
        found = _MEMOS.setdefault(store, Memo(max_entries=2048))
    return found


def rendered(store: ObjectStore, key: Hashable, versions: Hashable, view: Callable[[], Any]) -> JsonResponse:
    """The JSON answer for one object's ``view``, rendered once per ``versions`` (its resourceVersion and
    those of what the view reads besides): a dashboard polling an object costs a dict lookup."""
    found = _RENDERED.get(store)
    if found is None:
        found = _RENDERED.setdefault(store, Memo(max_entries=50_000))
    return JsonResponse(found.get(key, versions, lambda: dumps(view())))


class JsonResponse(JSONResponse):
    """A JSON body serialised once with the standard library (no jsonable_encoder pass: hot paths)."""

    def render(self, content: Any) -> bytes:
        """Compact UTF-8 JSON (bytes are taken as already rendered JSON)."""
        if isinstance(content, bytes):
            return content
        return dumps(content)


def dumps(content: Any) -> bytes:
    """Compact UTF-8 JSON bytes."""
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


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


def fast_json(content: Any, status_code: int = 200) -> JsonResponse:
    """A JSON answer for data the view already shaped (plain dicts/lists/strings/numbers only)."""
    return JsonResponse(content, status_code=status_code)


def now_iso() -> str:
    """The current UTC time in pf9's form."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
