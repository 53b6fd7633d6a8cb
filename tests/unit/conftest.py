"""The unit tier: no subprocess, no network past loopback (tests/tiers.py enforces it for every test here)."""

from __future__ import annotations

from tests.tiers import unit_tier_guard

__all__ = ["unit_tier_guard"]
