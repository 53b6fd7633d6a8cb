"""Drift decisions with plain data: baselines, real drift, pf9's false positive, deletions, names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_DNS, uuid5

from daytwo.operator.reconcile.drift import (
    BaselineEntry,
    ProjectInfo,
    RuleView,
    evaluate,
    event_name,
    field_value,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
OLD = "2026-01-01T00:00:00Z"
#: Keystone ids are UUIDs distinct from the names (uuid5 of the name, for stable tests).
P1, P2 = (uuid5(NAMESPACE_DNS, f"{name}.project.keystone").hex for name in ("prod", "dev"))
D1, D2 = (uuid5(NAMESPACE_DNS, f"{name}.domain.keystone").hex for name in ("Default", "Lab"))
PROJECTS = {P1: ProjectInfo("prod", D1, "Default"), P2: ProjectInfo("dev", D2, "Lab")}


def server(id_: str, flavor: str = "m1.small", project: str = P1, **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "name": f"vm-{id_}",
        "tenant_id": project,
        "created": OLD,
        "flavor": {"original_name": flavor},
        "status": "ACTIVE",
        **extra,
    }


def volume(id_: str, server_id: str | None, created: str = OLD) -> dict[str, Any]:
    attachments = [{"server_id": server_id}] if server_id else []
    return {
        "id": id_,
        "name": f"data-{id_}",
        "os-vol-tenant-attr:tenant_id": P1,
        "created_at": created,
        "attachments": attachments,
        "status": "in-use",
    }


FLAVOR = RuleView("server-flavor", "server", "flavor_id", "warning", "flavor changed")


def test_first_sight_is_a_baseline_then_a_change_is_one_event() -> None:
    first = evaluate(FLAVOR, [server("a"), server("b")], {}, PROJECTS, NOW)
    assert first.events == [] and first.evaluated == 2 and first.baseline_changed
    assert first.baseline["a"].value == '"m1.small"'
    later = NOW + timedelta(minutes=5)
    second = evaluate(FLAVOR, [server("a", "m1.large"), server("b")], first.baseline, PROJECTS, later)
    [(name, spec, labels)] = second.events
    assert spec["oldValue"] == '"m1.small"' and spec["newValue"] == '"m1.large"'
    assert spec["change"] == "Modified" and spec["severity"] == "warning"
    assert spec["projectName"] == "prod" and spec["domainName"] == "Default" and spec["resourceName"] == "vm-a"
    assert labels["daytwo.io/drift-rule"] == "server-flavor" and name.startswith("server-flavor-")
    # The same observation again (a restarted operator before the baseline was saved): same name.
    again = evaluate(FLAVOR, [server("a", "m1.large"), server("b")], first.baseline, PROJECTS, later)
    assert again.events[0][0] == name


def test_nothing_changed_writes_nothing() -> None:
    first = evaluate(FLAVOR, [server("a")], {}, PROJECTS, NOW)
    second = evaluate(FLAVOR, [server("a")], first.baseline, PROJECTS, NOW + timedelta(hours=1))
    assert second.events == [] and not second.baseline_changed


def test_boot_volume_attached_right_after_creation_is_not_drift() -> None:
    """pf9's false positive: a new boot volume's server_id goes from empty to set."""
    rule = RuleView("volume-server", "volume", "server_id", "critical")
    created = (NOW - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S.000000")  # Cinder: UTC, no zone
    first = evaluate(rule, [volume("v1", None, created)], {}, PROJECTS, NOW)
    second = evaluate(rule, [volume("v1", "srv-1", created)], first.baseline, PROJECTS, NOW + timedelta(minutes=1))
    assert second.events == [] and second.baseline["v1"].value == '"srv-1"'
    # An old volume re-attached elsewhere is drift; an old one detached is drift too.
    third = evaluate(rule, [volume("v1", "srv-2", created)], second.baseline, PROJECTS, NOW + timedelta(hours=1))
    assert [spec["newValue"] for _, spec, _ in third.events] == ['"srv-2"']
    old = evaluate(rule, [volume("v2", "srv-9")], {}, PROJECTS, NOW)
    detached = evaluate(rule, [volume("v2", None)], old.baseline, PROJECTS, NOW + timedelta(hours=1))
    assert [spec["newValue"] for _, spec, _ in detached.events] == ["null"]


def test_disappeared_resource_is_one_deletion() -> None:
    first = evaluate(FLAVOR, [server("a"), server("b")], {}, PROJECTS, NOW)
    second = evaluate(FLAVOR, [server("a")], first.baseline, PROJECTS, NOW + timedelta(minutes=5))
    [(_, spec, _)] = second.events
    assert spec["change"] == "Deleted" and spec["resourceId"] == "b" and "newValue" not in spec
    assert "b" not in second.baseline
    third = evaluate(FLAVOR, [server("a")], second.baseline, PROJECTS, NOW + timedelta(minutes=10))
    assert third.events == []


def test_project_and_domain_filters_by_name_or_id() -> None:
    by_name = RuleView("r", "server", "status", "info", projects=("dev",))
    result = evaluate(by_name, [server("a", project=P1), server("b", project=P2)], {}, PROJECTS, NOW)
    assert set(result.baseline) == {"b"}
    by_domain = RuleView("r", "server", "status", "info", domains=(D1,))
    assert set(evaluate(by_domain, [server("a"), server("b", project=P2)], {}, PROJECTS, NOW).baseline) == {"a"}


def test_field_names_aliases_and_json_paths() -> None:
    raw = server(
        "a",
        **{"OS-EXT-STS:vm_state": "active", "metadata": {"owner": "ops"}, "addresses": {"net": [{"addr": "10.0.0.5"}]}},
    )
    assert field_value("server", raw, "vm_state") == "active"
    assert field_value("server", raw, "flavor_id") == "m1.small"
    assert field_value("server", raw, "$.metadata.owner") == "ops"
    assert field_value("server", raw, "$.addresses.net[0].addr") == "10.0.0.5"
    assert field_value("server", raw, "$.addresses.net[3].addr") is None
    assert field_value("server", raw, "$.missing.deeper") is None


def test_event_names_are_dns_labels_and_distinguish_repeats() -> None:
    name = event_name("r" * 250, "id", "status", '"ERROR"', OLD)
    assert len(name) <= 253 and name.replace("-", "").isalnum()
    assert event_name("r", "id", "status", '"ERROR"', OLD) != event_name(
        "r", "id", "status", '"ERROR"', NOW.isoformat()
    )


def test_baseline_entries_round_trip() -> None:
    entry = BaselineEntry('"x"', "name", None, OLD)
    assert BaselineEntry.from_list(entry.as_list()) == entry
