"""horcrux /api/tls: the facade's own serving certificate and the Proxmox nodes' certificates (README, TLS).

The facade serves HTTPS when ``DAYTWO_API_TLS_SECRET`` is set, from the Secret that names (or the one
``POST /api/tls/config`` chose, kept in the ConfigMap ``daytwo-tls``), reloaded without restart
(api/tls.py). The node certificates are those the operator read from Proxmox (``GET
/nodes/{node}/certificates/info``) into each ProxmoxNode's ``status.certificates``. Generating a
self-signed certificate writes the serving Secret as the caller (admins only), labelled as the facade's own;
a Secret someone else made (cert-manager, kubectl) is never overwritten.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from daytwo.api.deps import Principal, Reader, Write, get_services, reads, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.kubewrite import MANAGED_BY, MANAGED_BY_FACADE, owned_secret
from daytwo.api.store import ObjectStore
from daytwo.api.tls import (
    CERT_KEY,
    FACADE_TLS_LABELS,
    KEY_KEY,
    SERVING,
    TLS_CONFIGMAP,
    TlsReloader,
    secret_reader,
    self_signed,
    serving_secret_name,
)
from daytwo.api.tls import certificate_info as info_of
from daytwo.operator.shared.times import parse_time
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

__all__ = ["router"]

router = APIRouter(tags=["tls"])

_SECRET_NAME = r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$"
_RESTART = (
    "HTTPS is switched at start-up: set DAYTWO_API_TLS_SECRET (chart value facade.tls.secretName) and restart; "
    "the certificate itself reloads without restart"
)


class TlsConfig(BaseModel):
    """The serving TLS configuration (horcrux's fields, paths as ``secret://<namespace>/<name>/<key>``)."""

    enabled: bool
    secret_name: str | None
    cert_path: str | None
    key_path: str | None
    expires_at: str | None
    source: str | None = Field(None, description="secret | ephemeral (no valid pair in the Secret yet) | null")
    fingerprint: str | None = None


class TlsConfigUpdate(BaseModel):
    """``secret_name`` chooses the serving Secret; ``enabled`` must match how the facade was started."""

    enabled: bool | None = None
    secret_name: str | None = Field(None, pattern=_SECRET_NAME, max_length=253)
    cert_path: str | None = None
    key_path: str | None = None


class Certificate(BaseModel):
    """One certificate: the facade's serving one or a Proxmox node's."""

    id: str
    kind: str = Field(description="facade | proxmox-node")
    name: str
    subject: str
    issuer: str
    not_before: str
    not_after: str
    fingerprint: str
    expires_in_days: int
    proxmox_node: str | None = Field(None, description="The ProxmoxNode (kind proxmox-node).")
    node: str | None = Field(None, description="The Proxmox cluster node (kind proxmox-node).")


class GenerateBody(BaseModel):
    """horcrux's body, plus the Secret to write (default: the serving Secret)."""

    common_name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9*.:-]+$")
    validity_days: int = Field(365, ge=1, le=3650)
    secret_name: str | None = Field(None, pattern=_SECRET_NAME, max_length=253)


class Generated(BaseModel):
    """What was generated (never the key)."""

    message: str
    secret_name: str
    certificate: Certificate
    serving: bool = Field(description="Whether this replica already serves it (the others within a reload).")


def _config(request: Request) -> dict[str, Any]:
    services = get_services(request)
    name = serving_secret_name(services) or None
    where = f"secret://{services.settings.namespace}/{name}" if name else None
    info = SERVING.loaded.info if SERVING.loaded is not None else {}
    return {
        "enabled": SERVING.enabled,
        "secret_name": name,
        "cert_path": f"{where}/{CERT_KEY}" if where else None,
        "key_path": f"{where}/{KEY_KEY}" if where else None,
        "expires_at": info.get("not_after"),
        "source": SERVING.source,
        "fingerprint": info.get("fingerprint"),
    }


def _facade_entry(info: dict[str, Any], name: str) -> dict[str, Any]:
    keys = ("subject", "issuer", "not_before", "not_after", "fingerprint", "expires_in_days")
    return {"id": "facade", "kind": "facade", "name": name, **{k: info[k] for k in keys}}


def _node_entries(store: ObjectStore) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    entries = []
    for obj in store.list("ProxmoxNode"):
        owner = obj["metadata"]["name"]
        for cert in (obj.get("status") or {}).get("certificates") or []:
            not_after = parse_time(cert["notAfter"])
            entries.append(
                {
                    "id": f"{owner}/{cert['node']}/{cert['filename']}",
                    "kind": "proxmox-node",
                    "name": f"{cert['node']}/{cert['filename']}",
                    "subject": cert["subject"],
                    "issuer": cert["issuer"],
                    "not_before": cert["notBefore"],
                    "not_after": cert["notAfter"],
                    "fingerprint": cert["fingerprint"],
                    "expires_in_days": (not_after - now).days if not_after else 0,
                    "proxmox_node": owner,
                    "node": cert["node"],
                }
            )
    return entries


@router.get("/api/tls/config", response_model=TlsConfig, summary="Get TLS config")
def get_config(request: Request, user: Principal = require("settings:read")) -> dict[str, Any]:
    """Whether the facade serves HTTPS, from which Secret, and the served certificate's expiry."""
    return _config(request)


@router.post("/api/tls/config", response_model=TlsConfig, summary="Update TLS config")
def update_config(body: TlsConfigUpdate, act: Write = writes("settings:admin")) -> dict[str, Any]:
    """Choose the serving Secret (every replica loads it within ``tls_reload_seconds``, no restart)."""
    if body.cert_path is not None or body.key_path is not None:
        raise ApiError(
            422,
            "daytwo reads its certificate from a Kubernetes Secret, not from files: give secret_name",
            "VALIDATION_ERROR",
            {"field": "cert_path" if body.cert_path is not None else "key_path"},
        )
    if body.enabled is not None and body.enabled != SERVING.enabled:
        raise ApiError(422, _RESTART, "VALIDATION_ERROR", {"field": "enabled"})
    if body.secret_name is not None:
        services = get_services(act.request)
        found = secret_reader(services)(body.secret_name)
        if found is None or not {CERT_KEY, KEY_KEY} <= set(found[1]):
            raise ApiError(
                422,
                f"Secret {body.secret_name} does not exist or lacks {CERT_KEY}/{KEY_KEY}: create it "
                "(kubernetes.io/tls) or generate one with POST /api/tls/certificate/generate",
                "VALIDATION_ERROR",
                {"field": "secret_name"},
            )
        data = {"secret_name": body.secret_name}
        if services.store.get("ConfigMap", TLS_CONFIGMAP) is not None:
            act.writer.patch("ConfigMap", TLS_CONFIGMAP, {"data": data})
        else:
            labels = {"app.kubernetes.io/part-of": "daytwo", MANAGED_BY: MANAGED_BY_FACADE, **FACADE_TLS_LABELS}
            act.writer.create("ConfigMap", {"metadata": {"name": TLS_CONFIGMAP, "labels": labels}, "data": data})
        act.audit("tls.config.update", TLS_CONFIGMAP, secret_name=body.secret_name)
        answer = _config(act.request)
        return {**answer, "secret_name": body.secret_name}
    return _config(act.request)


@router.get("/api/tls/certificates", response_model=list[Certificate], summary="List certificates")
def list_certificates(read: Reader = reads("settings:read")) -> list[dict[str, Any]]:
    """The facade's serving certificate (when it serves HTTPS) and every Proxmox node's, soonest expiry first."""
    entries = _node_entries(read.store)
    if SERVING.loaded is not None and SERVING.loaded.info:
        entries.append(_facade_entry(SERVING.loaded.info, SERVING.loaded.secret or "ephemeral"))
    return sorted(entries, key=lambda e: (e["not_after"], e["id"]))


@router.post("/api/tls/certificate/generate", response_model=Generated, summary="Generate a self-signed certificate")
def generate(body: GenerateBody, act: Write = writes("settings:admin")) -> dict[str, Any]:
    """Write a new self-signed pair into the serving Secret (or ``secret_name``) as the caller; this replica
    serves it at once when it is the serving Secret, the others within ``tls_reload_seconds``."""
    services = get_services(act.request)
    name = body.secret_name or serving_secret_name(services)
    if not name:
        raise ApiError(
            422,
            "No serving Secret is configured: give secret_name, or set DAYTWO_API_TLS_SECRET",
            "VALIDATION_ERROR",
            {"field": "secret_name"},
        )
    cert_pem, key_pem = self_signed(body.common_name, body.validity_days)
    pair = {CERT_KEY: cert_pem, KEY_KEY: key_pem}
    if owned_secret(act.writer, name, FACADE_TLS_LABELS) is not None:
        act.writer.patch_secret(name, pair)
    elif act.writer.secret_metadata(name) is None:
        act.writer.create_secret(name, pair, {MANAGED_BY: MANAGED_BY_FACADE, **FACADE_TLS_LABELS})
    else:
        raise ApiError(
            409,
            f"Secret {name} was not made by the facade (cert-manager, kubectl?): it is left alone; renew it where it "
            "was made, or name another secret_name",
            "CONFLICT",
        )
    serving = name == serving_secret_name(services) and TlsReloader(services).now()
    info = info_of(cert_pem)
    act.audit("tls.certificate.generate", name, common_name=body.common_name, fingerprint=info["fingerprint"])
    served = SERVING.loaded.info.get("fingerprint") if SERVING.loaded is not None else None
    return {
        "message": "Certificate generated successfully",
        "secret_name": name,
        "certificate": {**_facade_entry(info, name), "id": f"secret/{name}"},
        "serving": bool(serving) or served == info["fingerprint"],
    }
