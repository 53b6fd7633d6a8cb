"""Keep a SnapshotPolicy's ``<policy>-targets`` ConfigMap equal to the targets it resolved last."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubernetes.client.exceptions import ApiException

from ...kube import KubeClient
from ...reconcile.snapshotpolicy.decisions import VolumeInfo
from ...reconcile.snapshotpolicy.targets import targets_configmap

__all__ = ["publish_targets"]


def publish_targets(client: KubeClient, policy: dict[str, Any], targets: Sequence[VolumeInfo], kind: str) -> None:
    """Create or replace the ConfigMap; no write when its data is already current."""
    body = targets_configmap(policy, targets, kind)
    meta = body["metadata"]
    core = client.core
    try:
        current = core.read_namespaced_config_map(meta["name"], meta["namespace"])
    except ApiException as error:
        if error.status != 404:
            raise
        core.create_namespaced_config_map(meta["namespace"], body)
        return
    if dict(current.data or {}) != body["data"]:
        core.replace_namespaced_config_map(meta["name"], meta["namespace"], body)
