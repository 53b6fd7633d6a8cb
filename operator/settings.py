"""Operator settings from the environment (``DAYTWO_*``), one object per process."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .sharding import shard_from_hostname
from .shared.aggregates import DEFAULT_AGGREGATE_NAMING, AggregateNamingRule

__all__ = ["OperatorSettings"]

#: The namespace of the Pod the operator runs in, as Kubernetes mounts it with the service account token.
_POD_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class OperatorSettings(BaseSettings):
    """What the operator process needs to know; every field has an env var ``DAYTWO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="DAYTWO_", extra="ignore")

    namespaces: list[str] = Field(default_factory=list, description="Namespaces to watch; empty = cluster-wide.")
    liveness_endpoint: str = Field("http://127.0.0.1:8080/healthz", description="Kopf liveness probe URL.")
    metrics_port: int = Field(
        8081,
        ge=0,
        le=65535,
        description="Port of the Prometheus /metrics endpoint (Kopf's liveness endpoint has 8080); 0 = not served.",
    )
    metrics_address: str = Field(
        "127.0.0.1", description="Address /metrics listens on (the chart sets 0.0.0.0 so Prometheus can scrape it)."
    )
    log_format: str = Field("json", pattern="^(json|full|plain)$", description="json for machines, full for people.")
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    # Duplicate scan: the Field(default, ge, le, description) form of every bounded setting; deliberate because
    # each setting has its own bounds and text.
    workers: int = Field(
        6,
        ge=1,
        le=64,
        description="Threads of the one bounded pool every pass (and its backend calls) runs on; Kopf's own pool "
        "for synchronous handlers has the same size.",
    )
    endpoint_workers: int = Field(
        3,
        ge=1,
        le=64,
        description="Passes running at once against one cloud endpoint (a Keystone URL, a Proxmox host:port, a "
        "public cloud's API); at most workers - 1, so a slow or hung endpoint always leaves threads for the others.",
    )
    resync_seconds: float = Field(60.0, ge=1, description="Level-triggered re-reconcile of every object.")
    retry_delay_seconds: float = Field(30.0, ge=1, description="Delay before retrying a transient failure.")
    reference_backoff_seconds: float = Field(
        2.0,
        ge=0.1,
        description="First retry of an object whose reference (credential, Secret) is broken; doubles per failed "
        "pass up to resync_seconds. A change of the referenced object or Secret retries at once.",
    )
    drift_listing_ttl_seconds: float = Field(
        5.0,
        ge=0,
        le=30,
        description="DriftRules on one (credential, resource type) share one listing of the cloud: those due "
        "while it is in flight wait for it, those due within this many seconds after reuse it (at most 30, the "
        "shortest rule interval; 0: only in-flight listings are shared).",
    )
    status_heartbeat_seconds: float = Field(
        3600.0,
        ge=1,
        description="Coarse pass-time status fields (DriftRule lastEvaluationTime, ProxmoxNode lastInventoryTime, "
        "CloudCredential lastValidatedTime, inventory.lastSyncTime and billing.lastSyncTime, the inventory "
        "ConfigMap's syncedAt) are rewritten at most this often while nothing else changes: no status or "
        "ConfigMap write per pass at rest.",
    )
    observability_configmap: str = Field(
        "",
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$",
        description="`namespace/name` of the OpenTelemetry ConfigMap the facade writes (README, OpenTelemetry); "
        "re-read every observability_reload_seconds. Empty = no OTLP export.",
    )
    observability_reload_seconds: float = Field(
        30.0, ge=1, description="How often the OpenTelemetry ConfigMap is re-read (changes apply without restart)."
    )
    cert_expiry_warning_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="A Proxmox node certificate expiring within this many days sets Expiring=True on its "
        "ProxmoxNode (0 = never).",
    )
    peering_name: str | None = Field(None, description="Kopf peering object for standby replicas; None = standalone.")
    peering_priority: int | None = Field(
        None,
        ge=0,
        description="Kopf peering priority; the highest live replica works, the others stand by. Unset with peering "
        "on = a random one per process, because replicas of equal priority all freeze (Kopf's rule).",
    )
    shards: int = Field(
        1,
        ge=1,
        le=64,
        description="Operator replicas that split the objects between them (README, Sharding); 1 = one replica "
        "reconciles everything. Above 1 each replica needs its own shard id and peering must be off.",
    )
    shard_id: int | None = Field(
        None,
        ge=0,
        description="This replica's shard, 0 to shards - 1; unset = the ordinal its Pod name ends with "
        "(POD_NAME or the host name, as a StatefulSet names its Pods).",
    )
    shard_namespace: str | None = Field(
        None,
        description="Namespace of the shards' coordination.k8s.io Leases; unset = the Pod's own namespace "
        "(its service account's), else 'default'.",
    )
    shard_lease_prefix: str = Field(
        "daytwo-shard",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        max_length=50,
        description="Shard i renews the Lease <prefix>-<i>; shards with one prefix share the objects.",
    )
    shard_lease_seconds: float = Field(
        15.0,
        ge=2,
        description="A shard that could not renew its Lease for this long stops starting passes; it renews "
        "every third of it.",
    )
    shard_grace_seconds: float = Field(
        10.0,
        ge=0,
        description="The others take a silent shard's objects over this long after it stopped itself (lease + "
        "grace after its last renewal they saw); a joining shard waits lease + grace before it owns anything.",
    )
    snapshot_concurrency: int = Field(
        8,
        ge=1,
        le=64,
        description="Snapshot calls in flight at once per OpenStack credential, across every SnapshotPolicy using "
        "it (1 = sequential); for Proxmox, guests listed, snapshotted or pruned at once per run (the client's "
        "per-endpoint limit bounds the calls besides).",
    )
    backend_concurrency: int = Field(
        4,
        ge=1,
        le=64,
        description="HTTP calls in flight at once per endpoint of AWS, Azure, GCP and Proxmox, across every client "
        "of that endpoint (the size of each client's connection pool too).",
    )
    openstack_concurrency: int = Field(
        8, ge=1, le=64, description="OpenStack calls in flight at once per Keystone endpoint, across every credential."
    )

    aggregate_naming: list[AggregateNamingRule] = Field(
        default_factory=lambda: list(DEFAULT_AGGREGATE_NAMING),
        description="GPU aggregate naming rules, first match wins (env: a JSON list of {pattern, pool}).",
    )

    restore_enabled: bool = Field(
        True,
        description="Plan and run RestoreJobs; false refuses them (Ready=False, RestoreDisabled), like pf9's "
        "RESTORE_ENABLED.",
    )
    restore_dry_run: bool = Field(
        False,
        description="Run every RestoreJob as a dry run (validate, record the steps, change nothing), like "
        "pf9's RESTORE_DRY_RUN.",
    )
    restore_cleanup_volumes: bool = Field(
        False,
        description="A failed or canceled RestoreJob with cleanupPolicy DeletePorts also deletes the volume "
        "it created, like pf9's RESTORE_CLEANUP_VOLUMES.",
    )
    restore_poll_seconds: float = Field(
        2.0, ge=0.25, description="How often a running RestoreJob polls a volume, server or task it waits for."
    )

    def restore_config(self) -> dict[str, bool]:
        """What pf9's GET /restore/config answers: ``{"enabled", "dry_run", "cleanup_volumes"}``."""
        return {
            "enabled": self.restore_enabled,
            "dry_run": self.restore_dry_run,
            "cleanup_volumes": self.restore_cleanup_volumes,
        }

    def naming_rules(self) -> list[tuple[str, str]]:
        """The naming rules as (pattern, pool) pairs, the shape the pure GPU views take."""
        return [(rule.pattern, rule.pool) for rule in self.aggregate_naming]

    def pass_slots_per_endpoint(self) -> int:
        """Passes at once per cloud endpoint: ``endpoint_workers``, kept below ``workers`` (when there are two
        or more) so one endpoint can never hold the whole pool."""
        return max(1, min(self.endpoint_workers, self.workers - 1))

    def effective_peering_priority(self) -> int:
        """The priority to run with: the configured one, else a random one so that no two replicas tie."""
        if self.peering_priority is not None:
            return self.peering_priority
        return secrets.randbelow(1_000_000) + 1 if self.peering_name else 0

    @model_validator(mode="after")
    def _sharding_is_consistent(self) -> OperatorSettings:
        if self.shards > 1 and self.peering_name:
            raise ValueError(
                "DAYTWO_SHARDS above 1 replaces peering (each shard is active, none stands by): unset "
                "DAYTWO_PEERING_NAME"
            )
        if self.shard_id is not None and self.shard_id >= self.shards:
            raise ValueError(f"DAYTWO_SHARD_ID={self.shard_id} must be below DAYTWO_SHARDS={self.shards}")
        return self

    def effective_shard_id(self) -> int:
        """This replica's shard: DAYTWO_SHARD_ID, else the ordinal ending its Pod name (ValueError without one)."""
        if self.shard_id is not None:
            return self.shard_id
        return shard_from_hostname(os.environ.get("POD_NAME") or socket.gethostname(), self.shards)

    def effective_shard_namespace(self) -> str:
        """Where the shards' Leases live: DAYTWO_SHARD_NAMESPACE, else the Pod's namespace, else 'default'."""
        if self.shard_namespace:
            return self.shard_namespace
        if _POD_NAMESPACE.exists():
            return _POD_NAMESPACE.read_text().strip() or "default"
        return "default"
