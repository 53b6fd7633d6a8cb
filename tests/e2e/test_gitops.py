"""GitOps readiness: re-applying examples/ converges, `kubectl diff` is empty, and the operator causes no churn.

Argo CD and Flux apply the same manifests again and again and compare; they need the operator never
to write spec and to leave status alone when nothing changed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import EXAMPLES, NAMESPACE
from tests.harness.kubectl import Kubectl
from tests.harness.processes import wait_until

pytestmark = pytest.mark.e2e

#: The e2e operator resyncs every 5 s; watch three periods.
QUIET_SECONDS = 16
#: First syncs (inventory, billing, references) are done when nothing changed for this long.
SETTLE_SECONDS = 6


def example_objects() -> list[tuple[str, str]]:
    """(kind, name) of every daytwo object examples/ declares."""
    found = []
    for path in sorted(Path(EXAMPLES).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["apiVersion"].startswith("daytwo.io/"):
                found.append((doc["kind"], doc["metadata"]["name"]))
    return found


def snapshot(kubectl: Kubectl) -> dict[tuple[str, str], dict[str, Any]]:
    """The live daytwo objects of the examples namespace, by (kind, name)."""
    items = json.loads(kubectl.run("get", "daytwo", "-n", NAMESPACE, "-o", "json").stdout)["items"]
    return {(item["kind"], item["metadata"]["name"]): item for item in items}


def test_reapplied_examples_show_no_diff_and_no_churn(kubectl: Kubectl, examples: dict[str, Any]) -> None:
    """Apply twice, wait for every object to be observed, then no diff and unchanged resourceVersions."""
    wanted = example_objects()
    assert len(wanted) >= 7, wanted
    kubectl.apply(EXAMPLES)
    kubectl.apply(EXAMPLES)

    def all_observed() -> bool:
        live = snapshot(kubectl)
        return all(
            key in live and live[key].get("status", {}).get("observedGeneration") == live[key]["metadata"]["generation"]
            for key in wanted
        )

    wait_until(all_observed, 90, "every example object to have status.observedGeneration == generation")
    for key, obj in snapshot(kubectl).items():
        if key in wanted:
            assert obj["status"].get("conditions"), f"{key} has no conditions"

    diff = kubectl.run("diff", "-f", str(EXAMPLES), check=False)
    assert diff.returncode == 0, f"kubectl diff exit {diff.returncode}:\n{diff.stdout}\n{diff.stderr}"
    assert diff.stdout == ""

    settled_since: dict[str, Any] = {}

    def settled() -> bool:
        """First syncs finish (inventory, billing, users registering): no change for SETTLE_SECONDS."""
        versions = {key: obj["metadata"]["resourceVersion"] for key, obj in snapshot(kubectl).items()}
        if versions != settled_since.get("versions"):
            settled_since.update(versions=versions, at=time.monotonic())
        return time.monotonic() - settled_since["at"] >= SETTLE_SECONDS

    wait_until(settled, 180, "the example objects to finish their first syncs", interval=1.0)
    before = snapshot(kubectl)
    time.sleep(QUIET_SECONDS)
    after = snapshot(kubectl)
    churned = []
    for key in wanted:
        if before[key]["metadata"]["resourceVersion"] == after[key]["metadata"]["resourceVersion"]:
            continue
        assert before[key]["metadata"]["generation"] == after[key]["metadata"]["generation"], f"{key}: spec changed"
        old, new = before[key].get("status", {}), after[key].get("status", {})
        moved = {field for field in old.keys() | new.keys() if old.get(field) != new.get(field)}
        if moved:  # no allowance: pass times are coarse (DAYTWO_STATUS_HEARTBEAT_SECONDS) and in metrics
            churned.append(f"{key[0]}/{key[1]}: status fields {sorted(moved)}")
        before_meta = {
            k: v for k, v in before[key]["metadata"].items() if k not in ("resourceVersion", "managedFields")
        }
        after_meta = {k: v for k, v in after[key]["metadata"].items() if k not in ("resourceVersion", "managedFields")}
        if before_meta != after_meta:
            churned.append(f"{key[0]}/{key[1]}: metadata changed")
    assert not churned, f"objects changed while nothing happened: {churned}"
