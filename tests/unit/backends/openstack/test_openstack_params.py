"""Connection params: secrets stay out of repr, fingerprints change when anything changes."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest
from daytwo.operator.backends.openstack import OpenStackClientSettings, OpenStackConnectionParams

SECRET = "s3cr3t-value-xyz"


def params(**overrides: object) -> OpenStackConnectionParams:
    fields: dict[str, object] = {
        "auth_url": "https://keystone.example/v3",
        "username": "ops",
        "password": SECRET,
        "project_name": "admin",
    }
    fields.update(overrides)
    return OpenStackConnectionParams(**fields)  # type: ignore[arg-type]


def test_repr_and_str_hide_secrets() -> None:
    p = params(application_credential_secret=SECRET + "2", ca_bundle_pem="-----BEGIN CERTIFICATE-----")
    for text in (repr(p), str(p), f"{p}", f"{p!r}"):
        assert SECRET not in text and "BEGIN CERTIFICATE" not in text
        assert "password='***'" in text


def test_fingerprint_is_stable_and_covers_secrets() -> None:
    assert params().fingerprint() == params().fingerprint()
    assert params().fingerprint() != params(password="rotated").fingerprint()
    assert params().fingerprint() != params(region="RegionTwo").fingerprint()
    assert SECRET not in params().fingerprint()


def test_every_field_changes_the_fingerprint() -> None:
    base = params(application_credential_id=None)
    for f in dataclasses.fields(OpenStackConnectionParams):
        value = getattr(base, f.name)
        changed = (value + 1.0) if isinstance(value, float) else (not value) if isinstance(value, bool) else f"{value}x"
        assert dataclasses.replace(base, **{f.name: changed}).fingerprint() != base.fingerprint(), f.name


def test_params_need_a_way_to_authenticate() -> None:
    with pytest.raises(ValueError, match="username"):
        OpenStackConnectionParams(auth_url="https://k/v3")
    with pytest.raises(ValueError, match="timeout"):
        params(timeout_seconds=0)
    assert OpenStackConnectionParams(
        auth_url="https://k/v3", application_credential_id="id"
    ).uses_application_credential


def test_backoff_is_exponential_and_capped() -> None:
    settings = OpenStackClientSettings(retry_attempts=4, backoff_base_seconds=0.5, backoff_max_seconds=3)
    policy = replace(settings.retry_policy(), jitter=lambda: 1.0)
    assert policy.retries == 3
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError):
        OpenStackClientSettings(retry_attempts=0)
