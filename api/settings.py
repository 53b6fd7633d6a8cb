"""Facade settings from the environment (``DAYTWO_API_*``)."""

from __future__ import annotations

import sys
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings", "settings_from_environment"]

#: Values people paste from tutorials; a JWT secret equal to one of them is refused at start-up.
WEAK_SECRETS = frozenset({"secret", "changeme", "change-me", "your-secret-key", "jwt-secret", "default", "password"})
MIN_SECRET_LENGTH = 32


class ApiSettings(BaseSettings):
    """What the facade process needs; env vars ``DAYTWO_API_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="DAYTWO_API_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$")
    namespace: str = Field(
        "daytwo",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="The namespace served: its daytwo objects are read and written, users and keys live there.",
    )
    jwt_secret: SecretStr = Field(
        SecretStr(""),
        description=f"HMAC key for JWTs and user records; at least {MIN_SECRET_LENGTH} characters, no default.",
    )
    token_lifetime_seconds: int = Field(28800, ge=60, le=7 * 86400, description="Lifetime of an issued JWT.")
    bootstrap_secret: str = Field(
        "daytwo-api-bootstrap-admin",
        description="Secret (in the served namespace) with `username` and `password` of the bootstrap superadmin.",
    )
    login_rate_per_minute: int = Field(10, ge=1, description="Login attempts per client IP per minute.")
    login_account_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="Failed logins of one account (from any IP) before each further attempt waits 2, 4, 8, ... s.",
    )
    login_account_max_backoff_seconds: int = Field(
        900,
        ge=1,
        le=86400,
        description="Cap of that per-account wait: a guesser can hold an account off for at most this long.",
    )
    user_rate_per_minute: int = Field(600, ge=1, description="Authenticated calls per user per minute.")
    allow_registration: bool = Field(
        False,
        description="Whether horcrux register / multicloud signup create accounts; they get role `pending` "
        "(no permissions) until an administrator grants one.",
    )
    api_keys_per_user: int = Field(10, ge=1, le=1000, description="API keys one user may hold at a time.")
    api_key_lifetime_days: int = Field(
        90, ge=1, le=3650, description="Lifetime of a new API key, and the most a key request may ask for."
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Proxies (comma-separated IPs, or *) whose X-Forwarded-For is trusted for the client IP "
        "(per-IP login limits behind an ingress); empty: the peer address counts.",
    )
    auth_proxy_addresses: str = Field(
        "",
        description="Trusted auth proxies (comma-separated IPs or CIDRs): only a request whose TCP peer is one of "
        "them may name its caller by the auth_proxy_* headers (never decided by X-Forwarded-For); empty = off.",
    )
    auth_proxy_user_headers: str = Field(
        "X-Forwarded-User,X-Auth-Request-User", description="Headers naming the proxy's user (first set wins)."
    )
    auth_proxy_email_headers: str = Field(
        "X-Forwarded-Email,X-Auth-Request-Email",
        description="Headers with the user's e-mail, the caller's name when no user header is set.",
    )
    auth_proxy_groups_headers: str = Field(
        "X-Forwarded-Groups,X-Auth-Request-Groups", description="Headers with the user's groups (comma-separated)."
    )
    auth_proxy_group_roles: dict[str, str] = Field(
        default_factory=dict,
        description='Proxy group -> daytwo role (JSON, e.g. {"ops": "operator", "sre": "admin"}); the strongest '
        "role of the user's groups applies; a user none of whose groups is listed gets 403.",
    )
    anonymous_role_platform9: Literal["none", "viewer", "operator"] = Field(
        "none", description="Role of callers without credentials on /platform9 (closed networks only; logged loudly)."
    )
    anonymous_role_horcrux: Literal["none", "viewer", "operator"] = Field(
        "none", description="Role of callers without credentials on /horcrux (closed networks only; logged loudly)."
    )
    anonymous_role_pmi: Literal["none", "viewer", "operator"] = Field(
        "none", description="Role of callers without credentials on /pmi (closed networks only; logged loudly)."
    )
    anonymous_role_spot: Literal["none", "viewer", "operator"] = Field(
        "none", description="Role of callers without credentials on /spot (closed networks only; logged loudly)."
    )
    anonymous_role_multicloud: Literal["none", "viewer", "operator"] = Field(
        "none", description="Role of callers without credentials on /multicloud (closed networks only; logged loudly)."
    )
    watch_timeout_seconds: int = Field(300, ge=5, description="Server-side timeout of one watch request.")
    startup_timeout_seconds: int = Field(
        60,
        ge=1,
        le=3600,
        description="How long start-up waits for each first list (the auth Secrets, the cache) before what needs "
        "it (bootstrap admin, webhook delivery) starts anyway; the facade serves from the start and `/ready` "
        "answers 503 naming what it still waits for.",
    )
    pmi_waits_per_user: int = Field(
        3,
        ge=0,
        le=100,
        description="pmi connection tests one user may have waiting for the operator at once (`wait=`); past it a "
        "node test answers 202 at once (poll the node) and test-connection answers 429.",
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body accepted (bytes); larger ones answer 413 before they are read.",
    )
    audit_quota_per_minute: int = Field(
        60,
        ge=1,
        description="Audit entries one non-admin caller (anonymous: per client IP) adds per minute and ring; "
        "beyond it they are counted in one `audit.suppressed` entry.",
    )
    webhook_allowed_hosts: str = Field(
        "",
        description="Comma-separated host names, IPs or CIDRs webhooks may target over plain http:// and "
        "even when loopback/link-local; everything else must be https:// to a non-loopback host.",
    )
    # Duplicate scan: the Field(default, pattern, description) form of the named-object settings; deliberate
    # because each names its own object.
    observability_configmap: str = Field(
        "daytwo-observability",
        pattern=r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$",
        description="ConfigMap (served namespace) of the OpenTelemetry export settings; its header values live in "
        "the Secret `<name>-headers` (README, OpenTelemetry).",
    )
    observability_reload_seconds: float = Field(
        30.0, ge=1, description="Re-read of the OpenTelemetry header Secret (ConfigMap changes apply at once)."
    )
    vault_configmap: str = Field(
        "daytwo-vault",
        pattern=r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$",
        description="ConfigMap (served namespace) of the HashiCorp Vault settings of horcrux /api/vault; its token "
        "lives in the Secret `<name>-token` (README, Vault). Absent or disabled: Kubernetes Secrets.",
    )
    vault_mount: str = Field(
        "secret",
        pattern=r"^[A-Za-z0-9][-_A-Za-z0-9]{0,62}$",
        description="The Vault KV version 2 mount used when the vault ConfigMap names none.",
    )
    tls_secret: str = Field(
        "",
        pattern=r"^([a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$",
        description="kubernetes.io/tls Secret (served namespace) with the facade's own serving certificate: when set "
        "the facade serves HTTPS and reloads the certificate when the Secret changes; empty = plain HTTP.",
    )
    tls_reload_seconds: float = Field(
        10.0, ge=1, description="How often the serving certificate's Secret is re-read (new connections get it)."
    )
    restore_enabled: bool = Field(
        True, description="pf9 RESTORE_ENABLED as /restore/config reports it; the chart passes the operator's value."
    )
    restore_dry_run: bool = Field(False, description="pf9 RESTORE_DRY_RUN (the operator's DAYTWO_RESTORE_DRY_RUN).")
    restore_cleanup_volumes: bool = Field(
        False, description="pf9 RESTORE_CLEANUP_VOLUMES (the operator's DAYTWO_RESTORE_CLEANUP_VOLUMES)."
    )

    @field_validator("auth_proxy_addresses")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        """Refuse an entry that is not an IP or CIDR (a typo would silently trust nobody, or the wrong peer)."""
        from .auth.proxy import parse_networks

        parse_networks(value)
        return value

    @field_validator("auth_proxy_group_roles")
    @classmethod
    def _proxy_roles(cls, value: dict[str, str]) -> dict[str, str]:
        """Each group maps to a daytwo role other than ``pending`` (leave a group out for no access)."""
        from .auth.proxy import PROXY_ROLES

        for group, role in value.items():
            if role not in PROXY_ROLES:
                raise ValueError(f"group {group!r}: role must be one of {', '.join(PROXY_ROLES)}, not {role!r}")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr) -> SecretStr:
        """Refuse an empty, short or well-known JWT secret: tokens signed with it could be forged."""
        secret = value.get_secret_value()
        if not secret:
            raise ValueError("DAYTWO_API_JWT_SECRET is required (e.g. `openssl rand -hex 32`)")
        if len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS:
            raise ValueError(
                f"DAYTWO_API_JWT_SECRET must be at least {MIN_SECRET_LENGTH} random characters "
                "(e.g. `openssl rand -hex 32`), not a default"
            )
        return value


def settings_from_environment(program: str) -> ApiSettings | None:
    """The settings from the environment; None after one stderr line per bad value
    (``<program>: DAYTWO_API_<NAME>: <problem>``), for the command-line entry points to exit 2."""
    try:
        return ApiSettings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            print(f"{program}: DAYTWO_API_{where.upper()}: {problem['msg']}", file=sys.stderr)
        return None
