"""Shared pytest wiring: markers by folder, so `pytest tests` runs unit, integration and e2e alike; no test skips."""

from __future__ import annotations

import pytest

from tests.tiers import pytest_make_collect_report, pytest_runtest_makereport

__all__ = ["pytest_collection_modifyitems", "pytest_make_collect_report", "pytest_runtest_makereport"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by their folder: tests/e2e -> e2e, tests/integration -> integration."""
    for item in items:
        path = str(item.path)
        if "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
        elif "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
