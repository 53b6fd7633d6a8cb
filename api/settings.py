"""Facade settings from the environment (``DAYTWO_API_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings"]


class ApiSettings(BaseSettings):
    """What the facade process needs; env vars ``DAYTWO_API_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="DAYTWO_API_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$")
