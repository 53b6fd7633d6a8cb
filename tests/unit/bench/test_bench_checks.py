"""The benchmarks' own honesty: checks that fail the run, the runner that fails on a missing or failing
benchmark, requests counted without watches, and the no-op operator's one patch per generation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import kopf
import pytest

from tests.bench import __main__ as runner
from tests.bench.common import check, check_that, write_result
from tests.bench.kube import request_rates
from tests.bench.noop_operator import observe


def test_write_result_records_passing_checks(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    write_result(out, "demo", [check("objects created", 3, 3), check_that("calls", 5, True, "> 0")], wall=1.0)
    result = json.loads(out.read_text())
    assert result["ok"] is True
    assert result["wall"] == 1.0
    assert [c["what"] for c in result["checks"]] == ["objects created", "calls"]


def test_write_result_exits_nonzero_on_a_wrong_count_after_writing(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with pytest.raises(SystemExit) as exited:
        write_result(out, "demo", [check("objects created", 2, 3)])
    assert exited.value.code == 1
    assert json.loads(out.read_text())["ok"] is False


def test_write_result_refuses_a_result_without_checks(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        write_result(tmp_path / "r.json", "demo", [])
    assert exited.value.code == 1


def test_runner_fails_on_a_missing_benchmark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--out", str(tmp_path), "bench_does_not_exist"]) == 1
    assert "bench_does_not_exist" in capsys.readouterr().err


def test_runner_lists_the_scale_benchmark() -> None:
    assert "bench_scale" in runner.BENCHMARKS


@pytest.mark.parametrize(
    ("returncode", "written", "failed"),
    [
        (0, {"ok": True, "checks": [{"ok": True}]}, False),
        (1, {"ok": True, "checks": [{"ok": True}]}, True),
        (0, {"ok": False, "checks": [{"ok": False}]}, True),
        (0, {"ok": True, "checks": []}, True),
        (0, None, True),
    ],
)
def test_runner_verdict(tmp_path: Path, returncode: int, written: object, failed: bool) -> None:
    out = tmp_path / "bench_x.json"
    if written is not None:
        out.write_text(json.dumps(written))
    assert (runner.verdict("bench_x", returncode, out) is not None) is failed


def test_request_rates_leave_out_watches_and_non_resource_paths() -> None:
    before = Counter({("GET", "daytwo.io/driftrules"): 10, ("WATCH", "daytwo.io/driftrules"): 5})
    after = Counter(
        {
            ("GET", "daytwo.io/driftrules"): 30,
            ("WATCH", "daytwo.io/driftrules"): 500,
            ("GET", "(non-resource)"): 40,
            ("PATCH", "daytwo.io/driftrules/status"): 10,
        }
    )
    rates = request_rates(before, after, 10.0)
    assert rates["requests_per_second"] == 3.0
    assert rates["by_verb_per_second"] == {"GET": 2.0, "PATCH": 1.0}


def test_noop_operator_patches_observed_generation_once_per_generation() -> None:
    fresh = kopf.Patch()
    observe(body=kopf.Body({"metadata": {"name": "r", "generation": 2}, "status": {}}), patch=fresh)
    assert fresh == {"status": {"observedGeneration": 2}}
    settled = kopf.Patch()
    observe(
        body=kopf.Body({"metadata": {"name": "r", "generation": 2}, "status": {"observedGeneration": 2}}), patch=settled
    )
    assert not settled
