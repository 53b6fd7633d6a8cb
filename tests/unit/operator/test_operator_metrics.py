"""The operator's Prometheus metrics: bounded labels, what each record_* function counts, and the central hooks
(the retry loop counts every backend call, the polling loop every pass, the pass pool reports saturation)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from daytwo.operator.backends.runtime import PassPool, RetryPolicy, call_with_retries
from daytwo.operator.errors import NotFound, Unavailable
from daytwo.operator.handlers.polling import BackOff, daemon_loop, write_status
from daytwo.operator.metrics import (
    MAX_OPERATIONS,
    REGISTRY,
    cloud_of_module,
    forget_object,
    operation_label,
    ready_status,
    record_backend_call,
    record_object,
    record_pass,
    serve,
    watch_pool,
)
from prometheus_client.parser import text_string_to_metric_families

LOG = logging.getLogger(__name__)


def value(name: str, **labels: str) -> float:
    """The current value of one series (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("what", "cloud", "label"),
    [
        ("proxmox read status of node pve-1", "proxmox", "read status"),
        ("proxmox start qemu 101", "proxmox", "start qemu"),
        ("proxmox delete snapshot nightly-2 of qemu 101", "proxmox", "delete snapshot"),
        ("proxmox list VMs of node alpha", "proxmox", "list vms"),
        ("openstack list volume (raw)", "openstack", "list volume"),
        ("ec2 DescribeVpcs page 3", "aws", "ec2 describevpcs"),
        ("assume role arn:aws:iam::123456789012:role/x", "aws", "assume role"),
        ("get an ARM token for client 7f0c in tenant 9a1b", "azure", "get an arm token"),
        ("list instances (page 2)", "gcp", "list instances"),
        ("12345", "aws", "other"),
        ("", "aws", "other"),
    ],
)
def test_operation_labels_keep_the_verb_phrase_and_drop_names_and_ids(what: str, cloud: str, label: str) -> None:
    assert operation_label(what, cloud) == label


def test_the_cloud_is_the_backend_package_of_the_call() -> None:
    assert cloud_of_module("daytwo.operator.backends.aws._client") == "aws"
    assert cloud_of_module("daytwo.operator.backends.openstack._clients") == "openstack"
    assert cloud_of_module("daytwo.operator.backends.runtime") == "other"
    assert cloud_of_module("tests.unit.operator.test_operator_metrics") == "other"


def test_operations_per_cloud_are_capped() -> None:
    for number in range(MAX_OPERATIONS + 10):
        record_backend_call("other", f"probe{chr(97 + number % 26)}{chr(97 + number // 26)} thing", "success", 0.01)
    families = {family.name: family for family in REGISTRY.collect()}
    operations = {
        sample.labels["operation"]
        for sample in families["daytwo_backend_calls"].samples
        if sample.labels.get("cloud") == "other"
    }
    assert len(operations) <= MAX_OPERATIONS + 1 and "other" in operations


def test_the_retry_loop_counts_each_call_once_with_its_retries_and_outcome() -> None:
    policy = RetryPolicy(retries=3, sleep=lambda _: None, jitter=lambda: 1.0)
    answers: list[Any] = [Unavailable("down"), "ok"]

    def attempt() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    calls = value("daytwo_backend_calls_total", cloud="aws", operation="describe things", outcome="success")
    retries = value("daytwo_backend_retries_total", cloud="aws", operation="describe things")
    assert call_with_retries("describe things of account 42", "e", attempt, policy, cloud="aws") == "ok"
    assert value("daytwo_backend_calls_total", cloud="aws", operation="describe things", outcome="success") == calls + 1
    assert value("daytwo_backend_retries_total", cloud="aws", operation="describe things") == retries + 1
    timed = value(
        "daytwo_backend_call_duration_seconds_count", cloud="aws", operation="describe things", outcome="success"
    )
    assert timed >= 1

    def missing() -> str:
        raise NotFound("no such thing")

    before = value("daytwo_backend_calls_total", cloud="gcp", operation="get thing", outcome="NotFound")
    with pytest.raises(NotFound):
        call_with_retries("get thing", "e", missing, policy, cloud="gcp")
    assert value("daytwo_backend_calls_total", cloud="gcp", operation="get thing", outcome="NotFound") == before + 1


def test_a_pass_sets_the_last_pass_times_and_only_a_success_the_successful_one() -> None:
    record_pass("MetricsTestKind", "error", 0.2)
    assert value("daytwo_reconcile_passes_total", kind="MetricsTestKind", outcome="error") == 1
    assert value("daytwo_last_pass_timestamp_seconds", kind="MetricsTestKind") > 0
    assert (
        REGISTRY.get_sample_value("daytwo_last_successful_pass_timestamp_seconds", {"kind": "MetricsTestKind"}) is None
    )
    record_pass("MetricsTestKind", "success", 0.1)
    assert value("daytwo_last_successful_pass_timestamp_seconds", kind="MetricsTestKind") > 0
    assert value("daytwo_reconcile_pass_duration_seconds_count", kind="MetricsTestKind", outcome="success") == 1


def test_objects_are_counted_by_kind_and_ready_state_without_their_names() -> None:
    record_object("CountedKind", "ns-a", "one", "True")
    record_object("CountedKind", "ns-a", "two", "False")
    record_object("CountedKind", "ns-b", "three", None)
    record_object("CountedKind", "ns-b", "three", "True")
    assert value("daytwo_objects", kind="CountedKind", ready="True") == 2
    assert value("daytwo_objects", kind="CountedKind", ready="False") == 1
    assert value("daytwo_objects", kind="CountedKind", ready="Unknown") == 0
    forget_object("CountedKind", "ns-a", "one")
    assert value("daytwo_objects", kind="CountedKind", ready="True") == 1


def test_ready_status_reads_the_ready_condition() -> None:
    assert ready_status(
        {"conditions": [{"type": "Stalled", "status": "True"}, {"type": "Ready", "status": "False"}]}
    ) == ("False")
    assert ready_status({}) is None and ready_status(None) is None


async def test_the_polling_loop_records_every_pass_with_its_outcome() -> None:
    outcomes: list[float | Exception] = [5.0, BackOff(5.0), RuntimeError("boom")]
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    class Stopped:
        reason = None

        def __bool__(self) -> bool:
            return done.is_set()

        async def wait(self) -> None:
            await done.wait()

    def one_pass() -> float:
        outcome = outcomes.pop(0)
        if not outcomes:
            loop.call_soon_threadsafe(done.set)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    wake = asyncio.Event()
    wake.set()
    before = {
        o: value("daytwo_reconcile_passes_total", kind="LoopKind", outcome=o) for o in ("success", "blocked", "error")
    }

    async def poke() -> None:
        while not done.is_set():
            wake.set()
            await asyncio.sleep(0.01)

    poker = asyncio.create_task(poke())
    await asyncio.wait_for(daemon_loop("LoopKind", Stopped(), wake, lambda: one_pass, 0.01, LOG), 30)  # type: ignore[arg-type]
    poker.cancel()
    after = {
        o: value("daytwo_reconcile_passes_total", kind="LoopKind", outcome=o) for o in ("success", "blocked", "error")
    }
    assert {o: after[o] - before[o] for o in after} == {"success": 1, "blocked": 1, "error": 1}


async def test_the_pass_pool_reports_in_flight_and_capacity() -> None:
    pool = PassPool(workers=3, per_endpoint=2)
    release, running = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        release.wait(30)

    task = asyncio.create_task(pool.run("e", hold))
    await asyncio.to_thread(running.wait, 30)
    watch_pool(pool.usage)
    try:
        assert value("daytwo_pass_pool_in_flight") == 1 and value("daytwo_pass_pool_capacity") == 3
        release.set()
        await asyncio.wait_for(task, 30)
        assert value("daytwo_pass_pool_in_flight") == 0 and value("daytwo_pass_pool_waiting") == 0
    finally:
        watch_pool(None)
        pool.shutdown()


def test_the_server_serves_the_registry_as_prometheus_text() -> None:
    import urllib.request

    record_pass("ServedKind", "success", 0.1)
    server = serve("127.0.0.1", 0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.stop()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"daytwo_reconcile_passes", "daytwo_objects", "process_resident_memory_bytes"} <= names


class RecordingClient:
    """Stands in for the Kubernetes client of a pass: records status patches."""

    def __init__(self) -> None:
        self.patches: list[dict[str, Any]] = []

    def patch_status(self, kind: str, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self.patches.append(patch)


def test_every_status_write_of_a_pass_updates_the_objects_ready_count() -> None:
    client, status = RecordingClient(), {}
    ready = {"conditions": [{"type": "Ready", "status": "True", "reason": "Synced"}]}
    before = value("daytwo_objects", kind="WrittenKind", ready="True")
    write_status(client, "WrittenKind", "ns-w", "obj-w", status, ready)  # type: ignore[arg-type]
    assert value("daytwo_objects", kind="WrittenKind", ready="True") == before + 1
    write_status(client, "WrittenKind", "ns-w", "obj-w", status, ready)  # type: ignore[arg-type]
    assert value("daytwo_objects", kind="WrittenKind", ready="True") == before + 1 and len(client.patches) == 1
    not_ready = {"conditions": [{"type": "Ready", "status": "False", "reason": "Unavailable"}]}
    write_status(client, "WrittenKind", "ns-w", "obj-w", status, not_ready)  # type: ignore[arg-type]
    assert value("daytwo_objects", kind="WrittenKind", ready="True") == before
    assert value("daytwo_objects", kind="WrittenKind", ready="False") == 1
    forget_object("WrittenKind", "ns-w", "obj-w")
    assert value("daytwo_objects", kind="WrittenKind", ready="False") == 0


async def test_a_pass_on_the_pool_sees_the_callers_context_variables() -> None:
    """kopf.event reads Kopf's settings from a context variable: a pass posting an Event needs it."""
    import contextvars

    variable: contextvars.ContextVar[str] = contextvars.ContextVar("variable")
    variable.set("from the event loop")
    pool = PassPool(workers=2, per_endpoint=1)
    try:
        assert await pool.run(None, variable.get) == "from the event loop"
        assert await pool.run("e", variable.get) == "from the event loop"
    finally:
        pool.shutdown()
