"""api.views.statuses: each kind's status parsed once by its crds model; conditions strictly or as written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from daytwo.api.views.statuses import (
    condition_of,
    credential_status,
    migration_status,
    node_status,
    raw_condition,
    restore_status,
)
from pydantic import ValidationError

WRITTEN = {
    "type": "Ready",
    "status": "True",
    "reason": "Ready",
    "message": "validated",
    "lastTransitionTime": "2026-12-01T00:00:00Z",
}
LOOSE = {"type": "Validated", "status": "False", "reason": "AuthFailed"}  # no lastTransitionTime


def test_an_object_without_status_parses_to_the_model_defaults() -> None:
    for parse in (credential_status, node_status, restore_status, migration_status):
        assert parse({"metadata": {"name": "x"}}).conditions == []


def test_fields_and_conditions_come_typed() -> None:
    obj = {"status": {"lastValidatedTime": "2026-12-01T00:00:00Z", "conditions": [WRITTEN]}}
    status = credential_status(obj)
    assert status.last_validated_time == datetime(2026, 12, 1, tzinfo=UTC)
    ready = condition_of(status.conditions, "Ready")
    assert ready is not None and ready.status == "True" and ready.message == "validated"
    assert condition_of(status.conditions, "Validated") is None


def test_loose_conditions_are_left_to_raw_condition() -> None:
    obj = {"status": {"identity": {"principal": "admin"}, "conditions": [WRITTEN, LOOSE]}}
    with pytest.raises(ValidationError):
        credential_status(obj)
    assert credential_status(obj, conditions=False).identity.principal == "admin"  # type: ignore[union-attr]
    assert raw_condition(obj, "Validated") == LOOSE
    assert raw_condition({"metadata": {}}, "Ready") is None
