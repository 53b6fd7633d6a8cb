"""CloudResource: one Kopf daemon per object provisions it through its credential's provider; deletion deletes it.

Each pass takes the object as the watch delivered it (``polling.own_object``: a GET only while the watch
has not delivered the pass's own last status write, so an externalId just written is never missed), checks
its credential (exists, Secret usable, Ready) from the in-memory indexes of ``references_index`` (a broken
reference backs off exponentially, ``polling.BackOff``, and is woken when the credential or its Secret
changes), and follows ``reconcile.cloudresource``: adopt (``find``) or ``create`` when
status has no externalId, writing the id before anything waits; then ``observe`` and assess: poll again soon
while the provider creates (backoff growing with the resource's age), apply in-place updates of a changed
spec, report drift, stop on failure. The deletion handler (Kopf's finalizer) deletes the cloud resource when
``deletionPolicy`` is Delete (adopting first when status never got the id) and comes back until it is gone.
Every progress line goes to ``status.steps`` (what the facade's deployment-logs WebSocket streams).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf
from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.cloudresource import CloudResourceSpec, CloudResourceStatus, DeletionPolicy

from ..backends.provisioning import ProvisionedResource, ProvisionRequest, ResourceProvisioner, ResourceType
from ..errors import BackendError, InvalidRequest
from ..kube import kube_client
from ..reconcile.cloudresource import Action, append_line, assess, phase_of, poll_delay, provision_request
from ..reconcile.conditions import ConditionUpdate
from ..reconcile.references import reference_error
from ..settings import OperatorSettings
from ..shared.times import format_time, parse_time
from .credentials import ResolvedCredential, aws_params, azure_params, backend_clients, gcp_params, resolve_credential
from .polling import BackOff, PassInputs, PollingPass, error_conditions, error_delay, register_polling, write_status
from .references_index import credential_ready, reference_check
from .sharding import owned_or_gone

__all__ = ["provisioner_for", "register"]

KIND = "CloudResource"
#: provider -> (module exposing ``provisioner(params)``, the credential's connection parameters)
_PROVIDERS: dict[str, tuple[str, Callable[[ResolvedCredential], Any]]] = {
    "aws": ("daytwo.operator.backends.aws._provision", aws_params),
    "azure": ("daytwo.operator.backends.azure._provision", azure_params),
    "gcp": ("daytwo.operator.backends.gcp._provision", gcp_params),
}


def provisioner_for(credential: ResolvedCredential, region: str | None) -> ResourceProvisioner:
    """The cached provisioner of the credential's provider (a new one when the Secret or parameters change).

    AWS clients are bound to a region: a CloudResource with its own ``region`` gets params with that region.
    """
    provider = credential.spec["provider"]
    if provider not in _PROVIDERS:
        raise InvalidRequest(
            f"CloudCredential {credential.name!r} is provider {provider}; CloudResource needs aws, azure or gcp"
        )
    module_name, make_params = _PROVIDERS[provider]
    params = make_params(credential)
    if provider == "aws" and region:
        params = dataclasses.replace(params, region=region)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise InvalidRequest(f"provisioning on {provider} is not available in this daytwo build") from None
    key = credential.key.cache_key(f"provision-{provider}-{region or ''}")
    version = f"{credential.secret_resource_version}/{params.fingerprint()}"
    made = backend_clients().cache.get(key, version, lambda: _Closing(module.provisioner(params)))
    return made.provisioner


class _Closing:
    """A provisioner as the client cache keeps it (closed when evicted, if it has connections to close)."""

    def __init__(self, provisioner: ResourceProvisioner) -> None:
        self.provisioner = provisioner

    def close(self) -> None:
        close = getattr(self.provisioner, "close", None)
        if callable(close):
            close()


def _credential(namespace: str, spec: CloudResourceSpec, ready: dict[str, Any] | None) -> ResolvedCredential:
    """The credential and its Secret values; a credential that is not Ready yet (``ready``: its Ready
    condition, from the index) is a wait, woken when its Ready flips."""
    if ready is None or ready.get("status") != "True":
        why = f" ({ready.get('reason')}: {ready.get('message')})" if ready else ""
        raise _NotReady(f"CloudCredential {spec.credentials_ref.name!r} is not Ready{why}; waiting for it")
    return resolve_credential(namespace, spec.credentials_ref.name)


class _NotReady(BackendError):
    reason = "CredentialsNotReady"
    retryable = True


class Pass(PollingPass):
    """One pass over one CloudResource."""

    def __init__(self, inputs: PassInputs, settings: OperatorSettings) -> None:
        super().__init__(inputs)
        self.settings = settings
        # the reference checks, from the indexes (on the event loop)
        self.reference_problem = reference_check(KIND, inputs.namespace, inputs.spec, inputs.indexes)
        self.credential_ready = credential_ready(KIND, inputs.namespace, inputs.spec, inputs.indexes)
        self.status: dict[str, Any] = {}

    def log(self, message: str, **fields: Any) -> None:
        """Write ``fields`` and a progress line to status now (the WebSocket shows it at once)."""
        lines = append_line(self.status.get("steps"), message, datetime.now(UTC))
        write_status(self.client, KIND, self.namespace, self.name, self.status, {**fields, "steps": lines})

    def run(self) -> float:
        """One pass; returns the seconds until the next."""
        obj = self.current_object(KIND)
        if obj is None:
            return self.settings.resync_seconds
        self.status = dict(obj.get("status") or {})
        spec = CloudResourceSpec.model_validate(obj["spec"])
        request = provision_request(spec, self.name, obj["metadata"]["uid"])
        delay = self.settings.resync_seconds
        try:
            if self.reference_problem is not None:  # no call, no Secret read
                raise reference_error(self.reference_problem)
            credential = _credential(self.namespace, spec, self.credential_ready)
            provisioner = provisioner_for(credential, spec.region)
            observed = self.provision(provisioner, request, credential.spec["provider"])
            updates, delay = self.settle(obj, provisioner, request, observed)
        except BackendError as error:
            updates = error_conditions(error)
            # woken when the credential, its Secret or its Ready changes
            delay = BackOff() if isinstance(error, _NotReady) else error_delay(error, self.settings)
            self.log(f"{error.reason}: {error.message}")
        self.finish_pass(obj, self.status, {}, updates, phase_of, now=datetime.now(UTC))
        return delay

    def provision(
        self, provisioner: ResourceProvisioner, request: ProvisionRequest, provider: str
    ) -> ProvisionedResource | None:
        """Adopt or create when status has no id (recording it before any wait), else observe."""
        external_id = CloudResourceStatus.model_validate(self.status).external_id
        if external_id:
            return provisioner.observe(request.type, external_id)
        found = provisioner.find(request)
        if found is not None:
            self.log(f"adopted {found.external_id} (tagged for this object)", externalId=found.external_id)
            return found
        self.log(f"creating {request.type} {request.name} on {provider}", provider=provider, cloudName=request.name)
        made = provisioner.create(request)
        self.log(f"created {made.external_id}; waiting until it is active", externalId=made.external_id)
        return made

    def settle(
        self,
        obj: dict[str, Any],
        provisioner: ResourceProvisioner,
        request: ProvisionRequest,
        observed: ProvisionedResource | None,
    ) -> tuple[list[ConditionUpdate], float]:
        """Assess the observation, apply an in-place update when the spec changed, write outputs and drift."""
        generation = obj["metadata"].get("generation")
        read = CloudResourceStatus.model_validate(self.status)
        refused = any(c.type == "Ready" and c.reason == "UpdateRefused" for c in read.conditions)
        changed = read.observed_generation != generation or refused
        outcome = assess(request, observed, spec_changed=changed)
        if outcome.action is Action.UPDATE and observed is not None:
            self.log(outcome.line)
            try:
                observed = provisioner.update(request, observed)
                outcome = assess(request, observed, spec_changed=False)
            except InvalidRequest as error:
                outcome = assess(request, observed, spec_changed=True, refused=error.message)
        fields = dict(outcome.fields)
        if outcome.action is Action.SETTLED and read.ready_time is None:
            fields["readyTime"] = format_time(datetime.now(UTC))
        self.log(outcome.line, **fields)
        if outcome.action is Action.WAIT:
            created = parse_time(obj["metadata"].get("creationTimestamp")) or datetime.now(UTC)
            return outcome.updates, poll_delay((datetime.now(UTC) - created).total_seconds())
        return outcome.updates, self.settings.resync_seconds


def delete_resource(body: kopf.Body, settings: OperatorSettings) -> None:
    """Delete the cloud resource (deletionPolicy Delete) and come back until it is gone; Orphan leaves it."""
    namespace, name = str(body.metadata.namespace), str(body.metadata.name)
    client = kube_client()
    status = dict(body.get("status") or {})
    spec = CloudResourceSpec.model_validate(dict(body.spec))

    def log(message: str, **fields: Any) -> None:
        lines = append_line(status.get("steps"), message, datetime.now(UTC))
        write_status(client, KIND, namespace, name, status, {**fields, "steps": lines})

    read = CloudResourceStatus.model_validate(status)
    external_id = read.external_id
    if spec.deletion_policy == DeletionPolicy.ORPHAN:
        if external_id:
            log(f"deletionPolicy Orphan: {external_id} is left in place")
        return
    try:
        provisioner = provisioner_for(resolve_credential(namespace, spec.credentials_ref.name), spec.region)
        request = provision_request(spec, name, str(body.metadata.uid))
        if not external_id:
            found = provisioner.find(request)  # created by an attempt whose id never reached status
            if found is None:
                return
            external_id = found.external_id
        if read.state != "deleting":
            log(f"deleting {external_id}", state="deleting", phase="Deleting")
        if provisioner.delete(ResourceType(str(spec.type)), str(external_id)):
            log(f"{external_id} deleted", state="deleted")
            return
    except BackendError as error:
        log(f"deleting {external_id}: {error.reason}: {error.message}")
        raise kopf.TemporaryError(f"{error.reason}: {error.message}", delay=settings.retry_delay_seconds) from error
    raise kopf.TemporaryError(f"waiting for {external_id} to be deleted", delay=2)


def register(settings: OperatorSettings) -> None:
    """Register the CloudResource daemon, the handler that wakes it, and the deletion handler."""

    def make_pass(kwargs: dict[str, Any]) -> Callable[[], float]:
        return Pass(PassInputs.of(kwargs), settings).run

    register_polling(KIND, "cloudresources", "provision", settings, make_pass)

    async def on_delete(body: kopf.Body, namespace: str | None, name: str, **_: Any) -> None:
        # Every shard holds the deletion (shared finalizer); only the owner deletes in the cloud, the others
        # wait until it is done (the object gone) or the object becomes theirs (handlers/sharding.py).
        def gone() -> bool:
            return kube_client().get_object(KIND, str(namespace), name) is None

        if await owned_or_gone(str(namespace), name, gone, settings.resync_seconds):
            await asyncio.to_thread(delete_resource, body, settings)

    kopf.on.delete(GROUP, VERSION, "cloudresources", id="delete-cloud-resource")(on_delete)
