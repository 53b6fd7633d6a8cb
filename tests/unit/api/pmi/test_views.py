"""pmi views with plain ProxmoxNode dicts: nodes, resources, history filters, power requests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from daytwo.api.views.pmi import history, nodes, power
from daytwo.api.views.pmi.guests import node_guests

from .data import proxmox_node, record

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_node_sums_online_cluster_nodes_and_reports_connection() -> None:
    view = nodes.node_view(proxmox_node(), NOW)
    assert view["id"] == "pve-lab" and view["name"] == "Lab Cluster" and view["status"] == "online"
    assert view["cpu_count"] == 8 and view["cpu_usage"] == 25.0  # the offline node is left out
    assert view["memory_percentage"] == 25.0 and view["disk_percentage"] == 10.0
    assert view["uptime"] == 86400 and view["version"] == "8.2-1" and view["is_connected"] is True
    assert view["last_connected"] == "2026-11-30T10:00:00Z"
    assert "api_token_secret" not in view and "tokenSecret" not in str(view)


@pytest.mark.parametrize(
    ("connected", "reason", "expected"),
    [(None, "", "offline"), (False, "Unreachable", "offline"), (False, "AuthenticationFailed", "error")],
)
def test_node_status_words(connected: bool | None, reason: str, expected: str) -> None:
    view = nodes.node_view(proxmox_node(connected=connected, reason=reason), NOW)
    assert view["status"] == expected and view["is_connected"] is False and view["last_connected"] is None


def test_resources_split_vms_and_containers_without_invented_figures() -> None:
    view = nodes.resources_view(node_guests(proxmox_node(), ()))
    assert [g["vmid"] for g in view["vms"]] == [100, 101] and [g["vmid"] for g in view["containers"]] == [200]
    assert view["vms"][0]["cpu_usage"] is None and view["truncated"] is False and view["source"] == "status"
    assert view["vms"][0]["last_updated"] == "2026-11-30T11:00:00Z"


def test_node_id_is_a_dns_label_and_unique() -> None:
    assert nodes.node_id_for("Production Server #1", set(), "abcde") == "production-server-1"
    assert nodes.node_id_for("Production Server #1", {"production-server-1"}, "abcde") == "production-server-1-abcde"
    assert nodes.node_id_for("42", set(), "x") == "pve-42"


def test_node_body_and_patch() -> None:
    body = nodes.proxmoxnode_body("lab", "Lab", "10.0.0.5", 8006, False, 30, {})
    assert body["spec"]["tokenSecretRef"] == {"name": "lab-token"}
    assert body["spec"]["tls"] == {"insecureSkipVerify": True} and body["spec"]["timeoutSeconds"] == 30
    patch = nodes.node_patch({"name": "New", "port": 8007, "ssl_verify": True})
    assert patch == {
        "spec": {"port": 8007, "tls": {"insecureSkipVerify": False}},
        "metadata": {"annotations": {nodes.DISPLAY_NAME: "New"}},
    }


def _history_node() -> dict[str, object]:
    return proxmox_node(
        history=[
            record("a3", 101, "reboot", "success", "2026-11-30T12:00:00Z"),
            record("a2", 100, "shutdown", "error", "2026-11-30T11:00:00Z", error="VM is locked"),
            record("a1", 100, "start", "success", "2026-11-30T10:00:00Z", user="alice"),
        ],
        in_flight=[
            {
                "id": "a4",
                "vmid": 101,
                "node": "pve1",
                "kind": "vm",
                "operation": "start",
                "submittedAt": "2026-11-30T12:30:00Z",
                "origin": "action",
            }
        ],
    )


def test_history_names_operations_as_pmi_and_puts_running_first() -> None:
    rows = history.operations([_history_node()])
    assert [(r["id"], r["operation"], r["status"]) for r in rows] == [
        ("a4", "start", "in_progress"),
        ("a3", "restart", "success"),
        ("a2", "stop", "failed"),
        ("a1", "start", "success"),
    ]
    assert rows[2]["error_message"] == "VM is locked" and rows[2]["duration"] == 1.5
    assert rows[3]["user"] == "alice" and rows[3]["resource_name"] == "web" and rows[3]["node"] == "Lab Cluster"


def test_history_filters_and_pagination() -> None:
    rows = history.operations([_history_node()])

    def page(**filters: object) -> dict[str, object]:
        base = {"node": None, "resource_type": None, "operation_type": None, "status": None, "limit": 100, "offset": 0}
        return history.history_page(rows, **{**base, **filters})  # type: ignore[arg-type]

    assert page(status="failed")["total"] == 1
    assert page(operation_type="start")["total"] == 2
    assert (
        page(node="pve-lab")["total"] == 4 and page(node="Lab Cluster")["total"] == 4 and page(node="x")["total"] == 0
    )
    assert page(resource_type="lxc")["total"] == 0
    second = page(limit=1, offset=1)
    assert [o["id"] for o in second["operations"]] == ["a3"] and second["total"] == 4  # type: ignore[index]
    assert page(status="failed")["filters"] == {
        "node": None,
        "resource_type": None,
        "operation_type": None,
        "status": "failed",
    }


def test_power_action_appends_and_drops_handled_ones_to_stay_bounded() -> None:
    actions = [power.power_action(f"x-{i}", 100, "start", False, "bob") for i in range(50)]
    full = proxmox_node(actions=actions, handled=["x-3"])
    new = power.append_action(full, power.power_action("new", 101, "stop", True, "alice"))
    assert len(new) == 50 and new[-1]["id"] == "new" and "x-3" not in {a["id"] for a in new}
    with pytest.raises(power.TooManyPending):
        power.append_action(proxmox_node(actions=actions), power.power_action("n", 101, "stop", True, "a"))
    assert power.pending_for(full, 100) == sorted(f"x-{i}" for i in range(50) if i != 3)
    assert power.action_id("pmi").startswith("pmi-")
