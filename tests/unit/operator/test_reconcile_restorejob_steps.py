"""The RestoreJob step machine with plain data: progress, cancel, dry run, retry, conditions, phase."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from daytwo.crds.base import Step
from daytwo.crds.restorejob_status import CreatedResource, RestoreJobStatus
from daytwo.operator.reconcile.restorejob.steps import (
    Progress,
    add_resource,
    cancel_steps,
    fail_step,
    failure,
    finish_step,
    initial_steps,
    job_conditions,
    mark_deleted,
    next_step,
    phase,
    progress,
    reset_from,
    resume_index,
    skip_for_dry_run,
    start_step,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def run_until(steps: list[Step], name: str) -> list[Step]:
    """Every step before ``name`` Succeeded, ``name`` Running."""
    out = []
    for step in steps:
        if step.name == name:
            out.append(start_step(step, NOW))
            out += steps[len(out) :]
            return out
        out.append(finish_step(start_step(step, NOW), NOW, "done"))
    return out


def test_step_lists() -> None:
    new = [s.name for s in initial_steps("openstack", "NEW")]
    replace = [s.name for s in initial_steps("openstack", "REPLACE")]
    assert new[0] == "VALIDATE_LIVE_STATE" and new[-1] == "FINALIZE" and len(new) == 8
    assert replace[1:5] == ["RECORD_ORIGINAL_VM", "DELETE_EXISTING_VM", "WAIT_VM_DELETED", "CLEANUP_OLD_PORTS"]
    assert replace[5:] == new[1:]
    assert [s.name for s in initial_steps("proxmox", "REPLACE")] == [
        "VALIDATE_LIVE_STATE", "STOP_GUEST", "ROLLBACK_SNAPSHOT", "START_GUEST", "FINALIZE"
    ]  # fmt: skip
    assert [s.name for s in initial_steps("proxmox", "NEW")][1] == "CLONE_FROM_SNAPSHOT"


def test_progress_follows_the_steps() -> None:
    steps = initial_steps("openstack", "NEW")
    assert progress([]) is Progress.NOT_STARTED and progress(steps) is Progress.PENDING
    running = run_until(steps, "CREATE_PORTS")
    assert progress(running) is Progress.RUNNING and next_step(running) == 3
    assert running[3].attempts == 1 and running[3].to_k8s()["startedAt"] == "2026-01-02T03:04:05Z"
    failed = list(running)
    failed[3] = fail_step(running[3], NOW, "IpUnavailable", "taken")
    assert progress(failed) is Progress.FAILED and next_step(failed) is None
    assert failure(failed) == ("CREATE_PORTS", "IpUnavailable", "taken")
    done = [finish_step(s, NOW, "ok") for s in steps]
    assert progress(done) is Progress.SUCCEEDED and next_step(done) is None


def test_cancel_stops_open_steps_only() -> None:
    canceled = cancel_steps(run_until(initial_steps("openstack", "NEW"), "WAIT_VOLUME_AVAILABLE"), NOW)
    states = [s.state for s in canceled]
    assert states[:2] == ["Succeeded", "Succeeded"] and set(states[2:]) == {"Canceled"}
    assert progress(canceled) is Progress.CANCELED and progress(canceled).finished


def test_dry_run_skips_everything_after_validation() -> None:
    steps = run_until(initial_steps("openstack", "REPLACE"), "VALIDATE_LIVE_STATE")
    steps[0] = finish_step(steps[0], NOW, "planned")
    dry = skip_for_dry_run(steps, 0, NOW)
    assert progress(dry) is Progress.SUCCEEDED
    assert dry[2].state == "Skipped" and dry[2].message == "dry run: would delete the VM"


@pytest.mark.parametrize(
    ("failed", "vanished", "redo_ports", "resumed"),
    [
        ("CREATE_SERVER", set(), False, "CREATE_SERVER"),
        ("WAIT_SERVER_ACTIVE", set(), False, "CREATE_SERVER"),
        ("WAIT_VOLUME_AVAILABLE", set(), False, "CREATE_VOLUME_FROM_SNAPSHOT"),
        ("CREATE_SERVER", {"CREATE_VOLUME_FROM_SNAPSHOT"}, False, "CREATE_VOLUME_FROM_SNAPSHOT"),
        ("VERIFY_IPS", set(), True, "CREATE_PORTS"),
        ("VALIDATE_LIVE_STATE", {"CREATE_PORTS"}, True, "VALIDATE_LIVE_STATE"),
    ],
)
def test_retry_resumes_at_the_failed_step_or_earlier(
    failed: str, vanished: set[str], redo_ports: bool, resumed: str
) -> None:
    steps = run_until(initial_steps("openstack", "NEW"), failed)
    index = next(i for i, s in enumerate(steps) if s.name == failed)
    steps[index] = fail_step(steps[index], NOW, "X", "boom")
    at = resume_index(steps, vanished, redo_ports)
    assert at is not None and steps[at].name == resumed
    again = reset_from(steps, at, "retry 1")
    assert progress(again) is Progress.RUNNING or progress(again) is Progress.PENDING
    assert next_step(again) == at and again[at].message == "retry 1" and "reason" not in (again[at].external_ids or {})
    assert all(s.state == "Succeeded" for s in again[:at])


def test_nothing_to_retry_without_a_failure() -> None:
    assert resume_index(initial_steps("openstack", "NEW"), set()) is None


def test_created_resources_are_deduplicated_and_marked() -> None:
    volume, port = "3f9c2a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", "8e7d6c5b-4a39-4281-b7f6-e5d4c3b2a190"
    boot = CreatedResource(type="volume", id=volume, name="boot", step="CREATE_VOLUME_FROM_SNAPSHOT")
    resources = add_resource([], boot)
    resources = add_resource(resources, CreatedResource(type="volume", id=volume, name=None))
    resources = add_resource(resources, CreatedResource(type="port", id=port, ips=["10.0.0.5"]))
    assert [(r.type, r.id, r.name) for r in resources] == [("volume", volume, "boot"), ("port", port, None)]
    deleted = mark_deleted(resources, "port", port)
    assert deleted[1].deleted is True
    again = add_resource(deleted, CreatedResource(type="port", id=port, name="restored-port"))
    assert again[1].deleted is True and again[1].ips == ["10.0.0.5"], "an update keeps what it does not set"
    assert [r.to_k8s() for r in again] == [
        {"type": "volume", "id": volume, "name": "boot", "step": "CREATE_VOLUME_FROM_SNAPSHOT", "deleted": False},
        {"type": "port", "id": port, "name": "restored-port", "ips": ["10.0.0.5"], "deleted": True},
    ]


def test_conditions_and_phase() -> None:
    steps = initial_steps("openstack", "NEW")
    running = run_until(steps, "CREATE_SERVER")
    updates = {u.type: u for u in job_conditions(Progress.RUNNING, running, dry_run=False, summary="s")}
    assert updates["Reconciling"].status and updates["Ready"].reason == "Restoring"
    assert "CREATE_SERVER (4/8 steps done)" in updates["Ready"].message
    done = {u.type: u for u in job_conditions(Progress.SUCCEEDED, steps, dry_run=True, summary="s")}
    assert done["Succeeded"].reason == "DryRun" and done["Ready"].status
    failed = list(running)
    failed[4] = fail_step(running[4], NOW, "PermissionDenied", "403")
    bad = {u.type: u for u in job_conditions(Progress.FAILED, failed, dry_run=False, summary="s")}
    assert (
        bad["Succeeded"].reason == "PermissionDenied" and bad["Stalled"].status and "spec.retry" in bad["Ready"].message
    )
    canceled = {u.type: u for u in job_conditions(Progress.CANCELED, steps, dry_run=False, summary="s")}
    assert canceled["Canceled"].status and not canceled["Ready"].status and not canceled["Stalled"].status
    assert phase(False, Progress.NOT_STARTED, True) == "PLANNED"
    assert phase(False, Progress.NOT_STARTED, False) == "FAILED"
    assert phase(False, Progress.NOT_STARTED, None) == "PENDING"
    assert phase(True, Progress.NOT_STARTED, None) == "PENDING"
    assert [phase(True, p, None) for p in (Progress.PENDING, Progress.RUNNING, Progress.SUCCEEDED)] == [
        "PENDING", "RUNNING", "COMPLETED"
    ]  # fmt: skip
    assert (phase(True, Progress.FAILED, None), phase(True, Progress.CANCELED, None)) == ("FAILED", "CANCELED")


def test_status_round_trip_gives_the_dict_the_dict_based_machine_wrote() -> None:
    """Steps as the dict-based step machine wrote them (ids are UUIDs, distinct from the names): parsed, run
    one step further and dumped, they come out in the same wire shape; a retry resets them as it did."""
    volume = "3f9c2a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
    written: dict[str, Any] = {
        "steps": [
            {"name": "VALIDATE_LIVE_STATE", "state": "Succeeded", "attempts": 1, "startedAt": "2026-01-02T03:00:00Z",
             "finishedAt": "2026-01-02T03:00:01Z", "message": "restore side by side as web-restored"},
            {"name": "CREATE_VOLUME_FROM_SNAPSHOT", "state": "Running", "attempts": 1,
             "startedAt": "2026-01-02T03:00:02Z"},
            {"name": "WAIT_VOLUME_AVAILABLE", "state": "Pending", "attempts": 0},
        ],
    }  # fmt: skip
    steps = list(RestoreJobStatus.model_validate(written).steps or [])
    assert [step.to_k8s() for step in steps] == written["steps"]
    steps[1] = finish_step(steps[1], NOW, f"volume {volume}", external_ids={"volumeId": volume})
    steps[2] = fail_step(start_step(steps[2], NOW), NOW, "Timeout", "still creating")
    dumped = RestoreJobStatus(steps=steps).patch_of("steps")["steps"]
    assert dumped[1] == {**written["steps"][1], "state": "Succeeded", "finishedAt": "2026-01-02T03:04:05Z",
                         "message": f"volume {volume}", "externalIds": {"volumeId": volume}}  # fmt: skip
    assert dumped[2] == {
        "name": "WAIT_VOLUME_AVAILABLE", "state": "Failed", "attempts": 1, "startedAt": "2026-01-02T03:04:05Z",
        "finishedAt": "2026-01-02T03:04:05Z", "message": "still creating", "externalIds": {"reason": "Timeout"},
    }  # fmt: skip
    again = reset_from(steps, 1, "retry 1")
    assert [step.to_k8s() for step in again[1:]] == [
        {"name": "CREATE_VOLUME_FROM_SNAPSHOT", "state": "Pending", "attempts": 1, "message": "retry 1",
         "externalIds": {"volumeId": volume}},
        {"name": "WAIT_VOLUME_AVAILABLE", "state": "Pending", "attempts": 1, "message": "retry 1"},
    ]  # fmt: skip
