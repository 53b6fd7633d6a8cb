"""pf9 /settings/branding (a ConfigMap, written as the caller) and /user-preferences (the user's Secret).

Branding: ConfigMap ``daytwo-pf9-branding`` (labelled ``app.kubernetes.io/part-of=daytwo`` so the store
caches it), key ``branding.json``; created on first PUT. Preferences: key ``preferences.json`` of the
caller's own facade user Secret, written with the facade's identity like the rest of the user record
(a viewer must not get ConfigMap write access just to save a tab order).
"""

from __future__ import annotations

import json
import re
from typing import Any

from daytwo.api.deps import Principal, StoreDep, WriterDep, get_services, require
from daytwo.api.errors import ApiError
from daytwo.api.views.platform9 import models
from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel, Field, field_validator

from ._shared import ERRORS, audit, not_implemented
from .monitoring import TimedRoute

__all__ = ["BRANDING_CONFIGMAP", "DEFAULT_BRANDING", "router"]

router = APIRouter(tags=["settings"], route_class=TimedRoute, responses=ERRORS)

BRANDING_CONFIGMAP = "daytwo-pf9-branding"
MAX_PREFERENCES_BYTES = 16 * 1024
#: Deepest nesting of objects/arrays in saved preferences (the top-level object is depth 1).
MAX_PREFERENCES_DEPTH = 8
#: What a logo URL may be: an https:// URL, or an inline PNG/JPEG/SVG image (never javascript: & co).
LOGO_URL = re.compile(r"^(https://[^\s]+|data:image/(png|jpeg|svg\+xml)(;base64)?,[^\s]*)$", re.IGNORECASE)
DEFAULT_BRANDING: dict[str, Any] = {
    "company_name": "daytwo",
    "company_subtitle": "Infrastructure Management",
    "company_logo_url": None,
    "primary_color": "#667eea",
    "secondary_color": "#764ba2",
    "login_hero_title": "Welcome to PF9 Management",
    "login_hero_description": "Day-2 operations of your OpenStack cloud, served from Kubernetes.",
    "login_hero_features": ["Automated snapshot management", "Drift detection", "Full audit trail & compliance"],
}
COLOR = r"^#[0-9A-Fa-f]{6}$"


class Branding(BaseModel):
    """Branding settings (GET answer; PUT body fields are all optional)."""

    company_name: str | None = Field(None, max_length=200)
    company_subtitle: str | None = Field(None, max_length=200)
    company_logo_url: str | None = Field(None, max_length=2048)
    primary_color: str | None = Field(None, pattern=COLOR)
    secondary_color: str | None = Field(None, pattern=COLOR)
    login_hero_title: str | None = Field(None, max_length=200)
    login_hero_description: str | None = Field(None, max_length=2000)
    login_hero_features: list[str] | None = Field(None, max_length=20)

    @field_validator("company_logo_url")
    @classmethod
    def _safe_logo(cls, value: str | None) -> str | None:
        """Only ``https://`` URLs and ``data:image/(png|jpeg|svg+xml)`` (a login page renders it)."""
        if value is not None and not LOGO_URL.match(value):
            raise ValueError("company_logo_url must be an https:// URL or a data:image/(png|jpeg|svg+xml) URI")
        return value


def _branding(store: Any) -> dict[str, Any]:
    cm = store.get("ConfigMap", BRANDING_CONFIGMAP)
    stored: dict[str, Any] = {}
    if cm is not None:
        try:
            loaded = json.loads((cm.get("data") or {}).get("branding.json") or "{}")
            stored = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            stored = {}
    return {key: stored.get(key, default) for key, default in DEFAULT_BRANDING.items()}


@router.get("/settings/branding", response_model=Branding, summary="Branding (public)")
def get_branding(store: StoreDep) -> dict[str, Any]:
    """The stored branding over the defaults (public: the login page loads it)."""
    return _branding(store)


@router.put("/settings/branding", response_model=Branding, summary="Update branding")
def put_branding(
    request: Request, body: Branding, store: StoreDep, writer: WriterDep, user: Principal = require("settings:admin")
) -> dict[str, Any]:
    """Merge the given fields into the branding ConfigMap (created on first use), as the caller."""
    merged = {**_branding(store), **body.model_dump(exclude_unset=True)}
    data = {"branding.json": json.dumps(merged, sort_keys=True)}
    if store.get("ConfigMap", BRANDING_CONFIGMAP) is None:
        labels = {"app.kubernetes.io/part-of": "daytwo", "app.kubernetes.io/managed-by": "daytwo-api"}
        try:
            writer.create("ConfigMap", {"metadata": {"name": BRANDING_CONFIGMAP, "labels": labels}, "data": data})
        except ApiError as error:
            if error.status_code != 409:
                raise
            writer.patch("ConfigMap", BRANDING_CONFIGMAP, {"data": data})
    else:
        writer.patch("ConfigMap", BRANDING_CONFIGMAP, {"data": data})
    audit(request, user, "settings.branding", f"ConfigMap/{BRANDING_CONFIGMAP}")
    return merged


@router.post("/settings/branding/logo", summary="Upload a logo (not supported)")
def upload_logo(logo: UploadFile = File(...), user: Principal = require("settings:admin")) -> None:  # noqa: B008
    """Files are not stored by the facade; set company_logo_url to an image your web server serves."""
    raise not_implemented(
        "Uploading a logo", "the facade stores no files; PUT /settings/branding with company_logo_url"
    )


def _depth(value: Any, limit: int = MAX_PREFERENCES_DEPTH + 1) -> int:
    """Nesting depth of a JSON value (a scalar 0, ``{}`` 1), counted no further than ``limit``."""
    depth, level = 0, [value]
    while depth < limit:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            break
        depth += 1
        level = [child for item in containers for child in (item.values() if isinstance(item, dict) else item)]
    return depth


def _accounts(request: Request) -> Any:
    auth = get_services(request).auth
    if auth is None:
        raise ApiError(503, "Accounts are not available", "SERVICE_UNAVAILABLE")
    return auth.accounts


@router.get("/user-preferences", response_model=models.Preferences, summary="The caller's preferences")
def get_preferences(request: Request, user: Principal = require("preferences:write")) -> dict[str, Any]:
    """The caller's stored preferences ({} when none)."""
    return _accounts(request).preferences(user.username) or {}


@router.put("/user-preferences", summary="Save the caller's preferences")
def put_preferences(
    request: Request, body: models.Preferences, user: Principal = require("preferences:write")
) -> dict[str, Any]:
    """Replace the caller's preferences (any JSON object up to 16 KiB, nested at most 8 deep)."""
    document = body.model_dump()
    if _depth(document) > MAX_PREFERENCES_DEPTH:
        raise ApiError(422, f"preferences may nest objects and arrays at most {MAX_PREFERENCES_DEPTH} levels deep")
    if len(json.dumps(document).encode()) > MAX_PREFERENCES_BYTES:
        raise ApiError(422, f"preferences are limited to {MAX_PREFERENCES_BYTES} bytes of JSON")
    accounts = _accounts(request)
    if accounts.preferences(user.username) is None:
        raise ApiError(404, "Your user record was not found (API-key or bootstrap users must log in once)", "NOT_FOUND")
    accounts.put_preferences(user.username, body.model_dump())
    return {"status": "saved", "username": user.username}
