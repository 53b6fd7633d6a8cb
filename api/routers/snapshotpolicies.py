"""SnapshotPolicy objects from the store as the typed views take them (pf9 and horcrux routes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.snapshotpolicy import Policy, parse_policy

__all__ = ["KIND", "typed_policies", "typed_policy"]

KIND = "SnapshotPolicy"


def typed_policy(obj: Mapping[str, Any]) -> Policy:
    """The typed policy; an object off the schema (the CRD validates, so another version) is a 502 naming
    the field rather than a crash deeper in a view."""
    try:
        return parse_policy(obj)
    except ValueError as error:
        raise ApiError(502, str(error), "KUBERNETES_ERROR") from None


def typed_policies(store: ObjectStore) -> list[Policy]:
    """Every SnapshotPolicy in the store, typed."""
    return [typed_policy(obj) for obj in store.list(KIND)]
