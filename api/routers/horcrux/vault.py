"""horcrux /api/vault: secrets by path in Kubernetes Secrets (default) or a HashiCorp Vault KV v2 (README, Vault).

Permissions: reading, listing, writing and deleting secret values need ``credentials:write`` (admins and
above: viewers and operators get 403 on every secret route); on the Kubernetes store the calls are made AS
THE CALLER, so Kubernetes RBAC has the last word (the chart's ``daytwo-facade-vault`` Role). The
configuration (ConfigMap ``DAYTWO_API_VAULT_CONFIGMAP``, default ``daytwo-vault``) is read with
``settings:read`` and changed with ``settings:admin``; its token is kept in the Secret ``<configmap>-token``
and never answered, logged or audited. The audit records the action and the path, never values.
"""

from __future__ import annotations

import base64
from typing import Any

from daytwo.api.deps import Principal, Services, Write, get_services, require, writes
from daytwo.api.errors import ApiError
from daytwo.api.kube import request_json
from daytwo.api.kubewrite import MANAGED_BY, MANAGED_BY_FACADE, owned_secret
from daytwo.api.views.horcrux import vault as views
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

__all__ = ["router"]

router = APIRouter(tags=["vault"])

#: Who may touch secret values (admins and above; RBAC decides again on the Kubernetes store).
SECRETS = "credentials:write"
#: Labels of the configuration ConfigMap and the token Secret (made by the facade).
_OWNER = {"daytwo.io/vault": "config"}


class VaultConfigAnswer(BaseModel):
    """The vault configuration (the token never: only whether one is set)."""

    enabled: bool
    address: str
    namespace: str
    mount: str = Field(description="KV version 2 mount (daytwo addition).")
    backend: str = Field(description="Where secrets live now: kubernetes or vault (daytwo addition).")
    token_configured: bool = Field(description="Whether a token is stored (daytwo addition; never the token).")


class VaultConfigUpdate(BaseModel):
    """Fields to change; absent ones keep their value. ``token`` is write-only."""

    enabled: bool | None = None
    address: str | None = Field(None, max_length=512, description="e.g. https://vault.example.com:8200")
    token: str | None = Field(None, min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")
    namespace: str | None = Field(None, max_length=256, pattern=r"^[A-Za-z0-9/_-]*$")
    mount: str | None = Field(None, pattern=r"^[A-Za-z0-9][-_A-Za-z0-9]{0,62}$")


class VaultSecret(BaseModel):
    """A secret: its path and key/value data."""

    path: str
    data: dict[str, str]


class VaultList(BaseModel):
    """What is at a path: the next segment of each secret below it, ``name/`` where there is more below."""

    path: str
    keys: list[str]


class VaultMessage(BaseModel):
    """What a write or delete did."""

    message: str
    path: str


def _config(services: Services) -> views.VaultConfig:
    found = services.store.get("ConfigMap", services.settings.vault_configmap)
    return views.parse_config((found or {}).get("data"), services.settings.vault_mount)


def _token_secret(services: Services) -> str:
    return f"{services.settings.vault_configmap}-token"


def _token(services: Services) -> str:
    """The stored token, read as the facade (it is the facade's own configuration); "" when none."""
    if services.kube is None:
        return ""
    path = f"/api/v1/namespaces/{services.settings.namespace}/secrets/{_token_secret(services)}"
    try:
        found = request_json(services.kube, "GET", path)
    except Exception:
        return ""
    labels = ((found or {}).get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY) != MANAGED_BY_FACADE or labels.get("daytwo.io/vault") != "config":
        return ""
    value = ((found or {}).get("data") or {}).get("token", "")
    return base64.b64decode(value).decode() if value else ""


def _store(services: Services, user: Principal) -> views.SecretStore:
    """The Vault when configured and enabled, else the served namespace's Secrets as ``user``."""
    config = _config(services)
    if config.enabled:
        token = _token(services)
        if not config.address or not token:
            raise ApiError(
                503,
                "Vault is enabled but has no address or token: set them with POST /api/vault/config",
                "SERVICE_UNAVAILABLE",
            )
        return views.VaultKv(config, token)
    if services.kube is None:
        raise ApiError(503, "Kubernetes is not configured", "SERVICE_UNAVAILABLE")
    return views.KubernetesSecrets(
        services.kube, services.settings.namespace, user.impersonate_user, user.impersonate_group
    )


def _answer(services: Services, config: views.VaultConfig) -> dict[str, Any]:
    return {
        "enabled": config.enabled,
        "address": config.address,
        "namespace": config.namespace,
        "mount": config.mount,
        "backend": "vault" if config.enabled else "kubernetes",
        "token_configured": bool(_token(services)) if config.enabled or config.address else False,
    }


@router.get("/api/vault/config", response_model=VaultConfigAnswer, summary="Get Vault config")
def get_config(request: Request, user: Principal = require("settings:read")) -> dict[str, Any]:
    """The vault configuration (never the token)."""
    services = get_services(request)
    return _answer(services, _config(services))


@router.post("/api/vault/config", response_model=VaultConfigAnswer, summary="Update Vault config")
def update_config(body: VaultConfigUpdate, act: Write = writes("settings:admin")) -> dict[str, Any]:
    """Change the configuration as the caller; enabling checks the token and that the mount is KV version 2."""
    services = get_services(act.request)
    old = _config(services)
    address = (
        old.address if body.address is None else (views.check_address(body.address) if body.address.strip() else "")
    )
    new = views.VaultConfig(
        enabled=old.enabled if body.enabled is None else body.enabled,
        address=address,
        namespace=old.namespace if body.namespace is None else body.namespace.strip("/"),
        mount=body.mount or old.mount,
    )
    token = body.token if body.token is not None else _token(services)
    if new.enabled:
        if not new.address or not token:
            raise ApiError(
                422, "Give the Vault address and a token to enable it", "VALIDATION_ERROR", {"field": "address"}
            )
        try:
            views.VaultKv(new, token).check_mount()
        except ApiError as error:
            if error.status_code == 422:
                raise
            raise ApiError(
                422,
                f"Vault not usable with this configuration: {error.message}",
                "VALIDATION_ERROR",
                {"field": "token"},
            ) from None
    secret = _token_secret(services)
    if body.token is not None:
        labels = {**_OWNER, MANAGED_BY: MANAGED_BY_FACADE}
        if owned_secret(act.writer, secret, _OWNER) is not None:
            act.writer.patch_secret(secret, {"token": body.token})
        else:
            act.writer.create_secret(secret, {"token": body.token}, labels)
    name = services.settings.vault_configmap
    data = views.config_data(new)
    if services.store.get("ConfigMap", name) is not None:
        act.writer.patch("ConfigMap", name, {"data": data})
    else:
        labels = {"app.kubernetes.io/part-of": "daytwo", MANAGED_BY: MANAGED_BY_FACADE, **_OWNER}
        act.writer.create("ConfigMap", {"metadata": {"name": name, "labels": labels}, "data": data})
    changed = sorted(k for k in ("enabled", "address", "namespace", "mount") if getattr(old, k) != getattr(new, k))
    if body.token is not None:
        changed.append("token")  # that it changed, never what to
    act.audit("vault.config.update", name, changed=changed)
    return {**_answer(services, new), "token_configured": bool(token)}


@router.get("/api/vault/secret/{path:path}", response_model=VaultSecret, summary="Read Vault secret")
def read_secret(path: str, act: Write = writes(SECRETS)) -> dict[str, Any]:
    """The secret at ``path`` (404 when absent)."""
    path = views.check_path(path)
    data = _store(get_services(act.request), act.user).read(path)
    act.audit("vault.secret.read", path)
    return {"path": path, "data": data}


@router.post("/api/vault/secret/{path:path}", response_model=VaultMessage, summary="Write Vault secret")
def write_secret(path: str, body: dict[str, str], act: Write = writes(SECRETS)) -> dict[str, Any]:
    """Create the secret at ``path`` or replace its data with the body's key/value pairs."""
    path = views.check_path(path)
    data = views.check_data(body)
    store = _store(get_services(act.request), act.user)
    store.write(path, data)
    act.audit("vault.secret.write", path)
    return {"message": "Secret written successfully", "path": path}


@router.delete("/api/vault/secret/{path:path}", response_model=VaultMessage, summary="Delete Vault secret")
def delete_secret(path: str, act: Write = writes(SECRETS)) -> dict[str, Any]:
    """Delete the secret at ``path`` (404 when absent)."""
    path = views.check_path(path)
    _store(get_services(act.request), act.user).delete(path)
    act.audit("vault.secret.delete", path)
    return {"message": "Secret deleted successfully", "path": path}


@router.get("/api/vault/secrets/{path:path}", response_model=VaultList, summary="List Vault secrets")
def list_secrets(path: str, act: Write = writes(SECRETS)) -> dict[str, Any]:
    """The names below ``path`` (the root when empty), never values."""
    path = views.check_path(path, allow_root=True)
    keys = _store(get_services(act.request), act.user).list(path)
    return {"path": path, "keys": keys}
