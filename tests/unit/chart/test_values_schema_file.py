"""values.schema.json read as a file: strict at every level (helm's use of it is in tests/integration/chart)."""

from __future__ import annotations

import json

from tests.harness.helm import CHART


def test_every_block_is_closed() -> None:
    """Strictness itself: the top level and every object block refuse unknown keys."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    for name, block in schema["properties"].items():
        if block.get("type") == "object" and "properties" in block:
            assert block["additionalProperties"] is False, name
