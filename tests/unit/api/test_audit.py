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


def test_a_noisy_viewer_cannot_flush_admin_entries_or_security_events() -> None:
    store = ObjectStore.of([], "ns")
    backend = SecretsAndConfigMaps()
    audit = AuditLog(store, backend, "ns", quota_per_minute=60, clock=lambda: 1_800_000_000.0)
    admin, viewer = Principal.of("root", "admin"), Principal.of("vic", "viewer")
    kept = audit.record(admin, "settings.branding", "ConfigMap/daytwo-pf9-branding")
    failed = audit.record("mallory", "auth.login", "user/mallory", "failure")
    for i in range(6000):
        audit.record(viewer, "preferences.save", f"user/vic/{i}")
        audit.record(viewer, "request.denied", "/pmi/api/proxmox/nodes", "denied", {"status": 403})
        if i % 400 == 0:
            audit.flush()
            sync(store, backend)
    audit.flush()
    sync(store, backend)
    ids = {e["id"] for e in audit.entries(limit=100_000)[1]}
    assert kept["id"] in ids and failed["id"] in ids
    total, summaries = audit.entries(user="vic", action="audit.suppressed")
    assert total == 2 and {s["details"]["suppressed"] for s in summaries} == {6000 - 60}
    assert {s["target"] for s in summaries} == {"vic"} and {s["outcome"] for s in summaries} == {"suppressed"}
    assert audit.entries(user="vic")[0] == 2 * 60 + 2  # 60 a minute per ring, plus one summary each
    restarted = AuditLog(store, backend, "ns")
    assert restarted.entries(action="audit.suppressed")[1][0]["details"]["suppressed"] == 5940  # written, not lost


def test_the_quota_is_per_minute_and_admins_have_none() -> None:
    now = [0.0]
    audit = AuditLog(ObjectStore.of([], "ns"), None, "ns", quota_per_minute=3, clock=lambda: now[0])
    for _ in range(5):
        audit.record(Principal.of("op", "operator"), "drift.acknowledge", "DriftEvent/e")
        audit.record(Principal.of("root", "superadmin"), "users.create", "user/x")
    assert audit.entries(user="op")[0] == 4 and audit.entries(user="root")[0] == 5
    now[0] = 61.0
    audit.record(Principal.of("op", "operator"), "drift.acknowledge", "DriftEvent/e")
    assert audit.entries(user="op", action="drift")[0] == 4
    anonymous = AuditLog(ObjectStore.of([], "ns"), None, "ns", quota_per_minute=1)
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
        anonymous.record(None, "request.denied", "/x", "denied", {"ip_address": ip})
    assert anonymous.entries(action="request.denied")[0] == 2  # per client IP when anonymous
    role = AuditLog(ObjectStore.of([], "ns"), None, "ns", quota_per_minute=1)
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
        role.record(Principal.of("anonymous:pmi", "viewer"), "request.denied", "/x", "denied", {"ip_address": ip})
    assert role.entries(action="request.denied")[0] == 2  # an anonymous role is per client IP too
