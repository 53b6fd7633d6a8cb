"""What every benchmark writes: one JSON document with wall time, throughput, peak RSS and its own checks.

Every benchmark checks what it counted (objects created, failures, backend calls, answers) with
:func:`check` and hands the checks to :func:`write_result`: the JSON records each check, and a wrong
count makes the benchmark exit non-zero after writing it (a fast wrong answer is not a result).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    """One count a benchmark verified: what, what it found, what it expected, and whether that holds."""

    what: str
    actual: Any
    expected: Any
    ok: bool


def check(what: str, actual: Any, expected: Any) -> Check:
    """``actual == expected``, recorded under ``what``."""
    return Check(what, actual, expected, actual == expected)


def check_that(what: str, actual: Any, holds: bool, expected: str) -> Check:
    """A check that is not an equality (``expected`` says in words what must hold, e.g. ``"> 0"``)."""
    return Check(what, actual, expected, bool(holds))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb_of(pid: int) -> float:
    """Current resident set size (VmRSS) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


def peak_rss_mb_of(pid: int) -> float:
    """Peak resident set size (VmHWM) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for pid {pid}")


def own_peak_rss_mb() -> float:
    """Peak RSS of this process, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_result(out: Path, name: str, checks: Sequence[Check], **fields: Any) -> dict[str, Any]:
    """Write ``{name, machine, measured_at, **fields, checks, ok}`` as JSON to ``out`` and return it.

    Exits with status 1 (after writing) when ``checks`` is empty or any check failed.
    """
    failed = [c for c in checks if not c.ok]
    result = {
        "name": name,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        **fields,
        "checks": [asdict(c) for c in checks],
        "ok": bool(checks) and not failed,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result), flush=True)
    if not checks:
        print(f"{name}: no checks: a benchmark must verify its own counts", file=sys.stderr)
        raise SystemExit(1)
    for c in failed:
        print(f"{name}: check failed: {c.what}: got {c.actual!r}, expected {c.expected!r}", file=sys.stderr)
    if failed:
        raise SystemExit(1)
    return result
