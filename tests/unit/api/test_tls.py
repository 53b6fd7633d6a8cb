"""The facade's serving TLS (daytwo.api.tls): self-signed generation, certificate info, pair checks, and the
one SSLContext reloaded in place when the Secret's resourceVersion changes (ephemeral until then)."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest
from daytwo.api.tls import ServingTLS, certificate_info, check_pair, self_signed

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_self_signed_certificate_info() -> None:
    cert, key = self_signed("facade.example", 30, NOW)
    info = certificate_info(cert, NOW)
    assert info["subject"] == info["issuer"] == "CN=facade.example" and info["self_signed"]
    assert info["san"] == ["DNS:facade.example"]
    assert info["not_after"].startswith("2026-06-30T23:55") and info["expires_in_days"] == 29
    assert len(info["fingerprint"].split(":")) == 32
    assert "PRIVATE KEY" in key and "PRIVATE KEY" not in cert
    check_pair(cert, key)


def test_an_ip_common_name_is_an_ip_san() -> None:
    cert, _ = self_signed("127.0.0.1", 1, NOW)
    assert certificate_info(cert, NOW)["san"] == ["IP:127.0.0.1"]


def test_mismatched_or_bad_pairs_are_refused() -> None:
    cert, _ = self_signed("a.example", 1)
    _, other_key = self_signed("b.example", 1)
    with pytest.raises(ValueError, match="not a matching PEM"):
        check_pair(cert, other_key)
    with pytest.raises(ValueError, match="not a matching PEM"):
        check_pair("not pem", other_key)


def test_serving_context_reloads_in_place_on_a_new_version() -> None:
    serving = ServingTLS()
    assert not serving.enabled and serving.source is None
    context = serving.enable()
    assert isinstance(context, ssl.SSLContext) and serving.source == "ephemeral"
    cert, key = self_signed("one.example", 10)
    secrets = {"tls": ("1", {"tls.crt": cert, "tls.key": key})}
    assert serving.refresh("tls", secrets.get)
    assert serving.context is context and serving.source == "secret"
    assert serving.loaded is not None and serving.loaded.info["subject"] == "CN=one.example"
    assert not serving.refresh("tls", secrets.get), "same resourceVersion: nothing to load"
    _, wrong = self_signed("two.example", 10)
    secrets["tls"] = ("2", {"tls.crt": cert, "tls.key": wrong})
    assert not serving.refresh("tls", secrets.get), "a bad pair keeps the current certificate"
    assert serving.loaded.info["subject"] == "CN=one.example"
    assert not serving.refresh("absent", secrets.get)
