"""Deprecated import path: the inventory records moved to :mod:`daytwo.operator.backends.records` and the
shared client runtime to :mod:`daytwo.operator.backends.runtime`. Kept for handlers being moved in the same
wave; import from ``records`` in new code."""

from __future__ import annotations

from .records import ALL_KINDS, CloudIdentity, Inventory, InventoryKind, InventoryRecord, parse_kinds

__all__ = ["ALL_KINDS", "CloudIdentity", "Inventory", "InventoryKind", "InventoryRecord", "parse_kinds"]
