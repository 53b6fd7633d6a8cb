"""SnapshotPolicy decisions with plain data: slots, missed runs, targets, names, retention, SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from daytwo.crds.snapshotpolicy import OpenStackVolumeTargets, SnapshotPolicySpec, SnapshotRun
from daytwo.operator.reconcile.snapshotpolicy.decisions import (
    SnapshotInfo,
    VolumeInfo,
    current_slot,
    due_slot,
    existing_for_slot,
    in_flight_wait,
    match_volumes,
    next_time,
    on_demand_slot,
    push_history,
    retention_deletions,
    run_id,
    slot_duplicates,
    snapshot_metadata,
    snapshot_name,
)
from daytwo.operator.reconcile.snapshotpolicy.sla import compliance
from daytwo.operator.shared.snapshots import OWNER_KEY, SLOT_KEY, parse_duration, policy_view

NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
OWNER = "ns/SnapshotPolicy/nightly"


def typed(**fields: Any) -> SnapshotPolicySpec:
    """A spec with a credential and targets, as the handler parses it from the object."""
    base: dict[str, Any] = {"credentialsRef": {"name": "cloud"}, "targets": {"openstack": {"projects": ["p1"]}}}
    return SnapshotPolicySpec.model_validate({**base, **fields})


def view(**spec: Any) -> Any:
    base: dict[str, Any] = {"schedule": "0 2 * * *", "retention": {"keepLast": 3}}
    return policy_view("ns", "nightly", typed(**{**base, **spec}))


def volume(id_: str, project: str = "p1", name: str = "", **meta: str) -> VolumeInfo:
    return VolumeInfo(id_, name or f"vol-{id_}", project, f"proj-{project}", "d1", "Default", "available", 10, meta)


def snap(id_: str, volume_id: str, age_days: float, status: str = "available", mine: bool = True) -> SnapshotInfo:
    meta = {OWNER_KEY: OWNER} if mine else {}
    return SnapshotInfo(id_, f"s-{id_}", volume_id, status, NOW - timedelta(days=age_days), meta)


def test_named_policy_and_time_zone() -> None:
    daily = policy_view("ns", "p", typed(policyName="daily_5", timeZone="Europe/Berlin"))
    assert (daily.cron, daily.keep_last) == ("0 0 * * *", 5)
    assert next_time(daily, NOW) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # midnight CET
    assert current_slot(daily, NOW) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)


def test_invalid_cron_and_zone_are_clear() -> None:
    with pytest.raises(ValueError, match="not a valid cron"):
        view(schedule="61 * * * *")
    with pytest.raises(ValueError, match="not a known IANA time zone"):
        view(timeZone="Mars/Olympus")
    assert parse_duration("1d12h") == timedelta(hours=36)
    with pytest.raises(ValueError):
        parse_duration("3x")


def test_slot_at_its_exact_time_is_current() -> None:
    exact = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert current_slot(view(), exact) == exact
    assert next_time(view(), exact) == exact + timedelta(days=1)


def test_due_slot_runs_once_for_missed_slots() -> None:
    created = NOW - timedelta(days=5)
    decision = due_slot(view(), NOW, NOW - timedelta(days=3), created)
    assert decision.due == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # the latest only, not three
    done = due_slot(view(), NOW, decision.due, created)
    assert done.due is None and done.next_time == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_no_slot_before_creation_and_deadline_skips() -> None:
    assert due_slot(view(), NOW, None, NOW - timedelta(hours=1)).due is None
    late = due_slot(view(startingDeadlineSeconds=3600), NOW, None, NOW - timedelta(days=2))
    assert late.due is None and late.missed == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    in_time = due_slot(view(startingDeadlineSeconds=86400), NOW, None, NOW - timedelta(days=2))
    assert in_time.due == late.missed


def test_targets_by_project_domain_metadata_and_id() -> None:
    volumes = [volume("a", "p1"), volume("b", "p2", auto_snapshot="true"), volume("c", "p3"), volume("d", "p4")]

    def match(**selectors: Any) -> list[VolumeInfo]:
        return match_volumes(OpenStackVolumeTargets(**selectors), volumes)

    assert [v.id for v in match(projects=["proj-p1"])] == ["a"]
    assert [v.id for v in match(volume_metadata={"auto_snapshot": "true"})] == ["b"]
    assert [v.id for v in match(volume_ids=["d"], projects=["p3"])] == ["c", "d"]
    assert len(match(domains=["Default"])) == 4


def test_names_metadata_and_run_ids_are_deterministic() -> None:
    policy = view(snapshot={"namePrefix": "bk", "metadata": {"team": "ops"}})
    slot = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert snapshot_name(policy, "1234abcd-ef00-0000", slot) == "bk-nightly-1234abcd-202611300200"
    assert snapshot_metadata(policy, slot) == {"team": "ops", OWNER_KEY: OWNER, SLOT_KEY: "2026-11-30T02:00:00Z"}
    assert run_id(policy, slot, "scheduled") == "nightly-202611300200-scheduled"
    requested = on_demand_slot(datetime(2026, 11, 30, 14, 3, 9, 500, tzinfo=UTC))
    assert snapshot_name(policy, "1234abcd", requested) == "bk-nightly-1234abcd-20261130140309"
    assert on_demand_slot(requested, previous=requested) == requested + timedelta(seconds=1)
    assert on_demand_slot(requested, previous=requested - timedelta(hours=1)) == requested
    assert run_id(policy, slot, "manual", "t1") == run_id(policy, slot, "manual", "t1")
    assert run_id(policy, slot, "manual", "t1") != run_id(policy, slot, "manual", "t2")


def test_existing_snapshot_found_by_metadata_or_name() -> None:
    policy = view()
    slot = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    by_meta = SnapshotInfo("s1", "renamed", "a", "creating", NOW, snapshot_metadata(policy, slot))
    by_name = SnapshotInfo("s2", snapshot_name(policy, "b", slot), "b", "available", NOW, {})
    other_slot = SnapshotInfo("s3", "x", "c", "available", NOW, snapshot_metadata(policy, slot - timedelta(days=1)))
    found = existing_for_slot(policy, slot, [by_meta, by_name, other_slot])
    assert {k: v.id for k, v in found.items()} == {"a": "s1", "b": "s2"}


def test_retention_keeps_last_and_counts_only_available_owned() -> None:
    snaps = [snap(f"s{i}", "a", i) for i in range(5)]
    snaps += [snap("creating", "a", 0.1, "creating"), snap("foreign", "a", 9, mine=False)]
    assert [s.id for s in retention_deletions(view(), snaps, NOW)] == ["s3", "s4"]


def test_retention_max_age_never_deletes_last_good() -> None:
    policy = view(retention={"maxAge": "2d"})
    snaps = [snap("old1", "a", 10), snap("old2", "a", 20), snap("err", "a", 1, "error")]
    assert [s.id for s in retention_deletions(policy, snaps, NOW)] == ["old2"]
    assert retention_deletions(policy, [snap("only", "a", 30)], NOW) == []


def slot_snap(id_: str, volume_id: str, age_days: float, status: str = "available", slot: str = "s1") -> SnapshotInfo:
    meta = {OWNER_KEY: OWNER, SLOT_KEY: slot}
    return SnapshotInfo(id_, "same-name", volume_id, status, NOW - timedelta(days=age_days), meta)


def test_duplicates_of_a_slot_keep_one_available_the_oldest() -> None:
    """Cinder accepts duplicate names: a create answered too late leaves two snapshots of one slot."""
    policy = view(retention={"keepLast": 10})
    older, newer, other_slot = slot_snap("a", "v1", 0.2), slot_snap("b", "v1", 0.1), slot_snap("c", "v1", 1, slot="s0")
    assert [s.id for s in slot_duplicates(policy, [newer, older, other_slot])] == ["b"]
    assert [s.id for s in retention_deletions(policy, [newer, older, other_slot], NOW)] == ["b"]
    creating = slot_snap("a", "v1", 0.2, "creating")
    assert [s.id for s in slot_duplicates(policy, [creating, newer])] == [], "never delete the only available one"
    assert [s.id for s in slot_duplicates(policy, [older, slot_snap("b", "v1", 0.1, "creating")])] == []
    broken = slot_snap("e", "v1", 0.3, "error")
    assert [s.id for s in slot_duplicates(policy, [broken, older, newer])] == ["b", "e"]
    foreign = SnapshotInfo("f", "same-name", "v1", "available", NOW, {SLOT_KEY: "s1"})
    assert slot_duplicates(policy, [older, foreign]) == [], "only this policy's snapshots"
    assert slot_duplicates(policy, [older, slot_snap("g", "v2", 0.1)]) == [], "per volume"


def test_in_flight_window_of_another_process_is_waited_out() -> None:
    record = {"id": "r", "trigger": "scheduled", "inFlightUntil": "2026-11-30T12:31:00Z"}
    run = SnapshotRun.model_validate({**record, "inFlightHolder": "dead-process"})
    assert in_flight_wait(run, "me", NOW) == 60.0
    assert in_flight_wait(run, "me", NOW + timedelta(minutes=2)) == 0.0
    mine = SnapshotRun.model_validate({**record, "inFlightHolder": "me"})
    assert in_flight_wait(mine, "me", NOW) == 0.0, "its own creates were all answered"
    assert in_flight_wait(SnapshotRun(id="r", trigger="manual"), "me", NOW) == 0.0


def test_sla_per_tenant_hand_computed() -> None:
    volumes = [volume("a", "p1"), volume("b", "p1"), volume("c", "p1"), volume("d", "p2")]
    snaps = [
        snap("s1", "a", 1),  # compliant (slaDays 2)
        snap("s2", "b", 3),  # warning (<= 4 days)
        snap("s3", "b", 5, mine=False),
        snap("s4", "c", 0.5, "error"),  # no good snapshot: critical
        snap("s5", "d", 1.9, mine=False),  # any available snapshot counts
    ]
    result = compliance(view(), volumes, snaps, NOW, limit=50)
    [p1, p2] = result.tenants
    assert (p1.tenant, p1.total, p1.compliant, p1.warning, p1.critical, p1.percentage) == (
        "proj-p1",
        3,
        1,
        1,
        1,
        33.3,
    )
    assert (p2.total, p2.compliant, p2.percentage) == (1, 1, 100.0)
    assert [(e.id, e.severity) for e in result.out_of_sla] == [("c", "critical"), ("b", "warning")]
    assert result.out_of_sla_total == 2


def test_sla_list_is_bounded() -> None:
    volumes = [volume(f"v{i:03}") for i in range(120)]
    result = compliance(view(), volumes, [], NOW, limit=50)
    assert len(result.out_of_sla) == 50 and result.out_of_sla_total == 120
    assert result.tenants[0].critical == 120 and result.tenants[0].percentage == 0.0


def test_history_newest_first_bounded_and_deduplicated() -> None:
    history = [SnapshotRun(id=f"r{i}", trigger="scheduled") for i in range(50)]
    updated = push_history(history, SnapshotRun(id="new", trigger="manual"), 50)
    assert len(updated) == 50 and updated[0].id == "new" and updated[-1].id == "r48"
    finished = SnapshotRun(id="x", trigger="manual", state="Succeeded")
    assert push_history([SnapshotRun(id="x", trigger="manual", state="Running")], finished, 50) == [finished]
