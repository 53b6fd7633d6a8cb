"""CloudCredential billing and the inventory head at rest (issue 18 item 7): the same inventory twice writes
no ConfigMap and leaves status.billing and BillingSynced as they were; a changed inventory rewrites the
billing document; an unchanged head keeps its syncedAt until the heartbeat.

The ConfigMaps live in the shared in-memory fake (tests.harness.fakes.SecretsAndConfigMaps), reached through
the CoreV1Api calls the store makes; the code under test runs unpatched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from daytwo.crds.base import Condition
from daytwo.crds.cloudcredential import CloudCredentialSpec, CloudCredentialStatus
from daytwo.operator.handlers.cloudcredential.billing import BillingPass
from daytwo.operator.handlers.cloudcredential.inventory_store import read_billing, write_inventory
from daytwo.operator.reconcile.billing import seconds_until_billing
from daytwo.operator.reconcile.chunked import chunk_records
from daytwo.operator.reconcile.cloudcredential import RetryState, inventory_configmaps
from daytwo.operator.reconcile.conditions import apply_conditions
from kubernetes import client

from tests.harness.fakes import SecretsAndConfigMaps

NS = "team-billing"
NAME = "private-cloud"
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
HEARTBEAT = timedelta(hours=1)
SPEC_BODY = {
    "provider": "openstack",
    "secretRef": {"name": "os-admin"},
    "openstack": {"authUrl": "https://keystone.example.test/v3", "projectName": "admin"},
    "inventory": {"enabled": True, "intervalSeconds": 60, "kinds": ["storage", "networks"]},
    "billing": {"enabled": True, "source": "estimate", "intervalSeconds": 21600},
}
SPEC = CloudCredentialSpec.model_validate(SPEC_BODY)
CRED = {
    "apiVersion": "daytwo.io/v1alpha1",
    "kind": "CloudCredential",
    "metadata": {"name": NAME, "namespace": NS, "uid": "5d0c1f0e-8f4b-4a51-9a43-0f3e2b7c9d21"},
    "spec": SPEC_BODY,
}


def volume(resource_id: str, size_gb: int) -> dict[str, Any]:
    """An attached volume (costs storage every hour since it was created)."""
    return {
        "resource_id": resource_id,
        "name": f"data-{resource_id[:4]}",
        "type": "storage",
        "provider": "openstack",
        "region": "RegionOne",
        "status": "in-use",
        "metadata": {"size_gb": size_gb},
        "created_at": "2026-10-20T08:00:00Z",
    }


RECORDS = [volume("9b1f6a2e-4c3d-4e5f-8a7b-1c2d3e4f5a6b", 100), volume("2e7d4c1b-6a5f-4b3e-9d8c-7f6e5d4c3b2a", 20)]


@dataclass
class ConfigMapsApi:
    """The CoreV1Api ConfigMap calls the store makes, over the shared fake (its ``calls`` record every
    request: POST/PATCH are writes, GET reads; a LIST is served from its objects)."""

    backend: SecretsAndConfigMaps

    def _path(self, name: str = "") -> str:
        return f"/api/v1/namespaces/{NS}/configmaps" + (f"/{name}" if name else "")

    @staticmethod
    def _model(stored: dict[str, Any]) -> client.V1ConfigMap:
        meta = stored["metadata"]
        return client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name=meta["name"], labels=meta.get("labels"), resource_version=meta.get("resourceVersion")
            ),
            data=dict(stored.get("data") or {}),
        )

    def create_namespaced_config_map(self, namespace: str, body: dict[str, Any]) -> None:
        self.backend("POST", self._path(), body, "application/json")

    def replace_namespaced_config_map(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        old = self.backend.objects[f"configmaps/{name}"]["data"]
        removed = {key: None for key in old if key not in body["data"]}
        self.backend("PATCH", self._path(name), {**body, "data": {**removed, **body["data"]}}, "merge")

    def delete_namespaced_config_map(self, name: str, namespace: str) -> None:
        self.backend("DELETE", self._path(name), None, "")

    def read_namespaced_config_map(self, name: str, namespace: str) -> client.V1ConfigMap:
        return self._model(self.backend("GET", self._path(name), None, ""))

    def list_namespaced_config_map(self, namespace: str, label_selector: str) -> client.V1ConfigMapList:
        key, value = label_selector.split("=")
        items = [
            self._model(stored)
            for name, stored in self.backend.objects.items()
            if name.startswith("configmaps/") and (stored["metadata"].get("labels") or {}).get(key) == value
        ]
        return client.V1ConfigMapList(items=items)

    def writes(self) -> list[tuple[str, str]]:
        """The write requests so far (POST, PATCH, DELETE)."""
        return [call for call in self.backend.calls if call[0] != "GET"]


def store_inventory(api: ConfigMapsApi, records: list[dict[str, Any]], synced_at: datetime) -> tuple[int, int, int]:
    """What the daemon's sync does with the records: the chunked ConfigMaps, an unchanged head kept."""
    desired = inventory_configmaps(CRED, "openstack", chunk_records(records), {"storage": len(records)}, synced_at)
    return write_inventory(NS, NAME, desired, heartbeat=HEARTBEAT, core=api)


@dataclass
class Billed:
    """What one billing pass left: status, conditions, the daemon's memory."""

    status: CloudCredentialStatus
    conditions: list[dict[str, Any]]
    billed: datetime | None


def billing_pass(api: ConfigMapsApi, before: Billed, now: datetime, *, inventory_synced: bool) -> Billed:
    """One pass as the daemon runs it (credential valid), on the status and memory ``before`` left."""
    conditions = before.conditions or [
        {
            "type": "Validated",
            "status": "True",
            "reason": "Validated",
            "message": "ok",
            "lastTransitionTime": "2026-11-10T11:00:00Z",
        }
    ]
    after = before.status.model_copy(deep=True)
    run = BillingPass(CRED, SPEC, lambda: None, now, (2.0, 60.0), heartbeat=HEARTBEAT, billed=before.billed, core=api)
    update, retry = run.run(
        before.status,
        conditions,
        after,
        valid=True,
        inventory_synced=inventory_synced,
        revalidated=None,
        retry=RetryState(),
    )
    assert retry == RetryState()
    if update is not None:
        conditions = apply_conditions(conditions, [update], 1, now)
    after.conditions = [Condition.model_validate(condition) for condition in conditions]
    return Billed(after, conditions, run.billed)


def first_estimate(api: ConfigMapsApi) -> Billed:
    store_inventory(api, RECORDS, NOW)
    return billing_pass(api, Billed(CloudCredentialStatus(), [], None), NOW, inventory_synced=True)


def billing_synced(billed: Billed) -> dict[str, Any]:
    return next(c for c in billed.conditions if c["type"] == "BillingSynced")


def test_same_inventory_twice_writes_no_configmap_and_keeps_status_billing() -> None:
    api = ConfigMapsApi(SecretsAndConfigMaps())
    first = first_estimate(api)
    assert first.status.billing is not None and first.status.billing.last_sync_time == NOW
    assert read_billing(NS, NAME, api) is not None
    written = api.writes()

    later = NOW + timedelta(seconds=60)  # the next inventory interval: the cloud answers the same records
    assert store_inventory(api, RECORDS, later) == (0, 0, 0)
    second = billing_pass(api, first, later, inventory_synced=True)

    assert api.writes() == written  # neither the inventory head nor the billing document rewritten
    assert second.status.billing == first.status.billing
    assert billing_synced(second) == billing_synced(first)
    assert NOW.strftime("%H:%M") not in billing_synced(first)["message"]  # no sync time in the message
    assert second.status.to_k8s() == first.status.to_k8s()


def test_changed_inventory_rewrites_the_billing_document() -> None:
    api = ConfigMapsApi(SecretsAndConfigMaps())
    first = first_estimate(api)
    before = read_billing(NS, NAME, api)
    later = NOW + timedelta(seconds=60)
    grown = [*RECORDS, volume("c4b3a291-8d7e-4f6a-b5c4-d3e2f1a0b9c8", 500)]

    created, replaced, _ = store_inventory(api, grown, later)
    second = billing_pass(api, first, later, inventory_synced=True)

    assert (created, replaced) == (0, 1)
    after = read_billing(NS, NAME, api)
    assert before is not None and after is not None
    assert after["inventoryDigest"] != before["inventoryDigest"]
    assert after["generatedAt"] == "2026-11-10T12:01:00Z"
    assert sum(after["days"][-1]["services"].values()) > sum(before["days"][-1]["services"].values())
    assert second.status.billing is not None and second.status.billing.last_sync_time == later
    assert "from 3 inventory records" in billing_synced(second)["message"]


def test_unchanged_document_moves_last_sync_time_only_on_the_heartbeat() -> None:
    api = ConfigMapsApi(SecretsAndConfigMaps())
    networks = [{**RECORDS[0], "type": "network", "metadata": {}}]  # free: the estimate is the same all day
    store_inventory(api, networks, NOW)
    first = billing_pass(api, Billed(CloudCredentialStatus(), [], None), NOW, inventory_synced=True)
    written = api.writes()

    # a reconcile request recomputes at once: same content, no write, status as it was
    soon = NOW + timedelta(minutes=10)
    run = BillingPass(CRED, SPEC, lambda: None, soon, (2.0, 60.0), heartbeat=HEARTBEAT, billed=first.billed, core=api)
    after = first.status.model_copy(deep=True)
    run.run(
        first.status,
        first.conditions,
        after,
        valid=True,
        inventory_synced=False,
        revalidated="a reconcile was requested",
        retry=RetryState(),
    )
    assert api.writes() == written and after.billing == first.status.billing and run.billed == soon

    # the same, an hour after the last move: the coarse mark moves (status), the document stays
    due = NOW + HEARTBEAT
    run = BillingPass(CRED, SPEC, lambda: None, due, (2.0, 60.0), heartbeat=HEARTBEAT, billed=soon, core=api)
    after = first.status.model_copy(deep=True)
    run.run(
        first.status,
        first.conditions,
        after,
        valid=True,
        inventory_synced=False,
        revalidated="a reconcile was requested",
        retry=RetryState(),
    )
    assert api.writes() == written
    assert after.billing is not None and after.billing.last_sync_time == due


def test_next_refresh_counts_from_the_daemon_memory_not_the_lagging_status() -> None:
    first = first_estimate(ConfigMapsApi(SecretsAndConfigMaps()))
    interval = SPEC.billing.interval_seconds if SPEC.billing else 0
    later = NOW + timedelta(seconds=interval + 60)  # refreshed then without a change: status kept NOW
    assert seconds_until_billing(SPEC, first.status, RetryState(), later) == 1.0
    wait = seconds_until_billing(SPEC, first.status, RetryState(), later, billed=later)
    assert wait is not None and wait > 3600


def test_inventory_head_keeps_synced_at_until_the_heartbeat() -> None:
    api = ConfigMapsApi(SecretsAndConfigMaps())
    store_inventory(api, RECORDS, NOW)
    head = f"configmaps/{NAME}-inventory"

    def synced_at() -> str:
        return str(json.loads(api.backend.objects[head]["data"]["manifest.json"])["syncedAt"])

    assert store_inventory(api, RECORDS, NOW + timedelta(minutes=59)) == (0, 0, 0)
    assert synced_at() == "2026-11-10T12:00:00Z"
    assert store_inventory(api, RECORDS, NOW + HEARTBEAT) == (0, 1, 0)  # the heartbeat: a coarse mark
    assert synced_at() == "2026-11-10T13:00:00Z"
    changed = [{**RECORDS[0], "status": "available"}, RECORDS[1]]
    assert store_inventory(api, changed, NOW + HEARTBEAT + timedelta(minutes=1)) == (0, 1, 0)
    assert synced_at() == "2026-11-10T13:01:00Z"
