"""The models parse the examples, and the named-policy mapping is what the docs say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from daytwo.crds.kinds import KINDS, by_kind
from daytwo.crds.snapshotpolicy import SnapshotPolicySpec, named_policy
from pydantic import ValidationError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_every_example_parses_with_its_model() -> None:
    seen = set()
    for path in EXAMPLES.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["apiVersion"].startswith("daytwo.io/"):
                by_kind(doc["kind"]).spec.model_validate(doc["spec"])
                seen.add(doc["kind"])
    assert seen == {definition.info.kind for definition in KINDS}


@pytest.mark.parametrize(
    ("name", "cron", "keep"),
    [
        ("daily_5", "0 0 * * *", 5),
        ("hourly_24", "0 * * * *", 24),
        ("weekly_4", "0 0 * * 0", 4),
        ("monthly_12", "0 0 1 * *", 12),
    ],
)
def test_named_policies(name: str, cron: str, keep: int) -> None:
    assert named_policy(name) == (cron, keep)


@pytest.mark.parametrize("name", ["daily_0", "daily", "yearly_1", "daily_5x"])
def test_unknown_named_policy(name: str) -> None:
    with pytest.raises(ValueError, match="unknown named policy"):
        named_policy(name)


def test_round_trip_uses_camel_case_and_omits_unset() -> None:
    spec = SnapshotPolicySpec.model_validate(
        {"credentialsRef": {"name": "c"}, "targets": {"openstack": {"volumeIds": ["v1"]}}, "policyName": "daily_5"}
    )
    dumped = spec.to_k8s()
    assert dumped["credentialsRef"] == {"kind": "CloudCredential", "name": "c"}
    assert "schedule" not in dumped and dumped["slaDays"] == 2


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        SnapshotPolicySpec.model_validate({"credentialsRef": {"name": "c"}, "targets": {}, "retain": 1})
