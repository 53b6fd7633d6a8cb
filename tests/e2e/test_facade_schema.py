"""schemathesis over each API's OpenAPI document, as an admin: no 5xx, no response outside its schema.

501 (the documented answer of endpoints daytwo has nothing behind) is the one 5xx allowed.

It runs against a facade of its own serving a namespace of its own (the examples copied in), so
the objects random requests create or change disturb no other test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.e2e.conftest import wait_for_condition
from tests.harness.controlplane import REPO, LocalControlPlane
from tests.harness.facade import Facade
from tests.harness.kubectl import Kubectl
from tests.harness.operator import DaytwoProcess
from tests.harness.standins import Standin

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

NAMESPACE = "daytwo-schemathesis"
EXAMPLES_PER_OPERATION = 8
#: Operations that would end the run's own session.
SKIPPED = {("POST", "/api/auth/logout")}


@pytest.fixture(scope="module")
def schema_facade(
    cluster: LocalControlPlane,
    kubectl: Kubectl,
    operator: DaytwoProcess,
    standins: list[Standin],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Facade]:
    """A facade serving NAMESPACE, holding a copy of examples/ (with their Secrets) reconciled by the
    operator: the OpenStack credential has synced its inventory before any request is made."""
    running = Facade.start(cluster.kubeconfig, kubectl, NAMESPACE, tmp_path_factory.mktemp("schema-facade"))
    for standin in standins:
        for secret in standin.secrets(NAMESPACE):
            kubectl.apply(json.dumps(secret))
    for path in sorted((REPO / "examples").glob("*.yaml")):
        for doc in yaml.safe_load_all(Path(path).read_text()):
            if doc and doc.get("kind") != "Namespace":
                doc["metadata"]["namespace"] = NAMESPACE
                kubectl.apply(json.dumps(doc))
    wait_for_condition(
        kubectl, "CloudCredential", "openstack-prod", "InventorySynced", "True", namespace=NAMESPACE, timeout=120
    )
    yield running
    running.stop()


def run_operations(facade: Facade, prefix: str) -> tuple[int, list[str]]:
    """Drive every operation of one API; returns (operations run, failures)."""
    schema = schemathesis.openapi.from_url(f"{facade.url}/{prefix}/openapi.json")
    headers = {"Authorization": f"Bearer {facade.login('admin')}"}
    base_url = f"{facade.url}/{prefix}"
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        count += 1

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(base_url=base_url, headers=headers)
            # 501 is the deliberate answer of endpoints daytwo has nothing behind (issue #10); any other 5xx fails
            checks = [response_schema_conformance] + ([] if response.status_code == 501 else [not_a_server_error])
            case.validate_response(response, checks=checks)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:
            first = str(error).strip().splitlines()
            failures.append(f"{operation.method.upper()} /{prefix}{operation.path}: {' | '.join(first[:6])}")
    return count, failures


@pytest.mark.parametrize("prefix", ["platform9", "horcrux", "pmi", "spot", "multicloud"])
def test_api_answers_within_its_schema(schema_facade: Facade, prefix: str) -> None:
    count, failures = run_operations(schema_facade, prefix)
    assert count > 0
    assert failures == [], f"{len(failures)} of {count} operations failed:\n" + "\n".join(failures)
