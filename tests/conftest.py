"""Shared pytest wiring: markers by folder, so `pytest tests` runs unit, integration and e2e alike."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by their folder: tests/e2e -> e2e, tests/integration -> integration.

    The e2e tests share one control plane and stand-ins on fixed ports, so under pytest-xdist
    (``-n 2 --dist loadgroup``, as ``make test`` runs) they form one group on one worker while the
    unit and integration tests run beside them on the other.
    """
    for item in items:
        path = str(item.path)
        if "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))
        elif "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
