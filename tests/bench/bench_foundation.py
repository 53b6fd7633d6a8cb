"""Benchmark: the operator taking N DriftRules from apply to observedGeneration, on the success path
and on the broken-reference path, next to the no-op Kopf operator on the same apiserver.

    python -m tests.bench.bench_foundation --out foundation.json [--objects 500] [--no-noop]

Real control plane, the OpenStack stand-in (seed ``demo``) in its own process. For each path
(``success``: a valid credential for the stand-in, every rule lists the stand-in and ends Ready=True;
``broken``: the credential's Secret does not exist, every rule ends Ready=False) and each operator
(daytwo-operator with its default settings; the no-op Kopf operator of ``noop_operator.py``) in its own
namespace: the wall time from the ``kubectl apply`` of the rules until every rule has
status.observedGeneration, objects/s, the operator's peak RSS, and daytwo/no-op ratios. Checks: every
rule created and observed, and (daytwo) Ready=True on the success path, Ready=False on the broken one.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from tests.harness.controlplane import LocalControlPlane
from tests.harness.kubectl import Kubectl

from .bench_openstack import start_standin
from .common import Check, write_result
from .kube import custom_objects, install_crds
from .paths import PATHS, apply_to_observed, ratio


def main() -> None:
    """Run the benchmark and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated: success,broken")
    parser.add_argument("--no-noop", action="store_true", help="skip the no-op Kopf operator baseline")
    args = parser.parse_args()
    flavours = ["daytwo"] if args.no_noop else ["daytwo", "noop"]
    results: dict[str, dict[str, Any]] = {}
    checks: list[Check] = []
    standin, base = start_standin("demo")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-foundation-") as tmp,
            LocalControlPlane(state_dir=Path(tmp) / "cluster") as plane,
        ):
            kubectl = Kubectl(plane.kubeconfig)
            install_crds(kubectl, ["driftrules", "driftevents", "cloudcredentials"])
            api = custom_objects(plane.kubeconfig)
            for path in args.paths.split(","):
                for flavour in flavours:
                    result, found = apply_to_observed(plane, kubectl, api, flavour, path, args.objects, base, Path(tmp))
                    results.setdefault(path, {})[flavour] = result
                    checks += found
    finally:
        standin.terminate()
        standin.wait(timeout=30)
    for by_flavour in results.values():
        if "noop" in by_flavour:
            by_flavour["daytwo_over_noop"] = ratio(by_flavour["daytwo"], by_flavour["noop"])
    write_result(
        args.out,
        "foundation-apply-to-observed",
        checks,
        objects=args.objects,
        paths=results,
        note="N DriftRules applied -> every one has status.observedGeneration; daytwo-operator with default "
        "settings vs a Kopf operator that only patches observedGeneration, same apiserver, one namespace each",
    )


if __name__ == "__main__":
    main()
