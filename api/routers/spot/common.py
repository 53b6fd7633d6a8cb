"""What the spot routes share: settings, the OpenStack credential they serve, its estate, the envelope.

The spot manager knows one OpenStack cloud; daytwo may hold several CloudCredentials. The one served is
``DAYTWO_API_SPOT_CREDENTIAL`` when set, else the first (by name) OpenStack CloudCredential whose
inventory includes kind ``compute``. Aggregate naming rules are the operator's setting
(``DAYTWO_AGGREGATE_NAMING``, same model and default), so the chart passes the same value to both.
"""

from __future__ import annotations

from typing import Annotated, Any

from daytwo.api.cached import memo
from daytwo.api.errors import ApiError
from daytwo.api.store import ObjectStore
from daytwo.api.views.spot.estate import Estate, estate_of, inventory_records
from daytwo.operator.shared.aggregates import DEFAULT_AGGREGATE_NAMING, AggregateNamingRule
from fastapi import Depends, Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SpotSettings", "SpotSettingsDep", "credential_name", "estate", "ok", "spot_settings"]


class SpotSettings(BaseSettings):
    """The spot routes' settings (env ``DAYTWO_AGGREGATE_NAMING``, ``DAYTWO_API_SPOT_*``)."""

    model_config = SettingsConfigDict(env_prefix="DAYTWO_", extra="ignore")

    aggregate_naming: list[AggregateNamingRule] = Field(
        default_factory=lambda: list(DEFAULT_AGGREGATE_NAMING),
        description="GPU aggregate naming rules, first match wins (the operator's setting, same env var).",
    )
    api_spot_credential: str | None = Field(None, description="The OpenStack CloudCredential the spot API serves.")
    api_spot_preview_wait_seconds: float = Field(
        10.0, ge=0, le=60, description="How long preview-migration waits for the plan before answering 202."
    )

    def naming_rules(self) -> list[tuple[str, str]]:
        """(pattern, pool) pairs, the shape the GPU views take."""
        return [(rule.pattern, rule.pool) for rule in self.aggregate_naming]


_SETTINGS: list[SpotSettings] = []


def spot_settings(request: Request) -> SpotSettings:
    """The settings: ``app.state.spot_settings`` when set (tests), else the environment's, read once."""
    configured = getattr(request.app.state, "spot_settings", None)
    if isinstance(configured, SpotSettings):
        return configured
    if not _SETTINGS:
        _SETTINGS.append(SpotSettings())
    return _SETTINGS[0]


SpotSettingsDep = Annotated[SpotSettings, Depends(spot_settings)]


def _has_compute(obj: dict[str, Any]) -> bool:
    inventory = (obj.get("spec") or {}).get("inventory") or {}
    return bool(inventory.get("enabled")) and "compute" in (inventory.get("kinds") or [])


def credential_name(store: ObjectStore, settings: SpotSettings) -> str:
    """The OpenStack CloudCredential served; 503 with what to do when there is none."""
    if settings.api_spot_credential:
        obj = store.get("CloudCredential", settings.api_spot_credential)
        if obj is None or (obj.get("spec") or {}).get("provider") != "openstack":
            raise ApiError(
                503,
                f"DAYTWO_API_SPOT_CREDENTIAL names {settings.api_spot_credential!r}, which is not an OpenStack "
                f"CloudCredential in namespace {store.namespace}",
                "SERVICE_UNAVAILABLE",
            )
        return settings.api_spot_credential
    for obj in store.list("CloudCredential"):
        if (obj.get("spec") or {}).get("provider") == "openstack" and _has_compute(obj):
            return str(obj["metadata"]["name"])
    raise ApiError(
        503,
        f"No OpenStack CloudCredential in namespace {store.namespace} syncs inventory kind 'compute': set "
        "spec.inventory.enabled: true and add compute to spec.inventory.kinds (host aggregates, hypervisors, flavors)",
        "SERVICE_UNAVAILABLE",
    )


def estate(store: ObjectStore, settings: SpotSettings, *, need_compute: bool = True) -> Estate:
    """The served credential's estate from its inventory ConfigMaps (memoised on the ConfigMap version)."""
    name = credential_name(store, settings)

    def build() -> Estate:
        def lookup(configmap: str) -> dict[str, Any] | None:
            return store.get("ConfigMap", configmap)

        records, synced = inventory_records(store.get("ConfigMap", f"{name}-inventory"), lookup)
        return estate_of(records, synced)

    found = memo(store).get(("spot-estate", name), store.version("ConfigMap"), build)
    if need_compute and not found.has_compute:
        raise ApiError(
            503,
            f"The inventory of CloudCredential {name} has no host aggregates yet: the first sync with kind "
            "'compute' has not finished (see its InventorySynced condition)",
            "SERVICE_UNAVAILABLE",
        )
    return found


def ok(data: Any, message: str | None = None) -> dict[str, Any]:
    """The spot manager's success envelope."""
    body: dict[str, Any] = {"status": "success", "data": data}
    if message:
        body["message"] = message
    return body
