"""The ``<policy>-targets`` ConfigMap: which volumes or guests a SnapshotPolicy covers, for coverage views.

The facade reports pf9's coverage risks (volumes no policy covers) by subtracting every policy's
targets from the CloudCredential inventory; the list is too large and changes too often for status.
Records are compact (id, name, tenant, sizeGb, kind); when they would not fit in one ConfigMap the
ConfigMap keeps only the ids (``detail: ids``), which is all coverage needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ...shared.snapshots import TARGETS_LABEL
from ..chunked import owner_reference
from .decisions import VolumeInfo

__all__ = ["TARGETS_BUDGET_BYTES", "TARGETS_LABEL", "targets_configmap", "targets_configmap_name"]

#: Budget for targets.json: well inside a ConfigMap's 1 MiB with room for metadata.
TARGETS_BUDGET_BYTES = 900_000


def targets_configmap_name(policy: str) -> str:
    """``<policy>-targets`` (policy names are DNS subdomains of at most 253 characters)."""
    return f"{policy[:245]}-targets"


def targets_configmap(
    policy: Mapping[str, Any], targets: Sequence[VolumeInfo], kind: str, budget: int = TARGETS_BUDGET_BYTES
) -> dict[str, Any]:
    """The ConfigMap body for ``targets`` (kind ``volume`` or ``guest``), owned by the policy."""
    meta = policy["metadata"]
    records = [
        {"id": t.id, "name": t.name, "tenant": t.project_name or t.project_id, "sizeGb": t.size_gb, "kind": kind}
        for t in targets
    ]
    text, detail = json.dumps(records, separators=(",", ":")), "full"
    if len(text) > budget:
        text, detail = json.dumps([{"id": t.id, "kind": kind} for t in targets], separators=(",", ":")), "ids"
    # Same literal shape as billing_configmap (duplicate scan): labels and data differ, the owner is shared.
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": targets_configmap_name(meta["name"]),
            "namespace": meta["namespace"],
            "labels": {
                TARGETS_LABEL: meta["name"][:63].rstrip("-._"),
                "app.kubernetes.io/managed-by": "daytwo",
                "app.kubernetes.io/part-of": "daytwo",
            },
            "ownerReferences": [owner_reference(policy)],
        },
        "data": {"targets.json": text, "count": str(len(targets)), "detail": detail},
    }
