"""Memoised views of the facade's cache and their pre-rendered JSON answers, for every API's routes.

Derived views are memoised per store on the store versions (or resourceVersions) they were computed
from, so a dashboard polling a page or an object costs a dict lookup, not a recomputation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any
from weakref import WeakKeyDictionary

from fastapi.responses import JSONResponse

from .store import ObjectStore
from .views.platform9.common import Memo

__all__ = ["JsonResponse", "dumps", "fast_json", "memo", "rendered"]

#: One memo per store (normally one per process) for every derived view of every API, keyed by view name
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


def fast_json(content: Any, status_code: int = 200) -> JsonResponse:
    """A JSON answer for data the view already shaped (plain dicts/lists/strings/numbers only)."""
    return JsonResponse(content, status_code=status_code)
