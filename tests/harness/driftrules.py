"""platform9's 22 built-in drift rules (charts/daytwo/files/builtin-driftrules.yaml) as DriftRule objects,
named as the Helm chart names them, for `make demo` and the drift benchmark."""

from __future__ import annotations

from typing import Any

import yaml

from .controlplane import REPO

__all__ = ["BUILTIN_RULES", "builtin_drift_rules"]

BUILTIN_RULES = REPO / "charts" / "daytwo" / "files" / "builtin-driftrules.yaml"


def builtin_drift_rules(namespace: str, credential: str, interval_seconds: int) -> list[dict[str, Any]]:
    """One DriftRule per built-in (resource type, field), reading through ``credential``."""
    rules = []
    for rule in yaml.safe_load(BUILTIN_RULES.read_text()):
        rules.append(
            {
                "apiVersion": "daytwo.io/v1alpha1",
                "kind": "DriftRule",
                "metadata": {
                    "name": f"builtin-{rule['resourceType']}-{rule['field']}".replace("_", "-"),
                    "namespace": namespace,
                    "labels": {"daytwo.io/builtin": "true"},
                    "annotations": {"daytwo.io/rule-name": rule["name"]},
                },
                "spec": {
                    "target": {
                        "credentialsRef": {"kind": "CloudCredential", "name": credential},
                        "resourceType": rule["resourceType"],
                    },
                    "field": rule["field"],
                    "severity": rule["severity"],
                    "description": rule["description"],
                    "intervalSeconds": interval_seconds,
                },
            }
        )
    return rules
