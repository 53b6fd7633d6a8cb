"""The entry points' settings loader: a bad value is one readable stderr line naming the variable, then None."""

from __future__ import annotations

import pytest
from daytwo.api.settings import settings_from_environment


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DAYTWO_API_PORT", "0")
    monkeypatch.setenv("DAYTWO_API_JWT_SECRET", "f3c1a9e07b2d4c6a8e5f1b3d7c9a2e4f6b8d0c1e3a5f7b9d")
    assert settings_from_environment("daytwo-api admin") is None
    assert capsys.readouterr().err.startswith("daytwo-api admin: DAYTWO_API_PORT: ")


def test_good_settings_are_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAYTWO_API_PORT", "8443")
    monkeypatch.setenv("DAYTWO_API_JWT_SECRET", "f3c1a9e07b2d4c6a8e5f1b3d7c9a2e4f6b8d0c1e3a5f7b9d")
    settings = settings_from_environment("daytwo-api")
    assert settings is not None and settings.port == 8443
