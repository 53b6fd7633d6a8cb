"""Secure defaults in the CRDs: http:// endpoints need an explicit opt-out, Proxmox TLS is verified by default.

The apiserver evaluates the CEL rules (tests/e2e/test_validation.py proves each one refuses); here the
schema carries them, the opt-out is off by default and described, and the status has the binding.
"""

from __future__ import annotations

from typing import Any

import pytest
from daytwo.crds.cloudcredential import AwsProvider, CloudCredentialStatus, OpenStackProvider
from daytwo.crds.generate import structural
from daytwo.crds.proxmoxnode import ProxmoxNodeSpec, ProxmoxNodeStatus


@pytest.mark.parametrize(
    ("model", "url_field", "guard"),
    [(OpenStackProvider, "authUrl", ""), (AwsProvider, "endpointUrl", "has(self.endpointUrl) && ")],
)
def test_http_endpoint_needs_allow_insecure_http(model: Any, url_field: str, guard: str) -> None:
    schema = structural(model)
    [rule] = [entry for entry in schema["x-kubernetes-validations"] if url_field in entry["rule"]]
    assert rule["rule"] == (
        f"!({guard}self.{url_field}.startsWith('http://')) || (has(self.allowInsecureHttp) && self.allowInsecureHttp)"
    )
    assert "allowInsecureHttp: true" in rule["message"]
    opt_out = schema["properties"]["allowInsecureHttp"]
    assert opt_out["default"] is False and "unencrypted" in opt_out["description"]


def test_proxmox_tls_is_verified_unless_opted_out() -> None:
    spec = ProxmoxNodeSpec.model_validate({"host": "pve", "tokenSecretRef": {"name": "t"}})
    assert spec.tls.insecure_skip_verify is False


@pytest.mark.parametrize("status", [CloudCredentialStatus, ProxmoxNodeStatus])
def test_status_has_the_secret_binding(status: Any) -> None:
    binding = structural(status)["properties"]["secretBinding"]
    assert set(binding["properties"]) == {"secretUid", "secretResourceVersion", "endpointFingerprint"}
    assert all(field["description"] for field in binding["properties"].values())
