"""Drift views: CR dicts -> pf9 rows, filters, ordering, summary (hand-computed expectations)."""

from __future__ import annotations

from daytwo.api.views.platform9 import drift as views

from .data import event, rule


def test_event_row_unquotes_json_strings_and_maps_fields() -> None:
    row = views.event_row(event("e1", acked=True))
    assert row == {
        "id": "e1",
        "resource_type": "server",
        "resource_id": "id-web-01",
        "resource_name": "web-01",
        "field_name": "status",
        "old_value": "ACTIVE",
        "new_value": "SHUTOFF",
        "severity": "critical",
        "rule_name": "status-rule",
        "detected_at": "2026-11-30T08:30:00Z",
        "acknowledged": True,
        "acknowledged_by": "ops@example.com",
        "acknowledged_at": "2026-11-30T09:00:00Z",
        "domain_name": "Default",
        "tenant_name": "proj-a",
    }
    views.DriftEventRow.model_validate(row)


def test_non_string_json_values_stay_json_text_and_deletions_have_no_new_value() -> None:
    row = views.event_row(event("e2", old='{"a": 1}', new=None))
    assert row["old_value"] == '{"a": 1}'
    assert row["new_value"] is None
    assert views.event_row(event("e3", old="not json"))["old_value"] == "not json"


def test_event_detail_adds_rule_metadata() -> None:
    detail = views.event_detail(event("e1"), rule("status-rule"))
    assert detail["rule_id"] == "status-rule"
    assert detail["rule_description"] == "Detects when a server's power status changes unexpectedly"
    assert detail["change"] == "Modified"
    views.DriftEventDetail.model_validate(detail)
    assert views.event_detail(event("e1"), None)["rule_description"] is None


def _rows() -> list[dict]:
    return [
        views.event_row(event("a", severity="info", detected="2026-11-30T01:00:00Z", tenant="t1")),
        views.event_row(event("b", severity="critical", detected="2026-11-30T03:00:00Z", tenant="t2", acked=True)),
        views.event_row(
            event(
                "c", severity="warning", detected="2026-11-30T02:00:00Z", resource_type="volume", resource_name="DB-vol"
            )
        ),
    ]


def test_default_order_is_newest_first() -> None:
    assert [r["id"] for r in views.filter_events(_rows(), views.EventFilter())] == ["b", "c", "a"]


def test_filters_combine_and_search_is_case_insensitive_over_name_and_id() -> None:
    rows = _rows()
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(acknowledged=False))] == ["c", "a"]
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(resource_type="volume"))] == ["c"]
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(search="db-VOL"))] == ["c"]
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(search="id-web"))] == ["b", "a"]
    assert views.filter_events(rows, views.EventFilter(tenant_name="t1", severity="critical")) == []


def test_sort_by_severity_ranks_critical_first_and_unknown_columns_fall_back() -> None:
    rows = _rows()
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(), "severity")] == ["b", "c", "a"]
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(), "severity", "desc")] == ["a", "c", "b"]
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(), "nonsense")] == ["b", "c", "a"]
    assert [r["id"] for r in views.filter_events(rows, views.EventFilter(), "resource_type")] == ["a", "b", "c"]


def test_summary_counts() -> None:
    got = views.summary(_rows())
    assert got == {
        "total_events": 3,
        "unacknowledged": 2,
        "by_severity": {"critical": 1, "warning": 1, "info": 1},
        "by_resource_type": {"server": 2, "volume": 1},
        "last_detected_at": "2026-11-30T03:00:00Z",
    }
    assert views.summary([])["last_detected_at"] is None


def test_rule_row_and_ack_patch() -> None:
    row = views.rule_row(rule("status-rule", enabled=False))
    assert row["id"] == row["rule_name"] == "status-rule"
    assert (row["resource_type"], row["field_name"], row["enabled"], row["credential"]) == (
        "server",
        "status",
        False,
        "os",
    )
    assert row["last_evaluated_at"] == "2026-11-30T10:00:00Z"
    views.DriftRuleRow.model_validate(row)
    at = "2026-11-30T09:00:00Z"  # the patch is built by the Acknowledgement model: a real time
    assert views.acknowledgement_patch("me", at) == {
        "spec": {"acknowledgement": {"acknowledged": True, "by": "me", "at": at}}
    }
    assert views.acknowledgement_patch("me", at, "n")["spec"]["acknowledgement"]["note"] == "n"
    assert views.enabled_patch(False) == {"spec": {"enabled": False}}
