"""The platform9 management API over HTTP: the real facade, apiserver, operator and OpenStack stand-in.

Log in -> list the examples' snapshot policy -> run it now (202) and again at once (409) -> the run
finishes and /snapshot/compliance equals the policy's status.sla -> a DriftEvent is listed and
acknowledged (the patch is made as the caller) -> a restore is planned through /restore/plan and its
plan read back -> /servers, /volumes, /networks match the CloudCredential's inventory ConfigMaps ->
branding and preferences are stored in Kubernetes -> an admin write daytwo does not do answers 501.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from daytwo.api.views.platform9.common import iso

from tests.harness.facade import Facade, fresh_address
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until

from .conftest import NAMESPACE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

POLICY = "daily-tagged-volumes"
CREDENTIAL = "openstack-prod"
VM_ID = "7d1c7a42-0c1b-4c55-9f0e-6a7c3f7f2a11"
RESTORE_POINT = "0b3f6c8e-95d4-4a8b-8e2a-1f6b2c9d4e77"


def pf9(facade: Facade, role: str | None) -> httpx.Client:
    """A client on /platform9 acting as ``role``."""
    headers = {"Authorization": f"Bearer {facade.login(role)}"} if role else {}
    return httpx.Client(base_url=f"{facade.url}/platform9", headers=headers, timeout=30)


def ok(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer (the body in the failure message otherwise)."""
    assert response.status_code < 300, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


def kube_get(kubectl: Kubectl, kind: str, name: str) -> dict[str, Any]:
    """One object as the cluster admin sees it."""
    return dict(json.loads(kubectl.run("get", kind, name, "-n", NAMESPACE, "-o", "json").stdout))


def test_login_and_policies(examples: dict[str, dict[str, Any]], facade: Facade) -> None:
    with facade.http(fresh_address()) as http:
        login = http.post("/platform9/auth/login", json={"username": "viewer", "password": "viewer-e2e-password"})
    body = ok(login)
    assert body["token_type"] == "bearer" and body["user"]["role"] == "viewer"
    with pf9(facade, None) as anonymous:
        assert anonymous.get("/snapshot-policies").status_code == 401
        assert ok(anonymous.get("/health"))["service"] == "pf9-mgmt-api"
    with pf9(facade, "viewer") as viewer:
        wait_until(
            lambda: any(p["id"] == POLICY for p in ok(viewer.get("/snapshot-policies"))["policies"]), 60, "policy"
        )
        policy = ok(viewer.get(f"/snapshot-policies/{POLICY}"))
        assert policy["policies"] == ["daily_5"] and policy["credential"] == CREDENTIAL and policy["sla_days"] == 2


def test_run_now_then_409_then_compliance_equals_the_status(
    examples: dict[str, dict[str, Any]], facade: Facade, kubectl: Kubectl
) -> None:
    with pf9(facade, "admin") as admin, pf9(facade, "operator") as operator:
        wait_until(lambda: ok(admin.get(f"/snapshot-policies/{POLICY}"))["ready"], 120, "the policy Ready")
        assert operator.post("/snapshot/run-now", params={"policy": POLICY}).status_code == 403
        first = admin.post("/snapshot/run-now", params={"policy": POLICY})
        assert first.status_code == 202, first.text
        assert ok(first)["job_id"] == POLICY
        second = admin.post("/snapshot/run-now", params={"policy": POLICY})
        assert second.status_code == 409, second.text
        assert second.json()["detail"] == "An on-demand snapshot pipeline is already pending or running."

        def finished() -> bool:
            return ok(admin.get("/snapshot/run-now/status"))["status"] in ("completed", "failed")

        wait_until(finished, 240, "the on-demand run to finish")
        status = ok(admin.get("/snapshot/run-now/status"))
        assert status["job_id"] == POLICY and status["triggered_by"] == "admin"
        assert [s["key"] for s in status["steps"]] == ["policy_assign", "auto_snapshots", "retention", "compliance"]

        def same_as_status() -> bool:
            sla = kube_get(kubectl, "snapshotpolicy", POLICY).get("status", {}).get("sla") or {}
            report = ok(admin.get("/snapshot/compliance"))
            mine = next(p for p in report["policies"] if p["policy_set_id"] == POLICY)
            tenants = sla.get("tenants") or []
            return (
                bool(sla.get("evaluatedAt"))
                and mine["total_volumes"] == sum(t["total"] for t in tenants)
                and mine["compliant"] == sum(t["compliant"] for t in tenants)
                and mine["out_of_sla_total"] == sla.get("outOfSlaTotal", 0)
                and mine["evaluated_at"] == iso(sla["evaluatedAt"])
            )

        wait_until(same_as_status, 60, "/snapshot/compliance to equal status.sla")
        runs = ok(admin.get("/snapshot-runs"))["runs"]
        assert any(r["trigger"] == "manual" and r["policy_set_id"] == POLICY for r in runs)
        board = ok(admin.get("/dashboard/snapshot-sla-compliance"))
        assert 0 <= board["overall_compliance"] <= 100


def test_drift_events_list_and_acknowledge(
    examples: dict[str, dict[str, Any]], facade: Facade, kubectl: Kubectl
) -> None:
    name = "e2e-pf9-status-change"
    event = {
        "apiVersion": "daytwo.io/v1alpha1",
        "kind": "DriftEvent",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "ruleRef": "server-flavor-prod",
            "resourceType": "server",
            "resourceId": VM_ID,
            "resourceName": "web-01",
            "field": "status",
            "oldValue": '"ACTIVE"',
            "newValue": '"SHUTOFF"',
            "severity": "critical",
            "detectedAt": "2026-11-30T08:30:00Z",
            "projectName": "Default-proj-1",
            "domainName": "Default",
        },
    }
    kubectl.apply(json.dumps(event))
    with pf9(facade, "viewer") as viewer, pf9(facade, "operator") as operator:
        params = {"acknowledged": "false", "search": "web-01", "severity": "critical"}
        wait_until(
            lambda: any(e["id"] == name for e in ok(viewer.get("/drift/events", params=params))["events"]),
            60,
            "the event in /drift/events",
        )
        detail = ok(viewer.get(f"/drift/events/{name}"))
        assert (detail["old_value"], detail["new_value"], detail["rule_id"]) == (
            "ACTIVE",
            "SHUTOFF",
            "server-flavor-prod",
        )
        assert viewer.put(f"/drift/events/{name}/acknowledge").status_code == 403
        acked = ok(operator.put(f"/drift/events/{name}/acknowledge"))
        assert acked["acknowledged"] is True and acked["acknowledged_by"] == "operator"
        stored = kube_get(kubectl, "driftevent", name)["spec"]["acknowledgement"]
        assert stored["acknowledged"] is True and stored["by"] == "operator"
        wait_until(lambda: ok(viewer.get(f"/drift/events/{name}"))["acknowledged"], 30, "the cache to see the ack")
        summary = ok(viewer.get("/drift/summary"))
        assert summary["total_events"] >= 2
        assert operator.get("/drift/events/nope").status_code == 404


def test_restore_plan_is_a_restorejob_and_its_plan_is_read_back(
    examples: dict[str, dict[str, Any]], facade: Facade, kubectl: Kubectl
) -> None:
    with pf9(facade, "operator") as operator:

        def vm_project() -> str | None:
            servers = ok(operator.get("/servers", params={"page_size": 1000}))["items"]
            return next((s["tenant_id"] for s in servers if s["vm_id"] == VM_ID), None)

        wait_until(lambda: vm_project() is not None, 180, "the example VM in /servers (inventory)")
        body = {
            "project_id": vm_project(),
            "vm_id": VM_ID,
            "restore_point_id": RESTORE_POINT,
            "mode": "NEW",
            "ip_strategy": "NEW_IPS",
        }
        assert ok(operator.get("/restore/config"))["enabled"] is True
        replace = operator.post("/restore/plan", json={**body, "mode": "REPLACE", "confirm_destructive": "x"})
        assert replace.status_code == 403  # REPLACE needs restore:admin
        created = operator.post("/restore/plan", json=body)
        assert created.status_code == 201, created.text
        job_id = created.json()["job_id"]
        job = kube_get(kubectl, "restorejob", job_id)
        assert job["spec"]["execute"] is False and job["spec"]["source"]["openstack"]["vmId"] == VM_ID

        def planned() -> dict[str, Any] | None:
            row = ok(operator.get(f"/restore/jobs/{job_id}"))
            return row if row["plan_json"] is not None and row["status"] in ("PLANNED", "FAILED") else None

        wait_until(lambda: planned() is not None, 120, "the operator's plan")
        row = planned()
        assert row is not None and row["status"] == "PLANNED", (row["message"], row["plan_json"])
        assert row["credential"] == CREDENTIAL  # found through the VM's inventory
        assert row["plan_json"]["vm_id"] == VM_ID and row["vm_name"]
        assert any(j["job_id"] == job_id for j in ok(operator.get("/restore/jobs"))["jobs"])


def _inventory_counts(kubectl: Kubectl) -> dict[str, int]:
    listed = json.loads(
        kubectl.run(
            "get", "configmaps", "-n", NAMESPACE, "-l", f"daytwo.io/credential={CREDENTIAL}", "-o", "json"
        ).stdout
    )["items"]
    counts: dict[str, int] = {}
    for cm in listed:
        for record in json.loads((cm.get("data") or {}).get("records.json") or "[]"):
            counts[record["type"]] = counts.get(record["type"], 0) + 1
    return counts


def test_infrastructure_reads_come_from_the_inventory(
    examples: dict[str, dict[str, Any]], facade: Facade, kubectl: Kubectl
) -> None:
    wait_until(lambda: _inventory_counts(kubectl).get("vm", 0) > 0, 180, "the CloudCredential inventory")
    counts = _inventory_counts(kubectl)
    with pf9(facade, "viewer") as viewer:

        def matches() -> bool:
            servers = ok(viewer.get("/servers", params={"page_size": 1000}))
            volumes = ok(viewer.get("/volumes"))
            networks = ok(viewer.get("/networks"))
            return (servers["total"], volumes["total"], networks["total"]) == (
                counts.get("vm", 0),
                counts.get("storage", 0),
                counts.get("network", 0),
            )

        wait_until(matches, 60, "/servers, /volumes, /networks to match the inventory")
        server = ok(viewer.get("/servers", params={"page_size": 1}))["items"][0]
        assert server["vm_id"] and server["status"] == server["status"].upper()
        assert ok(viewer.get("/hypervisors"))["total"] >= 1
        summary = ok(viewer.get("/dashboard/health-summary"))
        assert summary["total_vms"] == counts["vm"]
        risks = ok(viewer.get("/dashboard/coverage-risks"))
        assert risks["total_volumes"] == counts.get("storage", 0)


def test_branding_and_preferences_live_in_kubernetes(facade: Facade, kubectl: Kubectl) -> None:
    with pf9(facade, "admin") as admin, pf9(facade, "viewer") as viewer, pf9(facade, None) as anonymous:
        assert viewer.put("/settings/branding", json={"company_name": "ACME"}).status_code == 403
        assert ok(admin.put("/settings/branding", json={"company_name": "ACME"}))["company_name"] == "ACME"
        stored = kube_get(kubectl, "configmap", "daytwo-pf9-branding")
        assert json.loads(stored["data"]["branding.json"])["company_name"] == "ACME"
        wait_until(lambda: ok(anonymous.get("/settings/branding"))["company_name"] == "ACME", 30, "branding cached")
        saved = ok(viewer.put("/user-preferences", json={"tab_order": ["volumes", "servers"]}))
        assert saved == {"status": "saved", "username": "viewer"}
        wait_until(lambda: ok(viewer.get("/user-preferences")).get("tab_order") == ["volumes", "servers"], 30, "prefs")


def test_unsupported_admin_write_answers_501(facade: Facade) -> None:
    with pf9(facade, "admin") as admin, pf9(facade, "viewer") as viewer, pf9(facade, None) as anonymous:
        assert anonymous.post("/admin/networks", json={}).status_code == 401
        assert viewer.post("/admin/networks", json={}).status_code == 403
        answer = admin.post("/admin/networks", json={"name": "n"})
        assert answer.status_code == 501
        assert answer.json()["detail"].startswith("Creating networks is not supported by daytwo")
        assert answer.json()["request_id"]
