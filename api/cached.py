"""Memoised views of the facade's cache and their pre-rendered JSON answers, for every API's routes.

Derived views are memoised per store on the store versions (or resourceVersions) they were computed
from, so a dashboard polling a page or an object costs a dict lookup, not a recomputation. The one
memo facility: :class:`Memo`; each :class:`~daytwo.api.store.ObjectStore` owns its two instances
(``store.views``, ``store.answers``), so two stores (tests) never share an answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from threading import Lock
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from .store import ObjectStore

__all__ = ["JsonResponse", "Memo", "dumps", "fast_json", "memo", "rendered"]

T = TypeVar("T")


class Memo:
    """Derived views memoised on the store versions they were computed from (one entry per key).

    ``get(key, versions, compute)`` returns the cached value while ``versions`` (e.g. the tuple of
    ``store.version(kind)`` of every kind the view reads) is unchanged, else recomputes it. Thread-safe
    enough for FastAPI's threadpool: a race computes twice and keeps one.
    """

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: dict[Hashable, tuple[Hashable, Any]] = {}
        self._lock = Lock()
        self.max_entries = max_entries

    def get(self, key: Hashable, versions: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``key`` for ``versions``: cached, or computed now and cached."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] == versions:
            value: T = entry[1]
            return value
        value = compute()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (versions, value)
        return value


def memo(store: ObjectStore) -> Memo:
    """The memo of derived views of ``store`` (every API's, keyed by view name + parameters)."""
    return store.views


def rendered(store: ObjectStore, key: Hashable, versions: Hashable, view: Callable[[], Any]) -> JsonResponse:
    """The JSON answer for one object's ``view``, rendered once per ``versions`` (its resourceVersion and
    those of what the view reads besides): a dashboard polling an object costs a dict lookup."""
    return JsonResponse(store.answers.get(key, versions, lambda: dumps(view())))


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
