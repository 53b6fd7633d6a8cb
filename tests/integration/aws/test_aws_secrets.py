"""No AWS secret (secret access key, assumed-role secrets) appears in a log record or an error text."""

from __future__ import annotations

import pytest
from daytwo.operator.backends.aws import AwsClientFactory
from daytwo.operator.backends.runtime import RetryPolicy
from daytwo.operator.errors import BackendError

from tests.standins.aws import AwsStandin, Fault

from .conftest import params
from .leaks import all_debug, assert_no_leak, reset_levels, texts


def test_secret_never_in_logs_or_errors(aws: AwsStandin, caplog: pytest.LogCaptureFixture) -> None:
    all_debug(caplog)
    factory = AwsClientFactory(policy=RetryPolicy(retries=1, backoff_seconds=0.01))
    wrong = aws.secret_access_key[::-1]
    scenarios = [
        lambda: factory.get(params(aws, secret_access_key=wrong)).validate(),
        lambda: factory.get(
            params(aws, access_key_id=aws.noec2_access_key_id, secret_access_key=aws.noec2_secret_access_key)
        ).inventory(),
        lambda: (aws.server.add_fault(Fault(status=503, times=None)), factory.get(params(aws)).validate()),
    ]
    errors: list[BackendError] = []
    try:
        factory.get(params(aws, assume_role_arn=aws.role_arn)).validate()
        factory.get(params(aws, assume_role_arn=aws.role_arn)).inventory()
        for scenario in scenarios:
            try:
                scenario()
            except BackendError as error:
                errors.append(error)
    finally:
        aws.server.clear_faults()
        reset_levels()
    assert [e.reason for e in errors] == ["AuthFailed", "PermissionDenied", "Unavailable"]
    assert caplog.records
    for error in errors:
        assert error.__cause__ is None and error.__context__ is None, "no botocore object kept"
    found = texts(caplog, errors, extra=[factory.get(params(aws)), params(aws)])
    assert_no_leak(found, [aws.secret_access_key, wrong, aws.noec2_secret_access_key])
