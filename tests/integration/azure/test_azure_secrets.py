"""No Azure client secret or access token appears in a log record or an error text."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.azure import AzureClientFactory
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import BackendError

from tests.integration.aws.leaks import all_debug, assert_no_leak, reset_levels, texts
from tests.standins.azure import AzureStandin

from .conftest import params


def test_secret_never_in_logs_or_errors(az: AzureStandin, caplog: pytest.LogCaptureFixture) -> None:
    all_debug(caplog)
    factory = AzureClientFactory(policy=RetryPolicy(retries=1, backoff_seconds=0.01))
    wrong = az.client_secret[::-1]
    novm = params(az, client_id=az.novm_client_id, client_secret=az.novm_client_secret)
    scenarios = [
        lambda: factory.get(params(az, client_secret=wrong)).validate(),
        lambda: factory.get(novm).inventory(["vms"]),
        lambda: (az.faults.fail("/subscriptions", 503, times=None), factory.get(params(az)).validate()),
    ]
    errors: list[BackendError] = []
    try:
        factory.get(params(az)).inventory()
        for scenario in scenarios:
            try:
                scenario()
            except BackendError as error:
                errors.append(error)
    finally:
        az.faults.clear()
        reset_levels()
        factory.close()
    assert [e.reason for e in errors] == ["AuthFailed", "PermissionDenied", "Unavailable"]
    for error in errors:
        assert error.__cause__ is None and error.__context__ is None, "no azure-core object kept"
    found = texts(caplog, errors, extra=[factory, params(az)])
    assert_no_leak(found, [az.client_secret, wrong, az.novm_client_secret, *az.issued_tokens()])
