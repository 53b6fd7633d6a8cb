"""The status-code -> typed error table every backend shares."""

from __future__ import annotations

import pytest
from daytwo.operator import errors


@pytest.mark.parametrize(
    ("status", "expected", "retryable"),
    [
        (400, errors.InvalidRequest, False),
        (401, errors.AuthFailed, False),
        (403, errors.PermissionDenied, False),
        (404, errors.NotFound, False),
        (409, errors.Conflict, False),
        (422, errors.InvalidRequest, False),
        (429, errors.Unavailable, True),
        (500, errors.Unavailable, True),
        (503, errors.Unavailable, True),
        (418, errors.InvalidRequest, False),
    ],
)
def test_status_mapping(status: int, expected: type[errors.BackendError], retryable: bool) -> None:
    error = errors.error_for_status(status, "boom")
    assert type(error) is expected and error.retryable is retryable and error.status_code == status


def test_reasons_are_condition_reasons() -> None:
    assert errors.PermissionDenied("x", missing="VM.PowerMgmt").missing == "VM.PowerMgmt"
    assert errors.Timeout("x").reason == "Timeout" and errors.Timeout("x").retryable
    assert errors.CredentialsNotFound("x").reason == "CredentialsNotFound"
