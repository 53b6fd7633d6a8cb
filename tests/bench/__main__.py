"""`make bench`: run every benchmark under tests/bench, each writing <out>/<name>.json.

Fails (exit 1) when a listed benchmark is missing, exits non-zero, or writes no result whose own
checks passed (``"ok": true``, see ``common.write_result``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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
    "bench_cloudresource",
    "bench_aggregatemigration",
    "bench_snapshotpolicy",
    "bench_restorejob",
    "bench_billing",
    "bench_facade",
    "bench_scale",
]


def verdict(name: str, returncode: int, out: Path) -> str | None:
    """Why benchmark ``name`` failed (its exit status, or the JSON it wrote at ``out``), or None if it passed."""
    if returncode != 0:
        return f"exited with {returncode}"
    try:
        result = json.loads(out.read_text())
    except (OSError, ValueError) as error:
        return f"wrote no readable result at {out}: {error}"
    if result.get("ok") is not True or not result.get("checks"):
        return f"its own checks did not pass (see {out})"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks one after the other (each in its own process, so peak RSS is its own)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".daytwo/bench"))
    parser.add_argument("names", nargs="*", default=BENCHMARKS)
    args = parser.parse_args(argv)
    missing = [name for name in args.names if importlib.util.find_spec(f"tests.bench.{name}") is None]
    if missing:
        print(f"no such benchmark: {', '.join(missing)} (tests/bench/<name>.py)", file=sys.stderr)
        return 1
    failed = []
    for name in args.names:
        print(f"==> {name}", flush=True)
        out = args.out / f"{name}.json"
        out.unlink(missing_ok=True)  # a stale result from an earlier run must not pass for this one
        result = subprocess.run([sys.executable, "-m", f"tests.bench.{name}", "--out", str(out)])
        reason = verdict(name, result.returncode, out)
        if reason:
            print(f"==> {name} FAILED: {reason}", file=sys.stderr, flush=True)
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
