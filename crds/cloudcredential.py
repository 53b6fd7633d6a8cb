"""CloudCredential: credentials of an OpenStack, AWS, Azure or GCP account held in a Secret."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field
from pydantic.config import JsonDict

from .base import (
    MAX_STATUS_LIST,
    CamelModel,
    KindDefinition,
    KindInfo,
    PrinterColumn,
    SecretKeyRef,
    StatusBase,
    cel,
    explained,
    with_validations,
)
from .secrets import SecretBinding

__all__ = ["DEFAULT_SECRET_KEYS", "DEFINITION", "CloudCredentialSpec", "CloudCredentialStatus", "Provider"]


class Provider(StrEnum):
    """The clouds daytwo speaks to."""

    OPENSTACK = "openstack"
    AWS = "aws"
    AZURE = "azure"
    GCP = "gcp"


#: The Secret keys read per provider unless secretRef.keys renames them.
DEFAULT_SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "openstack": ("username", "password", "applicationCredentialId", "applicationCredentialSecret"),
    "aws": ("accessKeyId", "secretAccessKey", "sessionToken"),
    "azure": ("clientId", "clientSecret"),
    "gcp": ("serviceAccountJson",),
}


class CredentialSecretRef(CamelModel):
    """The Secret with the credential's values."""

    name: str = Field(description="Secret name in this namespace.", min_length=1, max_length=253)
    keys: dict[str, str] | None = Field(
        None,
        description="Rename the keys read from the Secret: logical name -> key in the Secret. Logical names: "
        "openstack username/password or applicationCredentialId/applicationCredentialSecret; aws accessKeyId/"
        "secretAccessKey (/sessionToken); azure clientId/clientSecret; gcp serviceAccountJson.",
    )


_INSECURE_HTTP = "allowInsecureHttp"


def _https_unless_opted_out(url_field: str, optional: bool) -> JsonDict:
    """CEL: ``url_field`` must be https:// unless allowInsecureHttp is true (credentials would go in clear)."""
    present = f"has(self.{url_field}) && " if optional else ""
    return cel(
        f"!({present}self.{url_field}.startsWith('http://')) || (has(self.{_INSECURE_HTTP}) && self.{_INSECURE_HTTP})",
        f"{url_field} is http://: the credential would be sent in clear text; use https://, or set "
        f"{_INSECURE_HTTP}: true (only for a loopback or lab endpoint)",
    )


_INSECURE_HTTP_DESCRIPTION = (
    "Allow an http:// endpoint (the credential is then sent unencrypted). Off by default; only for a loopback "
    "stand-in or a lab."
)


class OpenStackProvider(CamelModel):
    """Keystone endpoint and scope."""

    model_config = with_validations(_https_unless_opted_out("authUrl", optional=False))

    auth_url: str = Field(
        description="Keystone v3 URL, e.g. https://keystone.example:5000/v3.",
        pattern=r"^https?://",
        max_length=2048,
        json_schema_extra=explained("authUrl must be an http(s):// URL"),
    )
    region: str | None = Field(None, description="Region name.", max_length=255)
    interface: str = Field(
        "public",
        description="Endpoint interface: public, internal or admin.",
        pattern=r"^(public|internal|admin)$",
        json_schema_extra=explained("interface must be public, internal or admin"),
    )
    project_name: str | None = Field(None, description="Project to scope to (password auth).", max_length=255)
    project_domain_name: str = Field("Default", description="Domain of the project.", max_length=255)
    user_domain_name: str = Field("Default", description="Domain of the user.", max_length=255)
    ca_secret_ref: SecretKeyRef | None = Field(None, description="CA bundle (PEM) for Keystone and the endpoints.")
    allow_insecure_http: bool = Field(False, description=_INSECURE_HTTP_DESCRIPTION)


class AwsProvider(CamelModel):
    """AWS account access."""

    model_config = with_validations(_https_unless_opted_out("endpointUrl", optional=True))

    region: str = Field(description="Region, e.g. eu-west-1.", pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
    assume_role_arn: str | None = Field(
        None, description="Role to assume after authenticating.", pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"
    )
    external_id: str | None = Field(None, description="ExternalId for AssumeRole.", max_length=1224)
    endpoint_url: str | None = Field(
        None, description="Endpoint override (e.g. a local stand-in).", pattern=r"^https?://", max_length=2048
    )
    ca_secret_ref: SecretKeyRef | None = Field(None, description="CA bundle (PEM) for the endpoint override.")
    allow_insecure_http: bool = Field(False, description=_INSECURE_HTTP_DESCRIPTION)


class AzureProvider(CamelModel):
    """Azure service principal scope."""

    tenant_id: str = Field(description="Entra tenant id.", min_length=1, max_length=64)
    subscription_id: str = Field(description="Subscription id.", min_length=1, max_length=64)
    authority_host: str | None = Field(
        None, description="Entra authority override.", pattern=r"^https://", max_length=2048
    )
    management_endpoint: str | None = Field(
        None, description="ARM endpoint override.", pattern=r"^https://", max_length=2048
    )
    ca_secret_ref: SecretKeyRef | None = Field(None, description="CA bundle (PEM) for the endpoint overrides.")


class GcpProvider(CamelModel):
    """GCP project."""

    project_id: str = Field(description="Project id.", pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    endpoint_override: str | None = Field(
        None, description="Compute API endpoint override.", pattern=r"^https://", max_length=2048
    )
    token_uri_override: str | None = Field(
        None, description="OAuth token endpoint override.", pattern=r"^https://", max_length=2048
    )
    ca_secret_ref: SecretKeyRef | None = Field(None, description="CA bundle (PEM) for the endpoint overrides.")


class InventoryKind(StrEnum):
    """Inventory categories."""

    VMS = "vms"
    STORAGE = "storage"
    NETWORKS = "networks"
    COMPUTE = "compute"  # OpenStack only: host aggregates, hypervisors and flavors (the spot manager's GPU views)


class InventorySync(CamelModel):
    """Periodic inventory of the account for the multicloud and platform9 views."""

    enabled: bool = Field(False, description="Sync inventory.")
    interval_seconds: int = Field(900, description="How often.", ge=60, le=86400)
    kinds: list[InventoryKind] = Field(
        default_factory=lambda: [InventoryKind.VMS, InventoryKind.STORAGE, InventoryKind.NETWORKS],
        description="What to inventory: vms, storage, networks; compute (OpenStack only) adds host aggregates, "
        "hypervisors and flavors.",
        max_length=4,
    )


class BillingSource(StrEnum):
    """Where billing numbers come from."""

    AUTO = "auto"
    COST_EXPLORER = "cost-explorer"
    ESTIMATE = "estimate"


class BillingSync(CamelModel):
    """Daily costs per service into the ``<name>-billing`` ConfigMap for the multicloud /billing views."""

    enabled: bool = Field(False, description="Compute billing.")
    interval_seconds: int = Field(
        21600,
        description="How often to refresh (an estimate is also refreshed after every inventory sync). "
        "AWS charges for each Cost Explorer request, so keep it hours.",
        ge=300,
        le=86400,
    )
    source: BillingSource = Field(
        BillingSource.AUTO,
        description="auto: AWS Cost Explorer for provider aws, an estimate from the inventory and the price "
        "table when it has no data and for the other providers; cost-explorer: aws only, never estimate; "
        "estimate: always the inventory and the price table.",
    )


SPEC_VALIDATIONS = [
    cel(
        f"has(self.{p.value}) == (self.provider == '{p.value}')",
        f"provider {p.value} needs the {p.value} block, and the {p.value} block needs provider {p.value}",
    )
    for p in Provider
]
SPEC_VALIDATIONS.append(cel("self.provider == oldSelf.provider", "provider is immutable; create a new CloudCredential"))
SPEC_VALIDATIONS.append(
    cel(
        "!has(self.billing) || self.billing.source != 'cost-explorer' || self.provider == 'aws'",
        "billing.source cost-explorer is for provider aws; use auto or estimate",
    )
)
SPEC_VALIDATIONS.append(
    cel(
        "!has(self.billing) || !self.billing.enabled || self.billing.source == 'cost-explorer' || "
        "(has(self.inventory) && self.inventory.enabled)",
        "billing estimates are computed from the inventory: set inventory.enabled, or billing.source "
        "cost-explorer (aws)",
    )
)
SPEC_VALIDATIONS.append(
    cel(
        "self.provider == 'openstack' || !has(self.inventory) || !has(self.inventory.kinds) "
        "|| !self.inventory.kinds.exists(k, k == 'compute')",
        "inventory kind compute (host aggregates, hypervisors, flavors) exists only for provider openstack",
    )
)


class CloudCredentialSpec(CamelModel):
    """Which cloud, where the Secret is, and what to do with it."""

    model_config = with_validations(*SPEC_VALIDATIONS)

    provider: Provider = Field(description="openstack, aws, azure or gcp.")
    secret_ref: CredentialSecretRef = Field(description="The Secret with the credential values.")
    openstack: OpenStackProvider | None = Field(None, description="For provider openstack.")
    aws: AwsProvider | None = Field(None, description="For provider aws.")
    azure: AzureProvider | None = Field(None, description="For provider azure.")
    gcp: GcpProvider | None = Field(None, description="For provider gcp.")
    validation_interval_seconds: int = Field(
        3600, description="Revalidate this often (and at once on rotation).", ge=60, le=604800
    )
    inventory: InventorySync = Field(default_factory=InventorySync, description="Inventory sync.")
    billing: BillingSync | None = Field(None, description="Billing (costs per day and service).")


class Identity(CamelModel):
    """Who the credential authenticates as."""

    account: str | None = Field(None, description="AWS account, Azure subscription, GCP project, OpenStack domain.")
    principal: str | None = Field(None, description="User, role ARN, client id or service account.")
    tenant: str | None = Field(None, description="Azure tenant or OpenStack project.")
    project: str | None = Field(None, description="Scoped project.")


class CredentialUser(CamelModel):
    """A daytwo object that references this credential."""

    kind: str = Field(description="Kind of the referencing object.")
    name: str = Field(description="Its name.")


class InventoryStatus(CamelModel):
    """Where the synced inventory is and how big it is."""

    last_sync_time: datetime | None = Field(
        None,
        description="Last successful sync that changed what status says (counts, conditions, identity...); a sync "
        "that found the same moves it only every DAYTWO_STATUS_HEARTBEAT_SECONDS (an operator setting, default 1 "
        "hour: a coarse heartbeat, so syncs in between write no status). The sync schedule does not depend on it.",
    )
    counts: dict[str, int] | None = Field(
        None, description="Items per kind (vms, storage, networks; compute = aggregates + hypervisors + flavors)."
    )
    config_map: str | None = Field(None, description="ConfigMap holding the normalised inventory.")


class BillingStatus(CamelModel):
    """Where the billing data is and where it came from."""

    last_sync_time: datetime | None = Field(None, description="Last successful billing refresh.")
    source: str | None = Field(None, description="cost-explorer or estimate.")
    price_table: str | None = Field(None, description="Price table id of an estimate.")
    config_map: str | None = Field(None, description="ConfigMap holding billing.json.")


class CloudCredentialStatus(StatusBase):
    """Observed state of a CloudCredential."""

    identity: Identity | None = Field(None, description="Who it authenticates as.")
    last_validated_time: datetime | None = Field(
        None,
        description="Last validation attempt that reached the cloud and changed what status says (identity, "
        "expiry, conditions, Secret version...); one that found the same moves it only every "
        "DAYTWO_STATUS_HEARTBEAT_SECONDS (an operator setting, default 1 hour: a coarse heartbeat, so validations in "
        "between write no status). The validation schedule does not depend on it.",
    )
    secret_resource_version: str | None = Field(None, description="resourceVersion of the Secret last validated.")
    expires_at: datetime | None = Field(None, description="When the credential expires, when the cloud says.")
    users: list[CredentialUser] | None = Field(
        None, description=f"daytwo objects referencing it (at most {MAX_STATUS_LIST}).", max_length=MAX_STATUS_LIST
    )
    inventory: InventoryStatus | None = Field(None, description="Inventory sync.")
    billing: BillingStatus | None = Field(None, description="Billing refresh.")
    secret_binding: SecretBinding | None = Field(
        None, description="The Secret version last sent and the endpoint it went to (see README, security)."
    )


DEFINITION = KindDefinition(
    info=KindInfo(
        kind="CloudCredential",
        plural="cloudcredentials",
        short_name="d2cc",
        printer_columns=[
            PrinterColumn(name="Provider", json_path=".spec.provider"),
            PrinterColumn(name="Identity", json_path=".status.identity.principal"),
            PrinterColumn(name="Validated", json_path='.status.conditions[?(@.type=="Validated")].status'),
            PrinterColumn(name="Ready", json_path='.status.conditions[?(@.type=="Ready")].status'),
            PrinterColumn(name="Reason", json_path='.status.conditions[?(@.type=="Ready")].reason', priority=1),
        ],
    ),
    description="Credentials of an OpenStack, AWS, Azure or GCP account held in a Secret: validation, identity, "
    "rotation, inventory sync.",
    spec=CloudCredentialSpec,
    status=CloudCredentialStatus,
)
