"""charts/daytwo/files/builtin-driftrules.yaml, read as shipped: exactly the reference's rules, once each.

The rendered DriftRule objects (helm) are checked in tests/integration/chart/test_builtin_driftrules.py.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.harness.driftrules import BUILTIN_RULES

from .driftrule_reference import REFERENCE_SEVERITIES, TABLE

SEVERITIES = {"info", "warning", "critical"}


def shipped() -> list[dict[str, Any]]:
    """The entries of the chart's built-in rules file."""
    entries = yaml.safe_load(BUILTIN_RULES.read_text())
    assert isinstance(entries, list)
    return entries


def test_file_lists_the_rules_once() -> None:
    entries = shipped()
    assert len(entries) == len({(e["resourceType"], e["field"]) for e in entries}) == 22


def test_file_is_the_reference_table_in_its_order() -> None:
    by_type: dict[str, list[str]] = {}
    for entry in shipped():
        by_type.setdefault(entry["resourceType"], []).append(entry["field"])
    assert by_type == TABLE
    assert list(by_type) == list(TABLE)


def test_server_severities_are_the_references_and_every_rule_has_one() -> None:
    severities = {(e["resourceType"], e["field"]): e["severity"] for e in shipped()}
    assert {pair: severities[pair] for pair in REFERENCE_SEVERITIES} == REFERENCE_SEVERITIES
    assert set(severities.values()) <= SEVERITIES


def test_every_rule_is_named_and_described() -> None:
    entries = shipped()
    assert all(e["name"] and e["description"] for e in entries)
    assert len({e["name"] for e in entries}) == len(entries)
