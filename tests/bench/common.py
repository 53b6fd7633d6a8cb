"""What every benchmark writes: one JSON document with wall time, throughput and peak RSS."""

from __future__ import annotations

import json
import os
import platform
import resource
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def peak_rss_mb_of(pid: int) -> float:
    """Peak resident set size (VmHWM) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for pid {pid}")


def own_peak_rss_mb() -> float:
    """Peak RSS of this process, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_result(out: Path, name: str, **fields: Any) -> dict[str, Any]:
    """Write ``{name, machine, measured_at, **fields}`` as JSON to ``out`` and return it."""
    result = {
        "name": name,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **fields,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result), flush=True)
    return result
