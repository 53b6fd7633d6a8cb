"""The real ``openstack`` CLI (python-openstackclient) against the stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.standins.openstack.server import StandIn

pytestmark = pytest.mark.integration

CLI = Path(sys.executable).with_name("openstack")


def run_cli(standin: StandIn, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``openstack --os-cloud standin ARGS`` with a clouds.yaml pointing at the stand-in."""
    clouds = standin.clouds_yaml(tmp_path / "clouds.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(clouds)
    return subprocess.run(
        [str(CLI), "--os-cloud", "standin", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(autouse=True)
def _needs_cli() -> None:
    """The CLI is a test dependency (python-openstackclient in pyproject's [test] extra): missing, the tests fail."""
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: python-openstackclient is a [test] dependency; run `make deps`")


def test_token_issue(openstack_standin: StandIn, tmp_path: Path) -> None:
    result = run_cli(openstack_standin, tmp_path, "token", "issue", "-f", "json")
    assert result.returncode == 0, result.stderr
    token = json.loads(result.stdout)
    assert token["project_id"] == openstack_standin.info.admin_project_id
    assert token["id"] in openstack_standin.model.tokens


def test_server_list_all_projects(openstack_standin: StandIn, tmp_path: Path) -> None:
    result = run_cli(openstack_standin, tmp_path, "server", "list", "--all-projects", "-f", "json")
    assert result.returncode == 0, result.stderr
    listed = {s["ID"]: s for s in json.loads(result.stdout)}
    assert set(listed) == set(openstack_standin.model.servers)
    some = next(iter(openstack_standin.model.servers.values()))
    assert listed[some["id"]]["Flavor"] == openstack_standin.model.flavors[some["flavor_id"]]["name"]


def test_aggregate_add_host(openstack_standin: StandIn, tmp_path: Path) -> None:
    model = openstack_standin.model
    source = next(a for a in model.aggregates.values() if a["name"] == "H100-n3")
    host = source["hosts"][0]
    removed = run_cli(openstack_standin, tmp_path, "aggregate", "remove", "host", "H100-n3", host, "-f", "json")
    assert removed.returncode == 0, removed.stderr
    added = run_cli(openstack_standin, tmp_path, "aggregate", "add", "host", "H100-n3-spot", host, "-f", "json")
    assert added.returncode == 0, added.stderr
    assert host in json.loads(added.stdout)["hosts"]
    assert host in next(a for a in model.aggregates.values() if a["name"] == "H100-n3-spot")["hosts"]
    again = run_cli(openstack_standin, tmp_path, "aggregate", "add", "host", "H100-n3-spot", host)
    assert again.returncode != 0
    assert "already has host" in again.stderr
