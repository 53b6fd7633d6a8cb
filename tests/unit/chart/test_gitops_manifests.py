"""examples/gitops: the Argo CD and Flux manifests point at paths that exist and keep themselves out of examples/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.harness.controlplane import REPO

GITOPS = REPO / "examples" / "gitops"


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_argocd_applications() -> None:
    apps = {app["metadata"]["name"]: app for app in load(GITOPS / "argocd" / "daytwo.yaml")}
    assert set(apps) == {"daytwo", "daytwo-examples"}
    chart, examples = apps["daytwo"]["spec"], apps["daytwo-examples"]["spec"]
    assert (REPO / chart["source"]["path"] / "Chart.yaml").exists()
    assert chart["source"]["helm"]["releaseName"] == "daytwo"
    assert examples["source"]["path"] == "examples" and examples["source"]["directory"]["recurse"] is False
    waves = [int(apps[name]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for name in apps]
    assert waves == sorted(waves), "the chart syncs before the examples"


def test_flux_source_release_and_kustomization() -> None:
    docs = {doc["kind"]: doc for doc in load(GITOPS / "flux" / "daytwo.yaml")}
    assert set(docs) == {"GitRepository", "HelmRelease", "Kustomization"}
    assert "/examples/gitops/" in docs["GitRepository"]["spec"]["ignore"]
    chart_path = docs["HelmRelease"]["spec"]["chart"]["spec"]["chart"]
    assert (REPO / chart_path / "Chart.yaml").exists()
    assert docs["Kustomization"]["spec"]["path"] == "./examples"
    check = docs["Kustomization"]["spec"]["healthChecks"][0]
    assert (check["kind"], check["name"]) == ("Deployment", "daytwo-operator")


def test_examples_folder_applies_no_gitops_manifest() -> None:
    """`kubectl apply -f examples/` is not recursive: nothing of Argo CD or Flux sits at its top level."""
    for path in (REPO / "examples").glob("*.yaml"):
        for doc in load(path):
            assert not doc["apiVersion"].startswith(
                ("argoproj.io/", "source.toolkit", "kustomize.toolkit", "helm.toolkit")
            )
