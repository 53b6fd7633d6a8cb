"""The Dockerfile, checked by reading it (no Docker engine here); its wheel: tests/integration/chart/test_wheel.py.

The structural rules: every base image pinned to an exact version, no remote ADD, a multi-stage build
that installs a wheel into a venv, a numeric non-root USER matching the chart's securityContext, and
only commands that the package declares.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from tests.harness.controlplane import REPO

DOCKERFILE = REPO / "Dockerfile"
EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[a-f0-9]{64})?$")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "") for parts in (j.strip().split(None, 1) for j in joined)
    ]


@pytest.fixture(scope="module")
def parsed() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_parser_joins_continuations() -> None:
    assert instructions("# c\nFROM a:1.2.3 AS b\nRUN x \\\n && y\n") == [("FROM", "a:1.2.3 AS b"), ("RUN", "x   && y")]


def test_base_images_are_pinned(parsed: list[tuple[str, str]]) -> None:
    stages = [args.split()[0] for op, args in parsed if op == "FROM"]
    assert len(stages) >= 2, "multi-stage: a builder and a runtime"
    for image in stages:
        assert EXACT_TAG.match(image), f"{image} is not pinned to an exact version"
        assert "latest" not in image


def test_no_remote_add_and_no_curl_pipes(parsed: list[tuple[str, str]]) -> None:
    for op, args in parsed:
        assert op != "ADD" or not re.search(r"https?://|git@", args), args
        assert not re.search(r"(curl|wget)\b.*\|\s*(ba)?sh", args), args


def test_runtime_is_non_root_and_matches_the_chart(parsed: list[tuple[str, str]]) -> None:
    last_from = max(i for i, (op, _) in enumerate(parsed) if op == "FROM")
    users = [args for op, args in parsed[last_from:] if op == "USER"]
    assert users, "the runtime stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    helpers = (REPO / "charts" / "daytwo" / "templates" / "_pod.tpl").read_text()
    assert f"runAsUser: {uid}" in helpers and f"runAsGroup: {gid or uid}" in helpers
    copies = [args for op, args in parsed[last_from:] if op == "COPY"]
    assert copies and all(args.startswith("--from=") for args in copies), "the runtime copies only built artefacts"


def test_builds_a_wheel_and_runs_declared_commands(parsed: list[tuple[str, str]]) -> None:
    runs = " ".join(args for op, args in parsed if op == "RUN")
    assert "pip wheel" in runs and "pip install /wheels/" in runs
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    (cmd,) = [args for op, args in parsed if op == "CMD"]
    assert yaml.safe_load(cmd)[0] in scripts
    for template, command in (
        ("operator-deployment.yaml", "daytwo-operator"),
        ("facade-deployment.yaml", "daytwo-api"),
    ):
        assert command in scripts
        assert f"command: [{command}]" in (REPO / "charts" / "daytwo" / "templates" / template).read_text()


def test_dockerignore_keeps_the_context_small(parsed: list[tuple[str, str]]) -> None:
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    for op, args in parsed:
        if op == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert source.rstrip("/") in allowed, f"{source} is excluded by .dockerignore"
