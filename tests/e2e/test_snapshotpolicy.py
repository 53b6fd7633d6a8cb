"""SnapshotPolicy end to end: the real operator snapshots volumes of the OpenStack stand-in.

Every policy targets explicit volumes of one project nobody else's tests touch, and snapshots are
counted through daytwo's own backend by their owner metadata, so each test sees only its policy's
work. The schedule is yearly (January 1st), so only run-now requests start runs; each serves the
second it was requested in.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from daytwo.operator.backends.openstack import OpenStackConnectionParams, Snapshot, Volume, connect
from daytwo.operator.reconcile.snapshotpolicy.decisions import snapshot_name
from daytwo.operator.shared.snapshots import OWNER_KEY, SLOT_KEY, parse_time, policy_spec, policy_view

from tests.e2e.conftest import condition, wait_for_condition
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.processes import wait_until
from tests.harness.standins import OPENSTACK_PORT, Standin, example_secret, openstack_credential

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

NS = "snap-e2e"
PROJECT = "acme-proj-2"
STANDIN = f"http://127.0.0.1:{OPENSTACK_PORT}"
YEARLY = "0 0 1 1 *"


def backend() -> Any:
    """daytwo's own OpenStack client on the stand-in, as the admin."""
    password = example_secret("cloudcredential-openstack.yaml", "openstack-admin")["password"]
    return connect(
        OpenStackConnectionParams(
            auth_url=f"{STANDIN}/identity/v3", username="admin", password=password, project_name="admin"
        )
    )


def standin(path: str, method: str, body: dict[str, Any] | None = None) -> None:
    """Call a stand-in control endpoint (faults, objects)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{STANDIN}/_standin/{path}", data, method=method)
    urllib.request.urlopen(request, timeout=10).close()


def policy(name: str, volume_ids: list[str], **spec: Any) -> str:
    """A SnapshotPolicy manifest on explicit volumes, yearly, keep 5 unless overridden."""
    body = {
        "credentialsRef": {"kind": "CloudCredential", "name": "openstack"},
        "targets": {"openstack": {"volumeIds": volume_ids}},
        "schedule": YEARLY,
        "retention": {"keepLast": 5},
        "snapshot": {"namePrefix": "e2e", "force": True, "metadata": {"suite": "e2e"}},
        **spec,
    }
    manifest = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "SnapshotPolicy",
        "metadata": {"name": name, "namespace": NS},
        "spec": body,
    }
    return json.dumps(manifest)


def owned(name: str) -> list[Snapshot]:
    """Snapshots the policy ``name`` owns, through the backend."""
    owner = f"{NS}/SnapshotPolicy/{name}"
    return [s for s in backend().list_snapshots(all_projects=True) if s.metadata.get(OWNER_KEY) == owner]


def run_now(kubectl: Kubectl, name: str, token: str, namespace: str = NS) -> dict[str, Any]:
    """Annotate, then wait until the request was handled and no run is in progress; the status."""
    annotation = f"daytwo.io/reconcile-requested-at={token}"
    kubectl.run("annotate", "--overwrite", "d2sp", name, "-n", namespace, annotation)

    def handled() -> bool:
        status = kubectl.get("d2sp", name, namespace).get("status", {})
        return status.get("lastHandledReconcileAt") == token and not status.get("currentRun")

    wait_until(handled, 120, f"SnapshotPolicy {name} to handle {token}")
    status: dict[str, Any] = kubectl.get("d2sp", name, namespace)["status"]
    return status


def events(kubectl: Kubectl, name: str, namespace: str = NS) -> str:
    """The policy's Kubernetes Events as JSON text."""
    selector = f"involvedObject.name={name}"
    return kubectl.run("get", "events", "-n", namespace, "--field-selector", selector, "-o", "json").stdout


@pytest.fixture(scope="module")
def volumes(kubectl: Kubectl, operator: DaytwoProcess, standins: list[Standin]) -> Iterator[dict[str, list[Volume]]]:
    """Namespace and credential; the project's volumes by status (sorted by id)."""
    kubectl.run("create", "namespace", NS)
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": openstack_credential(NS)}))
    project = next(p for p in backend().list_projects() if p.name == PROJECT)
    found = sorted(backend().list_volumes(project_id=project.id), key=lambda v: v.id)
    yield {status: [v for v in found if v.status == status] for status in ("available", "in-use")}
    kubectl.run("delete", "namespace", NS, "--wait=false")


@pytest.fixture(scope="module")
def every_minute(kubectl: Kubectl, volumes: dict[str, list[Volume]]) -> Volume:
    """A policy on one volume scheduled every minute, keep 1: created first, checked last, so its
    slots pass while the other tests run."""
    target = volumes["available"][8]
    kubectl.apply(policy("minutely", [target.id], schedule="* * * * *", retention={"keepLast": 1}))
    return target


def test_run_now_snapshots_each_volume_once(
    kubectl: Kubectl, volumes: dict[str, list[Volume]], every_minute: Volume
) -> None:
    targets = volumes["available"][:3]
    kubectl.apply(policy("nightly", [v.id for v in targets]))
    ready = wait_for_condition(kubectl, "d2sp", "nightly", "Ready", "True", reason="Scheduled", namespace=NS)
    assert ready["status"]["matchedTargets"] == 3 and ready["status"]["nextScheduleTime"].endswith("-01-01T00:00:00Z")
    assert condition(ready, "TargetsResolved")["status"] == "True"

    status = run_now(kubectl, "nightly", "first")
    run = status["lastRun"]
    assert (run["trigger"], run["state"], run["created"], run["deleted"], run["failed"]) == (
        "manual",
        "Succeeded",
        3,
        0,
        0,
    )
    view = policy_view(NS, "nightly", policy_spec(kubectl.get("d2sp", "nightly", NS)))
    slot = run["scheduledAt"]
    slot_time = parse_time(slot)
    assert slot_time is not None
    snaps = owned("nightly")
    assert sorted(s.name for s in snaps) == sorted(snapshot_name(view, v.id, slot_time) for v in targets)
    assert all(s.metadata[SLOT_KEY] == slot and s.metadata["suite"] == "e2e" for s in snaps)
    assert {s.volume_id for s in snaps} == {v.id for v in targets}
    assert status["sla"]["tenants"] == [
        {"tenant": PROJECT, "total": 3, "compliant": 3, "warning": 0, "critical": 0, "percentage": 100.0}
    ]
    assert status["sla"]["outOfSlaTotal"] == 0 and status["lastSuccessfulTime"]
    current = kubectl.get("d2sp", "nightly", NS)
    assert condition(current, "LastRunSucceeded")["status"] == "True"

    again = run_now(kubectl, "nightly", "second")
    assert (again["lastRun"]["created"], again["lastRun"]["state"]) == (3, "Succeeded"), "each run-now snapshots anew"
    assert again["lastRun"]["id"] != run["id"] and len(again["history"]) == 2
    assert again["lastRun"]["scheduledAt"] > slot and len(owned("nightly")) == 6


def test_retention_and_failed_volume(kubectl: Kubectl, volumes: dict[str, list[Volume]]) -> None:
    """keepLast 2 deletes A's two oldest; B (in use, force off) fails by name and keeps its only snapshot,
    although it is older than maxAge."""
    a, b = volumes["available"][3], volumes["in-use"][0]
    owner = {OWNER_KEY: f"{NS}/SnapshotPolicy/retention"}
    # Three earlier runs, a slot each (snapshots sharing a slot are one run's duplicates: retention keeps one of
    # those whatever keepLast says).
    old = [
        backend().create_snapshot(a.id, name=f"old-{i}", metadata={**owner, SLOT_KEY: f"2020-01-0{i + 1}T00:00:00Z"})
        for i in range(3)
    ]
    first_slot = {**owner, SLOT_KEY: "2020-01-01T00:00:00Z"}
    lone = backend().create_snapshot(b.id, name="lone", force=True, metadata=first_slot)
    wait_until(lambda: all(s.status == "available" for s in owned("retention")), 30, "seeded snapshots")
    standin(f"objects/snapshots/{lone.id}", "PATCH", {"created_at": "2025-01-01T00:00:00.000000"})
    spec = {"retention": {"keepLast": 2, "maxAge": "30d"}, "snapshot": {"namePrefix": "e2e", "force": False}}
    kubectl.apply(policy("retention", [a.id, b.id], **spec))

    run = run_now(kubectl, "retention", "go")["lastRun"]
    assert (run["state"], run["created"], run["failed"]) == ("PartiallyFailed", 1, 1)
    [failure] = run["failures"]
    assert (failure["target"], failure["name"], failure["reason"]) == (b.id, b.name, "InvalidRequest")
    assert "in-use" in failure["message"]
    remaining = {s.id for s in owned("retention") if s.status != "deleting"}
    assert old[0].id not in remaining and old[1].id not in remaining and old[2].id in remaining
    assert lone.id in remaining, "the last good snapshot of a volume is never deleted"
    assert run["deleted"] == 2
    current = kubectl.get("d2sp", "retention", NS)
    assert condition(current, "LastRunSucceeded")["status"] == "False"
    assert "RunFailed" in events(kubectl, "retention")


def test_suspend_refuses_runs(kubectl: Kubectl, volumes: dict[str, list[Volume]]) -> None:
    kubectl.apply(policy("paused", [volumes["available"][4].id], suspend=True, runOnCreate=True))
    wait_for_condition(kubectl, "d2sp", "paused", "Ready", "True", reason="Suspended", namespace=NS)
    status = run_now(kubectl, "paused", "please")
    assert "lastRun" not in status and owned("paused") == []
    assert "RunRefused" in events(kubectl, "paused")


def test_missing_credential_and_bad_spec_are_clear(kubectl: Kubectl, volumes: dict[str, list[Volume]]) -> None:
    manifest = json.loads(policy("orphan", [volumes["available"][5].id]))
    manifest["spec"]["credentialsRef"]["name"] = "absent"
    kubectl.apply(json.dumps(manifest))
    blocked = wait_for_condition(
        kubectl, "d2sp", "orphan", "Ready", "False", reason="CredentialsNotFound", namespace=NS
    )
    assert "CloudCredential 'absent' does not exist" in condition(blocked, "Ready")["message"]
    assert condition(blocked, "TargetsResolved")["status"] == "False"
    kubectl.apply(policy("bad-cron", [volumes["available"][5].id], schedule="61 * * * *"))
    bad = wait_for_condition(kubectl, "d2sp", "bad-cron", "Ready", "False", reason="InvalidSpec", namespace=NS)
    assert "not a valid cron" in condition(bad, "Ready")["message"]
    kubectl.apply(policy("bad-zone", [volumes["available"][5].id], timeZone="Mars/Olympus"))
    zone = wait_for_condition(kubectl, "d2sp", "bad-zone", "Ready", "False", reason="InvalidSpec", namespace=NS)
    assert "Mars/Olympus" in condition(zone, "Ready")["message"]
    rejected = kubectl.run("apply", "-f", "-", input=policy("zero", ["x"], retention={"keepLast": 0}), check=False)
    assert rejected.returncode != 0 and "keepLast" in rejected.stderr


def test_operator_killed_mid_run_creates_no_duplicate(
    kubectl: Kubectl, operator: DaytwoProcess, volumes: dict[str, list[Volume]]
) -> None:
    targets = volumes["in-use"][1:7]
    kubectl.apply(policy("crash", [v.id for v in targets]))
    wait_for_condition(kubectl, "d2sp", "crash", "Ready", "True", namespace=NS)
    standin("faults", "POST", {"path": "/snapshots$", "method": "POST", "latency": 2.0, "times": 3})
    try:
        token = f"t{time.monotonic_ns()}"
        kubectl.run("annotate", "--overwrite", "d2sp", "crash", "-n", NS, f"daytwo.io/reconcile-requested-at={token}")
        seen: dict[str, Any] = {}

        def running() -> bool:
            seen["run"] = kubectl.get("d2sp", "crash", NS).get("status", {}).get("currentRun")
            return bool(seen["run"])

        wait_until(running, 60, "the run to be recorded")
        operator.kill()
    finally:
        operator.start()
        standin("faults", "DELETE")

    def finished() -> bool:
        status = kubectl.get("d2sp", "crash", NS).get("status", {})
        return not status.get("currentRun") and (status.get("lastRun") or {}).get("id") == seen["run"]["id"]

    wait_until(finished, 120, "the interrupted run to finish after the restart")
    snaps = [s for s in owned("crash") if s.status != "error"]
    assert sorted(s.volume_id for s in snaps) == sorted(v.id for v in targets), "one snapshot per volume"
    status = kubectl.get("d2sp", "crash", NS)["status"]
    assert status["lastRun"]["state"] == "Succeeded" and status["lastRun"]["trigger"] == "manual"


def snapshot_creates(volume_ids: list[str]) -> int:
    """How many snapshot creates (POST /snapshots) of these volumes the stand-in has received and finished so
    far (by the volume id in the request body: other policies of the session may create snapshots meanwhile)."""
    total = 0
    for volume_id in volume_ids:
        query = f"method=POST&path=/snapshots$&contains={volume_id}"
        with urllib.request.urlopen(f"{STANDIN}/_standin/journal?{query}", timeout=10) as answer:
            total += int(json.load(answer)["matching"])
    return total


def fault_hits() -> int:
    """How many requests the active stand-in faults have caught."""
    with urllib.request.urlopen(f"{STANDIN}/_standin/faults", timeout=10) as answer:
        return sum(int(f["hits"]) for f in json.load(answer)["faults"])


def test_operator_killed_while_creates_hang_makes_one_snapshot_per_volume(
    kubectl: Kubectl, operator: DaytwoProcess, volumes: dict[str, list[Volume]]
) -> None:
    """Issue 16 item 4: the creates reach Cinder but are answered only after the operator died (and after the
    restarted one would list): the run waits out the recorded in-flight window instead of creating again."""
    targets = volumes["available"][9:11]
    assert len(targets) == 2
    kubectl.apply(policy("hung", [v.id for v in targets]))
    wait_for_condition(kubectl, "d2sp", "hung", "Ready", "True", namespace=NS)
    creates_before = snapshot_creates([v.id for v in targets])
    standin("faults", "POST", {"path": "/snapshots$", "method": "POST", "hang": 25.0, "times": len(targets)})
    try:
        kubectl.run("annotate", "--overwrite", "d2sp", "hung", "-n", NS, "daytwo.io/reconcile-requested-at=hung-1")
        wait_until(lambda: fault_hits() == len(targets), 60, "both creates to reach the stand-in and hang")
        run = kubectl.get("d2sp", "hung", NS)["status"]["currentRun"]
        assert run["inFlightUntil"], "the creates were recorded as in flight before they were sent"
        operator.kill()
    finally:
        operator.start()

    def finished() -> bool:
        status = kubectl.get("d2sp", "hung", NS).get("status", {})
        return not status.get("currentRun") and status.get("lastHandledReconcileAt") == "hung-1"

    try:
        wait_until(finished, 240, "the interrupted run to finish after the restart")
    finally:
        standin("faults", "DELETE")
    snaps = owned("hung")
    assert sorted(s.volume_id for s in snaps) == sorted(v.id for v in targets), "exactly one snapshot per volume"
    created = snapshot_creates([v.id for v in targets]) - creates_before
    assert created == len(targets), "one create per volume reached the stand-in"
    last = kubectl.get("d2sp", "hung", NS)["status"]["lastRun"]
    assert (last["state"], last["created"]) == ("Succeeded", len(targets))
    assert "inFlightUntil" not in last


def snapshot_listings() -> int:
    """How many snapshot listings the stand-in has answered so far."""
    with urllib.request.urlopen(f"{STANDIN}/_standin/journal?path=/snapshots/detail$", timeout=10) as answer:
        return int(json.load(answer)["matching"])


def test_sigterm_during_backend_retries_stops_at_once_and_the_run_resumes(
    kubectl: Kubectl, operator: DaytwoProcess, volumes: dict[str, list[Volume]]
) -> None:
    targets = volumes["in-use"][7:9]
    kubectl.apply(policy("term", [v.id for v in targets]))
    wait_for_condition(kubectl, "d2sp", "term", "Ready", "True", namespace=NS)
    # every snapshot listing fails: the run's pass spends ~13 s per listing in client and run retries
    standin("faults", "POST", {"path": "/snapshots/detail$", "method": "GET", "status": 503, "times": None})
    try:
        kubectl.run("annotate", "--overwrite", "d2sp", "term", "-n", NS, "daytwo.io/reconcile-requested-at=term-1")
        listed = snapshot_listings()
        wait_until(lambda: snapshot_listings() >= listed + 2, 60, "the run to retry failing snapshot listings")
        assert operator.process is not None
        operator.process.terminate()
        at_sigterm = snapshot_listings()
        exit_code = operator.process.wait(timeout=60)
        after_exit = snapshot_listings()
    finally:
        standin("faults", "DELETE")
        operator.start()
    assert exit_code == 0, "a graceful exit, not a kill"
    assert after_exit - at_sigterm <= 1, "no retry after SIGTERM (at most the listing already in flight)"

    def handled() -> bool:
        status = kubectl.get("d2sp", "term", NS).get("status", {})
        return not status.get("currentRun") and status.get("lastHandledReconcileAt") == "term-1"

    wait_until(handled, 120, "the restarted operator to finish the requested run")
    status = kubectl.get("d2sp", "term", NS)["status"]
    assert status["lastRun"]["state"] == "Succeeded" and status["lastRun"]["trigger"] == "manual"
    assert sorted(s.volume_id for s in owned("term")) == sorted(v.id for v in targets), "one snapshot per volume"


def test_second_run_now_while_running_is_refused(kubectl: Kubectl, volumes: dict[str, list[Volume]]) -> None:
    targets = volumes["available"][6:8]
    kubectl.apply(policy("busy", [v.id for v in targets]))
    wait_for_condition(kubectl, "d2sp", "busy", "Ready", "True", namespace=NS)
    standin("faults", "POST", {"path": "/snapshots$", "method": "POST", "latency": 3.0, "times": 2})
    try:
        kubectl.run("annotate", "--overwrite", "d2sp", "busy", "-n", NS, "daytwo.io/reconcile-requested-at=one")
        wait_until(lambda: bool(kubectl.get("d2sp", "busy", NS).get("status", {}).get("currentRun")), 60, "the run")
        status = run_now(kubectl, "busy", "two")
    finally:
        standin("faults", "DELETE")
    assert [run["trigger"] for run in status["history"]] == ["manual"], "the second request started no run"
    assert status["lastRun"]["created"] == 2 and len(owned("busy")) == 2
    assert "run busy-" in events(kubectl, "busy") and "'two' is refused" in events(kubectl, "busy")


def test_schedule_runs_each_slot_and_retention_expires_the_older(kubectl: Kubectl, every_minute: Volume) -> None:
    settled: dict[str, Any] = {}

    def two_scheduled_runs() -> bool:
        """Two scheduled runs done, read from one status between runs (the next minute's run may start at any
        read: lastScheduleTime then names a slot history does not hold yet)."""
        status = kubectl.get("d2sp", "minutely", NS).get("status", {})
        history = status.get("history") or []
        if sum(run["trigger"] == "scheduled" and run["state"] == "Succeeded" for run in history) < 2:
            return False
        newest = next(run for run in history if run["trigger"] == "scheduled")
        if status.get("currentRun") or status.get("lastScheduleTime") != newest["scheduledAt"]:
            return False
        settled.update(status)
        return True

    wait_until(two_scheduled_runs, 200, "two scheduled runs of the every-minute policy")
    status = settled
    runs = [run for run in status["history"] if run["trigger"] == "scheduled"]
    slots = [parse_time(run["scheduledAt"]) for run in runs]
    assert all(slot is not None and slot.second == 0 for slot in slots) and len(set(slots)) == len(slots)
    assert status["lastScheduleTime"] == runs[0]["scheduledAt"]
    assert (runs[0]["created"], runs[0]["deleted"]) == (1, 1), "keepLast 1 expires the previous slot's snapshot"
    older = [s for s in owned("minutely") if s.status != "deleting" and s.metadata[SLOT_KEY] < runs[0]["scheduledAt"]]
    assert older == [], "nothing older than the newest run's slot is kept"
