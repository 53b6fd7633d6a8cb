"""`make bench`: run every benchmark under tests/bench, each writing <out>/<name>.json."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

BENCHMARKS = [
    "bench_foundation",
    "bench_drift",
    "bench_openstack",
    "bench_proxmox",
    "bench_proxmoxnode",
    "bench_cloud_inventory",
    "bench_aggregatemigration",
    "bench_snapshotpolicy",
    "bench_restorejob",
    "bench_billing",
    "bench_facade",
]


def main() -> int:
    """Run the benchmarks one after the other (each in its own process, so peak RSS is its own)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".daytwo/bench"))
    parser.add_argument("names", nargs="*", default=BENCHMARKS)
    args = parser.parse_args()
    failed = []
    for name in args.names:
        if importlib.util.find_spec(f"tests.bench.{name}") is None:
            print(f"==> {name}: not present, skipped", flush=True)
            continue
        print(f"==> {name}", flush=True)
        result = subprocess.run([sys.executable, "-m", f"tests.bench.{name}", "--out", str(args.out / f"{name}.json")])
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
