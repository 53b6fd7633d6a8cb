"""Collect every text a failure path produced (log records, exception chains), to grep for secrets.

Shared by the aws, azure and gcp secret tests.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator

import pytest
from daytwo.operator.errors import BackendError

NOISY = ("urllib3", "botocore", "boto3", "azure", "msal", "google", "requests")


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error and its causes/contexts."""
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def all_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Capture everything at DEBUG, third-party libraries included."""
    caplog.set_level(logging.DEBUG)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG)


def reset_levels() -> None:
    """Put the third-party loggers back to NOTSET."""
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.NOTSET)


def texts(caplog: pytest.LogCaptureFixture, errors: Iterable[BackendError], extra: Iterable[object] = ()) -> list[str]:
    """Every log message (with tracebacks) and every error's str/repr/args/vars/traceback, plus reprs of extra."""
    found: list[str] = []
    for record in caplog.records:
        found.append(record.getMessage())
        if record.exc_info:
            found.append("".join(traceback.format_exception(*record.exc_info)))
    for error in errors:
        for link in chain(error):
            found += [str(link), repr(link), repr(link.args), repr(vars(link))]
        found.append("".join(traceback.format_exception(error)))
    found += [repr(item) for item in extra]
    return found


def assert_no_leak(found: list[str], secrets: Iterable[str]) -> None:
    """Fail naming where a secret appeared."""
    for secret in secrets:
        assert secret, "an empty secret would match everything"
        leaks = [t for t in found if secret in t]
        assert not leaks, f"secret leaked in: {leaks[0][:300]}"
