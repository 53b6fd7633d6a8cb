"""Boto3Backend: the AwsBackend protocol over boto3 (STS, EC2, Cost Explorer) with static or assumed keys."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, Unpack

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from ...errors import BackendError, InvalidRequest
from ..records import CloudIdentity, Inventory, InventoryKind, InventoryRecord, parse_kinds
from ..runtime import (
    ClientFactory,
    RetryPolicy,
    call_with_retries,
    endpoint_slot,
    write_ca_file,
)
from ._costs import CostOptions, CostReport
from ._errors import map_exception
from ._params import AwsConnectionParams
from ._records import instance_record, volume_record, vpc_record

__all__ = ["AwsClientFactory", "Boto3Backend"]

T = TypeVar("T")
log = logging.getLogger(__name__)

# Assumed-role credentials are renewed this long before they expire.
_RENEW_BEFORE = timedelta(minutes=5)
_ROLE_SECONDS = 3600
# (kind, IAM action / API operation, result key, item converter, max page size)
_LISTS: dict[InventoryKind, tuple[str, str, Callable[..., InventoryRecord], int]] = {
    InventoryKind.VMS: ("DescribeInstances", "Reservations", instance_record, 1000),
    InventoryKind.STORAGE: ("DescribeVolumes", "Volumes", volume_record, 500),
    InventoryKind.NETWORKS: ("DescribeVpcs", "Vpcs", vpc_record, 1000),
}


class _Keys:
    """One set of AWS keys (static or assumed) and the clients built from them."""

    def __init__(self, access_key: str, secret: str, token: str | None, expires_at: datetime | None) -> None:
        self.session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret, aws_session_token=token
        )
        self.expires_at = expires_at
        self.clients: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"_Keys(expires_at={self.expires_at!r})"

    def fresh(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at - _RENEW_BEFORE > now


class Boto3Backend:
    """One AWS account and region. Thread-safe; every HTTP attempt holds the endpoint's concurrency slot.

    botocore's own retries are off (one attempt per call): ``call_with_retries`` retries what the error
    table calls retryable (5xx, throttling, connection failures, timeouts) with backoff, never a 4xx.
    Pagination is followed page by page, each page retried on its own.
    """

    def __init__(
        self,
        params: AwsConnectionParams,
        *,
        limiter: threading.BoundedSemaphore,
        policy: RetryPolicy | None = None,
        pool_size: int = 10,
    ) -> None:
        self._params = params
        self._limiter = limiter
        self._policy = policy or RetryPolicy()
        self._lock = threading.Lock()
        self._calls = 0
        self._ca_file = write_ca_file(self, params.ca_bundle_pem) if params.ca_bundle_pem else None
        self._config = Config(
            region_name=params.region,
            connect_timeout=params.timeout_seconds,
            read_timeout=params.timeout_seconds,
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=pool_size,
            user_agent_extra="daytwo",
        )
        self._base = _Keys(params.access_key_id, params.secret_access_key, params.session_token, None)
        self._assumed: _Keys | None = None

    def __repr__(self) -> str:
        return f"Boto3Backend(endpoint={self.endpoint!r}, access_key_id={self._params.access_key_id!r})"

    @property
    def endpoint(self) -> str:
        """The endpoint override's host:port, or aws:<region>."""
        return self._params.endpoint

    @property
    def params(self) -> AwsConnectionParams:
        """The connection parameters this client was built from."""
        return self._params

    @property
    def calls_made(self) -> int:
        """HTTP attempts made so far (retries included)."""
        return self._calls

    def close(self) -> None:
        """Close the pooled connections of every client."""
        with self._lock:
            keys = [k for k in (self._base, self._assumed) if k is not None]
        for key in keys:
            for client in key.clients.values():
                client.close()

    # ------------------------------------------------------------------ plumbing

    def _client(self, keys: _Keys, service: str) -> Any:
        with self._lock:
            client = keys.clients.get(service)
            if client is None:
                client = keys.clients[service] = keys.session.client(
                    service,
                    endpoint_url=self._params.endpoint_url,
                    verify=self._ca_file if self._ca_file else None,
                    config=self._config,
                )
            return client

    def _call(self, keys: _Keys, service: str, operation: str, args: Mapping[str, Any], what: str) -> Any:
        """One API operation (e.g. ec2 DescribeVpcs) with retries; returns the parsed answer."""
        client = self._client(keys, service)
        method = getattr(client, _snake(operation))
        action = f"{service}:{operation}"

        def attempt() -> Any:
            error: BackendError
            with endpoint_slot(self._limiter, self._policy.queue_timeout_seconds, what, self.endpoint):
                with self._lock:
                    self._calls += 1
                try:
                    return method(**args)
                except (ClientError, BotoCoreError) as exc:
                    error = map_exception(exc, what=what, endpoint=self.endpoint, action=action)
            raise error

        return call_with_retries(what, self.endpoint, attempt, self._policy)

    def _keys(self) -> _Keys:
        """The keys to call with: the static ones, or fresh assumed-role credentials."""
        if not self._params.assume_role_arn:
            return self._base
        now = datetime.now(UTC)
        with self._lock:
            assumed = self._assumed
        if assumed is not None and assumed.fresh(now):
            return assumed
        return self._assume_role()

    def _assume_role(self) -> _Keys:
        role = self._params.assume_role_arn
        args: dict[str, Any] = {
            "RoleArn": role,
            "RoleSessionName": self._params.role_session_name,
            "DurationSeconds": _ROLE_SECONDS,
        }
        if self._params.external_id:
            args["ExternalId"] = self._params.external_id
        answer = self._call(self._base, "sts", "AssumeRole", args, f"assume role {role}")
        creds = answer["Credentials"]
        expires = creds.get("Expiration")
        expires_at = expires.astimezone(UTC) if isinstance(expires, datetime) else None
        keys = _Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken"), expires_at)
        with self._lock:
            old, self._assumed = self._assumed, keys
        if old is not None:
            for client in old.clients.values():
                client.close()
        log.info("aws assumed role %s at %s (expires %s)", role, self.endpoint, expires_at)
        return keys

    # ------------------------------------------------------------------ protocol

    def validate(self) -> CloudIdentity:
        """STS GetCallerIdentity with the static keys, then AssumeRole (+ GetCallerIdentity) when a role is set."""
        base = self._call(self._base, "sts", "GetCallerIdentity", {}, "validate credentials (sts GetCallerIdentity)")
        details = {"user_id": str(base.get("UserId", "")), "access_key_id": self._params.access_key_id}
        if not self._params.assume_role_arn:
            return CloudIdentity("aws", principal=str(base["Arn"]), account=str(base["Account"]), details=details)
        keys = self._assume_role()
        assumed = self._call(keys, "sts", "GetCallerIdentity", {}, "validate assumed role (sts GetCallerIdentity)")
        details["source_principal"] = str(base["Arn"])
        details["role_arn"] = self._params.assume_role_arn
        return CloudIdentity(
            "aws",
            principal=str(assumed["Arn"]),
            account=str(assumed["Account"]),
            expires_at=keys.expires_at,
            details=details,
        )

    def inventory(self, kinds: Iterable[str] | None = None) -> Inventory:
        """EC2 instances, EBS volumes and VPCs of the configured region, every page."""
        wanted = parse_kinds(kinds)
        synced = datetime.now(UTC)
        start_calls = self._calls
        records: list[InventoryRecord] = []
        for kind in wanted:
            operation, key, convert, max_page = _LISTS[kind]
            for page in self._pages("ec2", operation, {"MaxResults": min(max_page, self._params.page_size)}):
                items = page.get(key) or ()
                if kind is InventoryKind.VMS:
                    items = [i for r in items for i in r.get("Instances") or ()]
                records.extend(convert(item, self._params.region, synced) for item in items)
        return Inventory("aws", wanted, tuple(records), synced, api_calls=self._calls - start_calls)

    def _pages(
        self, service: str, operation: str, args: Mapping[str, Any], token_key: str = "NextToken"
    ) -> Iterator[Any]:
        """Every page of a list operation, following ``token_key`` to the end (each page retried alone)."""
        token: str | None = None
        page_no = 0
        while True:
            page_args = dict(args)
            if token:
                page_args[token_key] = token
            page_no += 1
            page = self._call(self._keys(), service, operation, page_args, f"{service} {operation} page {page_no}")
            yield page
            token = page.get(token_key)
            if not token:
                return

    def costs(self, start: date, end: date, **options: Unpack[CostOptions]) -> CostReport:
        """Cost Explorer GetCostAndUsage over [start, end), grouped by a dimension (SERVICE, REGION, ...)."""
        granularity = options.get("granularity", "MONTHLY")
        group_by = options.get("group_by", "SERVICE")
        metric = options.get("metric", "UnblendedCost")
        if end <= start:
            raise InvalidRequest(f"cost period end {end} must be after its start {start}")
        if granularity not in ("DAILY", "MONTHLY", "HOURLY"):
            raise InvalidRequest(f"granularity {granularity!r} is not DAILY, MONTHLY or HOURLY")
        args: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": granularity,
            "Metrics": [metric],
        }
        if group_by:
            args["GroupBy"] = [{"Type": "DIMENSION", "Key": group_by}]
        pages = list(self._pages("ce", "GetCostAndUsage", args, token_key="NextPageToken"))
        return CostReport.from_pages(
            pages, start=start.isoformat(), end=end.isoformat(), granularity=granularity, metric=metric
        )


def _snake(operation: str) -> str:
    """DescribeInstances -> describe_instances (boto3's method names)."""
    out = []
    for i, char in enumerate(operation):
        if char.isupper() and i:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


class AwsClientFactory(ClientFactory[AwsConnectionParams, Boto3Backend]):
    """Cached Boto3Backend clients (see :class:`~daytwo.operator.backends.runtime.ClientFactory`)."""

    client_type = Boto3Backend
