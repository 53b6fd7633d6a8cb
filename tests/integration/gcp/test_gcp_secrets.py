"""No part of the service-account private key, nor an access token, appears in a log or an error text."""

from __future__ import annotations

import json

import pytest
from daytwo.operator.backends.gcp import GcpClientFactory
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import BackendError

from tests.integration.aws.leaks import all_debug, assert_no_leak, reset_levels, texts
from tests.standins.gcp import GcpStandin

from .conftest import params


def _key_material(key_json: str) -> list[str]:
    """Every base64 line of the PEM body (a leak of any part of the key is a leak)."""
    pem = json.loads(key_json)["private_key"]
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_key_never_in_logs_or_errors(gcp: GcpStandin, caplog: pytest.LogCaptureFixture) -> None:
    all_debug(caplog)
    factory = GcpClientFactory(policy=RetryPolicy(retries=1, backoff_seconds=0.01))
    scenarios = [
        lambda: factory.get(params(gcp, service_account_json=gcp.forged_service_account_json)).validate(),
        lambda: factory.get(params(gcp, service_account_json=gcp.nolist_service_account_json)).inventory(["vms"]),
        lambda: (gcp.faults.fail("/compute/", 503, times=None), factory.get(params(gcp)).inventory(["networks"])),
    ]
    errors: list[BackendError] = []
    try:
        factory.get(params(gcp)).inventory()
        for scenario in scenarios:
            try:
                scenario()
            except BackendError as error:
                errors.append(error)
    finally:
        gcp.faults.clear()
        reset_levels()
        factory.close()
    assert [e.reason for e in errors] == ["AuthFailed", "PermissionDenied", "Unavailable"]
    for error in errors:
        assert error.__cause__ is None and error.__context__ is None, "no google-auth object kept"
    found = texts(caplog, errors, extra=[factory, params(gcp)])
    secrets = [
        *_key_material(gcp.service_account_json),
        *_key_material(gcp.forged_service_account_json),
        *_key_material(gcp.nolist_service_account_json),
        *gcp.issued_tokens(),
    ]
    assert_no_leak(found, secrets)
