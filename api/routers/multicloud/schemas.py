"""Request and response models of the multicloud routes (the OpenAPI document schemathesis checks against)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from daytwo.crds.cloudcredential import AwsProvider, GcpProvider
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool

__all__ = [
    "BillingCosts",
    "BillingSummary",
    "CredentialCreate",
    "CredentialOut",
    "CredentialUpdate",
    "DashboardStats",
    "InventoryItem",
    "SyncTriggered",
    "errors",
]

Source = Literal["cost-explorer", "estimate", "mixed", "none"]


class Detail(BaseModel):
    """The multicloud error envelope."""

    detail: Any = Field(description="What went wrong (FastAPI's list of errors for a 422).")
    request_id: str | None = Field(None, description="The request id (also the X-Request-ID header).")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (and 429: the per-user rate limit), in the {"detail"} envelope."""
    return {status: {"model": Detail} for status in (*statuses, 429)}


def _pattern(model: type[BaseModel], field: str) -> str:
    """The CRD model's pattern for a field (the API refuses what the apiserver would)."""
    for item in model.model_fields[field].metadata:
        pattern = getattr(item, "pattern", None)
        if pattern:
            return str(pattern)
    raise LookupError(f"{model.__name__}.{field} has no pattern")


#: A display name: starts with a letter or digit (so it yields an id), then letters, digits, spaces and
#: ``_ . , : ( ) @ + / -``; anchored at both ends (``$`` is the end of the text: no trailing newline).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.,:()@+/-]*$"
HTTP_URL = "^https?://"
HTTPS_URL = "^https://"
#: The explicit opt-out for an http:// endpoint (CloudCredential ``allowInsecureHttp``).
INSECURE = (
    "Allow an http:// endpoint: the credential is then sent unencrypted (only for a loopback stand-in or a lab). "
    "Default false: an http:// URL is refused (422)."
)


def _secret(text: str, optional: bool = False) -> Any:
    return Field(None if optional else ..., min_length=1, max_length=16384, description=f"{text} (write-only).")


class _Common(BaseModel):
    """Fields every provider's body has."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        None, min_length=1, max_length=200, pattern=NAME_PATTERN, description="Display name; the id is made from it."
    )
    inventory: StrictBool | None = Field(None, description="Sync inventory (default on).")
    billing: StrictBool | None = Field(None, description="Compute billing (default on; needs inventory).")

    def plain(self) -> dict[str, Any]:
        """The values as plain strings (secret ones revealed) for the view that builds the Secret."""
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in self}


class AwsUpdate(_Common):
    """AWS fields; on update every one is optional."""

    provider: Literal["aws"]
    region: str | None = Field(None, pattern=_pattern(AwsProvider, "region"), description="Region, e.g. us-east-1.")
    access_key: SecretStr | None = _secret("Access key id", optional=True)
    secret_key: SecretStr | None = _secret("Secret access key", optional=True)
    session_token: SecretStr | None = _secret("Session token", optional=True)
    endpoint_url: str | None = Field(
        None, max_length=2048, pattern=HTTP_URL, description="Endpoint override (https://; http:// needs the opt-out)."
    )
    allow_insecure_http: StrictBool | None = Field(None, description=INSECURE)
    assume_role_arn: str | None = Field(
        None, pattern=_pattern(AwsProvider, "assume_role_arn"), description="Role to assume."
    )


# Duplicate scan: the provider models below have the same form (optional fields, two https overrides) but each
# names its cloud's fields; deliberate because the OpenAPI documents one model per provider.
class AzureUpdate(_Common):
    """Azure fields; on update every one is optional. ``region`` is only a label."""

    provider: Literal["azure"]
    region: str | None = Field(None, min_length=1, max_length=64, description="A label, e.g. eastus.")
    tenant_id: str | None = Field(None, min_length=1, max_length=64, description="Entra tenant id.")
    subscription_id: str | None = Field(None, min_length=1, max_length=64, description="Subscription id.")
    client_id: SecretStr | None = _secret("Client id", optional=True)
    client_secret: SecretStr | None = _secret("Client secret", optional=True)
    authority_host: str | None = Field(None, max_length=2048, pattern=HTTPS_URL, description="Entra override.")
    management_endpoint: str | None = Field(None, max_length=2048, pattern=HTTPS_URL, description="ARM override.")


class GcpUpdate(_Common):
    """GCP fields; on update every one is optional. ``region`` is only a label."""

    provider: Literal["gcp"]
    region: str | None = Field(None, min_length=1, max_length=64, description="A label, e.g. us-central1.")
    project_id: str | None = Field(None, pattern=_pattern(GcpProvider, "project_id"), description="Project id.")
    service_account_json: SecretStr | None = _secret("Service account key JSON", optional=True)
    endpoint_override: str | None = Field(None, max_length=2048, pattern=HTTPS_URL, description="Compute override.")
    token_uri_override: str | None = Field(None, max_length=2048, pattern=HTTPS_URL, description="Token override.")


class OpenStackUpdate(_Common):
    """OpenStack fields (password authentication); on update every one is optional."""

    provider: Literal["openstack"]
    region: str | None = Field(None, min_length=1, max_length=255, description="Region name.")
    auth_url: str | None = Field(
        None, max_length=2048, pattern=HTTP_URL, description="Keystone v3 URL (https://; http:// needs the opt-out)."
    )
    allow_insecure_http: StrictBool | None = Field(None, description=INSECURE)
    project_name: str | None = Field(None, min_length=1, max_length=255, description="Project to scope to.")
    username: SecretStr | None = _secret("User name", optional=True)
    password: SecretStr | None = _secret("Password", optional=True)


class AwsCreate(AwsUpdate):
    """The reference's AWS body (plus optional endpoint_url, assume_role_arn, session_token)."""

    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN, description="Display name.")
    region: str = Field(pattern=_pattern(AwsProvider, "region"), description="Region, e.g. us-east-1.")
    access_key: SecretStr = _secret("Access key id")
    secret_key: SecretStr = _secret("Secret access key")


class AzureCreate(AzureUpdate):
    """The reference's Azure body (plus optional endpoint overrides)."""

    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN, description="Display name.")
    tenant_id: str = Field(min_length=1, max_length=64, description="Entra tenant id.")
    subscription_id: str = Field(min_length=1, max_length=64, description="Subscription id.")
    client_id: SecretStr = _secret("Client id")
    client_secret: SecretStr = _secret("Client secret")


class GcpCreate(GcpUpdate):
    """The reference's GCP body (plus optional endpoint overrides)."""

    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN, description="Display name.")
    project_id: str = Field(pattern=_pattern(GcpProvider, "project_id"), description="Project id.")
    service_account_json: SecretStr = _secret("Service account key JSON")


class OpenStackCreate(OpenStackUpdate):
    """An OpenStack body (not in the reference; password authentication)."""

    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN, description="Display name.")
    auth_url: str = Field(
        max_length=2048, pattern=HTTP_URL, description="Keystone v3 URL (https://; http:// needs the opt-out)."
    )
    username: SecretStr = _secret("User name")
    password: SecretStr = _secret("Password")


CredentialCreate = Annotated[AwsCreate | AzureCreate | GcpCreate | OpenStackCreate, Field(discriminator="provider")]
CredentialUpdate = Annotated[AwsUpdate | AzureUpdate | GcpUpdate | OpenStackUpdate, Field(discriminator="provider")]


class CredentialOut(BaseModel):
    """A credential as listed: never a secret field."""

    id: str = Field(description="The CloudCredential's name.")
    provider: str
    name: str
    region: str | None
    is_active: bool = Field(description="The operator validated it (condition Validated).")
    created_at: str | None
    status: str = Field(description="Ready reason: Ready, AuthFailed, SecretNotFound, ... or Pending.")
    message: str | None
    principal: str | None
    last_validated: str | None
    inventory_counts: dict[str, int] | None
    billing_source: str | None


class InventoryItem(BaseModel):
    """One VM, storage resource or network."""

    id: int = Field(description="Stable id derived from the credential and resource_id.")
    resource_id: str
    resource_name: str
    resource_type: str = Field(description="vm, storage or network (openstack compute: aggregate, ...).")
    provider: str
    region: str
    status: str
    metadata: dict[str, Any]
    created_at: str | None
    last_synced: str | None
    credential: str = Field(description="The CloudCredential it was synced with.")


class SourceEntry(BaseModel):
    """Where one credential's billing numbers come from."""

    credential: str | None
    provider: str | None
    source: str | None = Field(description="cost-explorer (AWS Cost Explorer) or estimate (inventory x prices).")
    price_table: str | None = Field(description="Price table id of an estimate.")
    generated_at: str | None
    note: str | None


class ServiceCost(BaseModel):
    service: str
    cost: float


class ProviderCost(BaseModel):
    provider: str
    cost: float
    services: list[ServiceCost]


class DayCost(BaseModel):
    date: str
    cost: float


class Period(BaseModel):
    start: str
    end: str


class BillingCosts(BaseModel):
    """GET /billing/costs."""

    total_cost: float
    currency: str
    period: Period
    breakdown: list[ProviderCost | ServiceCost | DayCost]
    source: Source = Field(description="cost-explorer, estimate, mixed (some of each) or none (nothing yet).")
    sources: list[SourceEntry]


class CurrentMonth(BaseModel):
    period: str
    total_cost: float
    days_elapsed: int
    projected_cost: float


class LastMonth(BaseModel):
    period: str
    total_cost: float


class Change(BaseModel):
    absolute: float
    percentage: float


class BillingSummary(BaseModel):
    """GET /billing/summary."""

    current_month: CurrentMonth
    last_month: LastMonth
    change: Change
    source: Source
    sources: list[SourceEntry]


class ProviderCount(BaseModel):
    provider: str
    count: int
    vms: int
    storage: int


class ProviderCostTotal(BaseModel):
    provider: str
    cost: float


class RegionCount(BaseModel):
    region: str
    count: int


class ProviderHealth(BaseModel):
    provider: str
    status: Literal["healthy", "degraded", "down"]
    response_time_ms: int | None
    last_check: str | None
    error_message: str | None


class Activity(BaseModel):
    resource_name: str
    provider: str
    type: str
    status: str
    region: str
    last_synced: str | None


class DashboardStats(BaseModel):
    """GET /dashboard/stats."""

    total_resources: int
    active_vms: int
    total_storage: int
    total_networks: int
    estimated_monthly_cost: float
    cost_source: Source
    provider_breakdown: list[ProviderCount]
    cost_by_provider: list[ProviderCostTotal]
    cost_by_service: list[ServiceCost]
    region_distribution: list[RegionCount]
    provider_health: list[ProviderHealth]
    recent_activity: list[Activity]
    last_updated: str


class SyncTriggered(BaseModel):
    """POST /dashboard/sync/trigger (202): the token each credential echoes when it has synced."""

    message: str
    task_id: str = Field(description="The reconcile token; status.lastHandledReconcileAt equals it when done.")
    credentials: list[str]
