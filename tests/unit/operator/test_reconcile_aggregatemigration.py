"""AggregateMigration decisions with plain data: preflight plan, step order, rollback, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from daytwo.crds.aggregatemigration import AggregateMigrationSpec, AggregateMigrationStatus, CommandLogEntry
from daytwo.crds.base import Step
from daytwo.operator.reconcile.aggregatemigration.plan import (
    AggregateState,
    Observed,
    Request,
    make_plan,
    plan_conditions,
    resolve_host,
)
from daytwo.operator.reconcile.aggregatemigration.plan import request_from_spec as request_from_model
from daytwo.operator.reconcile.aggregatemigration.steps import (
    MAX_BACKOFF_SECONDS,
    Progress,
    append_log,
    backoff_seconds,
    fail_step,
    finish_step,
    forward_steps,
    is_done,
    log_entry,
    next_step,
    progress,
    progress_conditions,
    rollback_steps,
    start_step,
    step_command,
)
from daytwo.operator.settings import OperatorSettings

RULES = OperatorSettings().naming_rules()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOST = "gpu-1"


def aggs(**members: tuple[list[str], str | None]) -> dict[str, AggregateState]:
    """Aggregates by name from name=(hosts, zone); ids are the position."""
    return {
        name.replace("_", "-"): AggregateState(str(i), name.replace("_", "-"), zone, frozenset(hosts))
        for i, (name, (hosts, zone)) in enumerate(members.items(), start=1)
    }


def spec(**extra: Any) -> dict[str, Any]:
    return {"host": HOST, "sourceAggregate": "L40-n3", "targetAggregate": "L40-n3-spot", **extra}


def request_from_spec(fields: dict[str, Any]) -> Request:
    """The request of a spec given as the apiserver stores it (parsed by the model, as the handler does)."""
    ref = {"kind": "CloudCredential", "name": "openstack-prod"}
    return request_from_model(AggregateMigrationSpec.model_validate({"credentialsRef": ref, **fields}))


def world(**overrides: Any) -> Observed:
    base = aggs(L40_n3=([HOST], None), L40_n3_spot=([], None), az_a=([HOST], "az-a"))
    return Observed(overrides.get("host", HOST), overrides.get("aggregates", base), overrides.get("vms", ()))


def check(plan: Any, name: str) -> Any:
    return next(c for c in plan.checks if c.name == name)


def test_request_from_either_spec_shape() -> None:
    assert request_from_spec(spec()).remove_from == ("L40-n3",)
    listed = request_from_spec({"host": HOST, "removeFrom": ["a", "b"], "addTo": ["c"], "dryRun": True})
    assert (listed.remove_from, listed.add_to, listed.dry_run, listed.on_failure) == (
        ("a", "b"),
        ("c",),
        True,
        "Rollback",
    )


def test_resolve_host_by_hypervisor_or_service_name() -> None:
    hypervisors = [("h100-host-004.cloud.local", "h100-host-004"), ("x.cloud.local", None)]
    assert resolve_host("h100-host-004.cloud.local", hypervisors) == "h100-host-004"
    assert resolve_host("h100-host-004", hypervisors) == "h100-host-004"
    assert resolve_host("x", hypervisors) == "x.cloud.local"
    assert resolve_host("nope", hypervisors) is None


def test_preview_adds_before_it_removes() -> None:
    plan = make_plan(request_from_spec(spec()), world(), RULES)
    assert plan.ok and not plan.in_place
    assert plan.commands == [
        "openstack aggregate add host L40-n3-spot gpu-1",
        "openstack aggregate remove host L40-n3 gpu-1",
    ]
    assert [c.name for c in plan.checks] == [
        "SourceExists",
        "TargetExists",
        "HostInSource",
        "RunningVMs",
        "AvailabilityZone",
    ]
    assert plan.zones_before == plan.zones_after == ["az-a"]
    status = plan.to_status().to_k8s()
    assert status["computeHost"] == HOST and status["availabilityZoneAfter"] == "az-a"
    ready = next(u for u in plan_conditions(plan, dry_run=True) if u.type == "Ready")
    assert ready.status and ready.reason == "PreviewReady"


@pytest.mark.parametrize(
    ("changes", "check_name", "reason"),
    [
        ({"targetAggregate": "missing"}, "TargetExists", "TargetAggregateNotFound"),
        ({"sourceAggregate": "missing"}, "SourceExists", "SourceAggregateNotFound"),
    ],
)
def test_failed_checks_name_the_reason(changes: dict[str, str], check_name: str, reason: str) -> None:
    plan = make_plan(request_from_spec(spec(**changes)), world(), RULES)
    assert not plan.ok and plan.failures[0].name == check_name and plan.failures[0].reason == reason
    updates = {u.type: u for u in plan_conditions(plan, dry_run=False)}
    assert not updates["Ready"].status and updates["Ready"].reason == reason and updates["Stalled"].status
    assert not {u.type: u for u in plan_conditions(plan, dry_run=True)}["Stalled"].status


def test_host_in_neither_aggregate_is_refused() -> None:
    aggregates = aggs(L40_n3=([], None), L40_n3_spot=([], None), other=([HOST], None))
    plan = make_plan(request_from_spec(spec()), world(aggregates=aggregates), RULES)
    assert plan.failures[0].reason == "HostNotInSource" and "it is in other" in plan.failures[0].message


def test_unknown_host_fails_placement() -> None:
    plan = make_plan(request_from_spec(spec()), world(host=None), RULES)
    assert not check(plan, "HostInSource").ok and "check spec.host" in check(plan, "HostInSource").message


def test_running_vms_block_leaving_spot_unless_forced() -> None:
    aggregates = aggs(L40_n3=([], None), L40_n3_spot=([HOST], None))
    move = spec(sourceAggregate="L40-n3-spot", targetAggregate="L40-n3")
    refused = make_plan(request_from_spec(move), world(aggregates=aggregates, vms=["vm-1", "vm-2"]), RULES)
    assert refused.failures[0].reason == "RunningVMs" and "2 VM(s)" in refused.failures[0].message
    forced = make_plan(request_from_spec({**move, "force": True}), world(aggregates=aggregates, vms=["vm-1"]), RULES)
    assert forced.ok and "force" in check(forced, "RunningVMs").message
    ondemand = make_plan(request_from_spec(spec()), world(vms=["vm-1"]), RULES)
    assert ondemand.ok, "leaving on-demand with VMs is allowed"


def test_add_before_remove_refuses_two_zones_at_once() -> None:
    aggregates = aggs(east=([HOST], "az-east"), west=([], "az-west"))
    request = request_from_spec({"host": HOST, "sourceAggregate": "east", "targetAggregate": "west"})
    plan = make_plan(request, world(aggregates=aggregates), RULES)
    assert plan.failures[0].reason == "AvailabilityZoneConflict" and "az-east, az-west" in plan.failures[0].message
    unchecked = request_from_spec(
        {"host": HOST, "sourceAggregate": "east", "targetAggregate": "west", "checkAvailabilityZone": False}
    )
    assert make_plan(unchecked, world(aggregates=aggregates), RULES).ok, "Nova gets the last word"


def test_zone_change_is_refused_while_checked() -> None:
    aggregates = aggs(east=([HOST], "az-east"), plain=([], None))
    request = request_from_spec({"host": HOST, "sourceAggregate": "east", "targetAggregate": "plain"})
    plan = make_plan(request, world(aggregates=aggregates), RULES)
    assert not plan.ok and plan.zones_before == ["az-east"] and plan.zones_after == ["nova"]


def test_host_already_in_target_is_success_without_commands() -> None:
    aggregates = aggs(L40_n3=([], None), L40_n3_spot=([HOST], None))
    plan = make_plan(request_from_spec(spec()), world(aggregates=aggregates), RULES)
    assert plan.ok and plan.in_place and plan.commands == []


def test_resumed_move_only_removes() -> None:
    aggregates = aggs(L40_n3=([HOST], None), L40_n3_spot=([HOST], None))
    plan = make_plan(request_from_spec(spec()), world(aggregates=aggregates), RULES)
    assert plan.ok and plan.commands == ["openstack aggregate remove host L40-n3 gpu-1"]


def steps_for_move() -> list[Step]:
    observed = world()
    return forward_steps(HOST, [observed.aggregates["L40-n3-spot"]], [observed.aggregates["L40-n3"]])


def test_forward_steps_add_first_and_carry_what_a_restart_needs() -> None:
    steps = steps_for_move()
    assert [s.name for s in steps] == ["add-host/L40-n3-spot", "remove-host/L40-n3"]
    assert steps[0].external_ids == {
        "action": "add",
        "aggregate": "L40-n3-spot",
        "aggregateId": "2",
        "host": HOST,
        "phase": "forward",
    }
    assert next_step(steps) == 0 and progress(steps, "Rollback") is Progress.RUNNING


def test_membership_decides_whether_a_step_is_done() -> None:
    add, remove = steps_for_move()
    assert is_done(add, frozenset({HOST})) and not is_done(add, frozenset())
    assert is_done(remove, frozenset()) and not is_done(remove, frozenset({HOST}))


def test_interrupted_step_counts_as_ours_a_pending_one_as_skipped() -> None:
    add, _ = steps_for_move()
    running = start_step(add, NOW)
    assert running.state == "Running" and running.attempts == 1 and running.started_at == NOW
    assert finish_step(running, NOW, called=False, message="completed before an operator restart").state == "Succeeded"
    assert finish_step(add, NOW, called=False, message="already in place").state == "Skipped"


def test_success_and_already_in_place() -> None:
    add, remove = steps_for_move()
    done = [
        finish_step(start_step(add, NOW), NOW, called=True, message="done"),
        finish_step(remove, NOW, called=False, message="x"),
    ]
    assert progress(done, "Rollback") is Progress.SUCCEEDED and next_step(done) is None
    reasons = {u.type: u.reason for u in progress_conditions(Progress.SUCCEEDED, done)}
    assert reasons["Ready"] == reasons["Succeeded"] == "Migrated"
    skipped = [finish_step(s, NOW, called=False, message="x") for s in steps_for_move()]
    assert {u.type: u.reason for u in progress_conditions(Progress.SUCCEEDED, skipped)}["Ready"] == "AlreadyInPlace"


def test_failed_remove_rolls_back_the_add_in_reverse() -> None:
    add, remove = steps_for_move()
    steps = [
        finish_step(start_step(add, NOW), NOW, called=True, message="done"),
        fail_step(start_step(remove, NOW), NOW, "boom"),
    ]
    undo = rollback_steps(steps)
    assert [s.name for s in undo] == ["rollback/remove-host/L40-n3-spot"]
    assert undo[0].external_ids is not None
    assert undo[0].external_ids["phase"] == "rollback" and undo[0].external_ids["aggregateId"] == "2"
    steps += undo
    assert progress(steps, "Rollback") is Progress.ROLLING_BACK and next_step(steps) == 2
    steps[2] = finish_step(start_step(steps[2], NOW), NOW, called=True, message="done")
    assert progress(steps, "Rollback") is Progress.ROLLED_BACK and next_step(steps) is None
    updates = {u.type: u for u in progress_conditions(Progress.ROLLED_BACK, steps)}
    assert updates["RolledBack"].status and not updates["Succeeded"].status and not updates["Ready"].status
    assert "boom" in updates["Succeeded"].message


def test_failed_add_has_nothing_to_undo_and_skipped_steps_are_not_undone() -> None:
    add, remove = steps_for_move()
    assert rollback_steps([fail_step(start_step(add, NOW), NOW, "409")]) == []
    skipped = finish_step(add, NOW, called=False, message="already in place")
    assert rollback_steps([skipped, fail_step(start_step(remove, NOW), NOW, "x")]) == []


def test_stop_policy_stalls() -> None:
    add, remove = steps_for_move()
    steps = [finish_step(start_step(add, NOW), NOW, called=True, message="done"), fail_step(remove, NOW, "boom")]
    assert progress(steps, "Stop") is Progress.STOPPED and next_step(steps) is None
    updates = {u.type: u for u in progress_conditions(Progress.STOPPED, steps)}
    assert updates["Stalled"].status and updates["Succeeded"].reason == "StepFailed"


def test_failed_rollback_stalls() -> None:
    add, remove = steps_for_move()
    steps = [finish_step(start_step(add, NOW), NOW, called=True, message="done"), fail_step(remove, NOW, "boom")]
    steps += [fail_step(step, NOW, "again") for step in rollback_steps(steps)]
    assert progress(steps, "Rollback") is Progress.ROLLBACK_FAILED and next_step(steps) is None
    updates = {u.type: u for u in progress_conditions(Progress.ROLLBACK_FAILED, steps)}
    assert updates["Stalled"].status and not updates["RolledBack"].status


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_seconds(n, 2) for n in (1, 2, 3)] == [2, 4, 8]
    assert backoff_seconds(30, 2) == MAX_BACKOFF_SECONDS


def test_command_log_is_bounded_and_names_the_user() -> None:
    entry = log_entry("openstack aggregate add host a h", "success", NOW, 12, None, "done").to_k8s()
    assert entry["user"] == "system" and entry["durationMs"] == 12 and entry["timestamp"] == "2026-01-01T00:00:00Z"
    log: list[CommandLogEntry] = []
    for number in range(60):
        log = append_log(log, CommandLogEntry.model_validate({**entry, "output": str(number)}))
    assert len(log) == 50 and log[-1].output == "59"


def test_second_pass_has_nothing_to_do() -> None:
    """Level-triggered: once the steps ran, re-planning against the new membership yields no command."""
    moved = aggs(L40_n3=([], None), L40_n3_spot=([HOST], None))
    again = make_plan(request_from_spec(spec()), world(aggregates=moved), RULES)
    assert again.in_place and again.commands == []


def test_status_round_trip_gives_the_dict_the_dict_based_machine_wrote() -> None:
    """Steps and the command log as the dict-based step machine wrote them (ids are UUIDs, distinct from
    the aggregate names): parsed, run one step further and dumped, they come out in the same wire shape."""
    add_id, remove_id = "0b6f9f8e-6c1e-4f5e-8d0a-2f1c3b4a5d6e", "7d2c1b0a-9e8f-4a6b-b5c4-d3e2f1a0b9c8"
    written = {
        "steps": [
            {"name": "add-host/L40-n3-spot", "state": "Succeeded", "attempts": 1,
             "externalIds": {"action": "add", "aggregate": "L40-n3-spot", "aggregateId": add_id, "host": HOST,
                             "phase": "forward"},
             "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:00Z", "message": "done"},
            {"name": "remove-host/L40-n3", "state": "Pending", "attempts": 0,
             "externalIds": {"action": "remove", "aggregate": "L40-n3", "aggregateId": remove_id, "host": HOST,
                             "phase": "forward"}},
        ],
        "commandLog": [
            {"timestamp": "2026-01-01T00:00:00Z", "command": f"openstack aggregate add host L40-n3-spot {HOST}",
             "status": "success", "durationMs": 41, "user": "alice", "output": "done"},
        ],
    }  # fmt: skip
    status = AggregateMigrationStatus.model_validate(written)
    assert status.patch_of("steps", "command_log") == written
    steps = list(status.steps or [])
    assert next_step(steps) == 1 and step_command(steps[1]) == f"openstack aggregate remove host L40-n3 {HOST}"
    steps[1] = finish_step(start_step(steps[1], NOW), NOW, called=True, message="done")
    entry = log_entry(step_command(steps[1]), "success", NOW, 7, "alice", "done")
    after = status.model_copy(update={"steps": steps, "command_log": append_log(status.command_log or [], entry)})
    dumped = after.patch_of("steps", "command_log")
    assert dumped["steps"][0] == written["steps"][0]
    assert dumped["steps"][1] == {
        **written["steps"][1], "state": "Succeeded", "attempts": 1, "startedAt": "2026-01-01T00:00:00Z",
        "finishedAt": "2026-01-01T00:00:00Z", "message": "done",
    }  # fmt: skip
    assert dumped["commandLog"] == [
        *written["commandLog"],
        {"timestamp": "2026-01-01T00:00:00Z", "command": f"openstack aggregate remove host L40-n3 {HOST}",
         "status": "success", "durationMs": 7, "user": "alice", "output": "done"},
    ]  # fmt: skip
