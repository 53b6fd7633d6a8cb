"""The audit ring: entries written to ConfigMaps, read back newest first, the oldest segment reused."""

from __future__ import annotations

from daytwo.api.audit import AuditLog
from daytwo.api.auth.service import Principal
from daytwo.api.store import ObjectStore

from tests.harness.fakes import SecretsAndConfigMaps


def sync(store: ObjectStore, backend: SecretsAndConfigMaps) -> None:
    """What the ConfigMap watch would do: show the store what was written."""
    maps = [dict(o, kind="ConfigMap") for k, o in backend.objects.items() if k.startswith("configmaps/")]
    store._watchers["ConfigMap"].replace(maps, str(backend.version), notify=False)


def test_ring_keeps_the_last_entries_and_survives_a_restart() -> None:
    store = ObjectStore.of([], "ns")
    backend = SecretsAndConfigMaps()
    audit = AuditLog(store, backend, "ns", segments=3, per_segment=2)
    ann = Principal.of("ann", "operator")
    for i in range(1, 8):
        audit.record(ann, "drift.acknowledge", f"DriftEvent/e{i}", details={"n": i})
        audit.flush()
        sync(store, backend)
    total, page = audit.entries(limit=3)
    assert total == 5 and [e["id"] for e in page] == [7, 6, 5]
    assert page[0]["user"] == "ann" and page[0]["role"] == "operator" and page[0]["details"] == {"n": 7}
    names = sorted(k for k in backend.objects if k.startswith("configmaps/"))
    assert names == ["configmaps/daytwo-api-audit-0", "configmaps/daytwo-api-audit-1", "configmaps/daytwo-api-audit-2"]
    assert (
        backend.objects["configmaps/daytwo-api-audit-0"]["metadata"]["labels"]["app.kubernetes.io/part-of"] == "daytwo"
    )
    restarted = AuditLog(store, backend, "ns", segments=3, per_segment=2)
    assert restarted.record(None, "auth.login", "user/x", "failure")["id"] == 8
    assert restarted.entries(user="anonymous")[0] == 1


def test_unwritten_entries_are_readable_and_filters_apply() -> None:
    audit = AuditLog(ObjectStore.of([], "ns"), None, "ns")
    audit.record("bob", "restore.create", "RestoreJob/r1")
    audit.record("bob", "restore.create", "RestoreJob/r2", outcome="denied")
    audit.record("eve", "drift.acknowledge", "DriftEvent/d")
    assert audit.entries(user="bob")[0] == 2
    assert audit.entries(action="restore", outcome="denied")[1][0]["target"] == "RestoreJob/r2"
    assert audit.entries(offset=2, limit=5)[1][0]["user"] == "bob"
