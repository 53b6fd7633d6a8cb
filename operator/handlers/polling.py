"""The one-daemon-per-object pattern the polling kinds share (ProxmoxNode, DriftRule, AggregateMigration,
CloudCredential): run a synchronous pass in a worker thread, sleep for the delay it returns, and wake
early when the object changes (spec, or the ``daytwo.io/reconcile-requested-at`` annotation).

One loop per object means two passes over the same object never overlap, and a pass that raises is
logged and retried after ``retry_delay_seconds`` without restarting the daemon. A pass that finds a
reference broken (its credential or Secret missing or refused) returns :class:`BackOff`: the next pass
comes ``reference_backoff_seconds`` later, doubling per such pass up to ``resync_seconds``, or at once
when the referenced object or Secret changes (``references_index`` wakes it).

Passes run on the operator's bounded pass pool (``passpool``; ``DAYTWO_WORKERS`` threads overall, at most
``DAYTWO_ENDPOINT_WORKERS`` passes per cloud endpoint), never on asyncio's default executor, so a hung
cloud cannot take the threads of the others.

Between passes the daemon waits on its wake event, its stop flag or its deadline, whichever comes
first: no polling tick, so an idle object costs nothing. Its wake event is also registered in :data:`wakeups.WAKE` under
``(kind, namespace, name)``, so other handlers (a user of a credential changing) wake it too. A pass ends with
:func:`finish_status`: conditions, observedGeneration, phase and the reconcile token, written only
where they changed (no churn for GitOps), and an Event when Ready flips. The pass classes share
:class:`PassInputs` (what the daemon hands a pass) and :class:`PollingPass` (the object it works on,
:meth:`PollingPass.finish_pass`); :func:`error_conditions`, :func:`error_delay` and :func:`settled` are the
conditions and delays their failures and ends share.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kopf
from daytwo.crds.base import GROUP, VERSION

from ..errors import BackendError
from ..kube import KubeClient, kube_client
from ..metrics import forget_object, ready_status, record_object, record_pass
from ..observability import TELEMETRY
from ..reconcile.conditions import ConditionUpdate, apply_conditions, ready_changed
from ..reconcile.lifecycle import RECONCILE_ANNOTATION
from ..reconcile.references import REFERENCE_REASONS
from ..settings import OperatorSettings
from ..stopping import STOP, OperatorStopping
from .passpool import pass_pool
from .references_index import pass_endpoint
from .sharding import sharded
from .wakeups import WAKE

__all__ = [
    "BackOff",
    "Backoff",
    "PassFactory",
    "PassInputs",
    "PollingPass",
    "current_object",
    "daemon_loop",
    "error_conditions",
    "error_delay",
    "finish_status",
    "own_object",
    "post_ready_change",
    "register_polling",
    "settled",
    "sleep_until_woken",
    "watched",
    "write_status",
]

#: Builds one pass from the daemon's keyword arguments (body, name, namespace, memo, logger, indices...,
#: and ``watched``: a copy of the object as the watch last delivered it, taken on the event loop, so a pass
#: need not GET it again); the pass runs in a worker thread and returns the seconds until the next one.
PassFactory = Callable[[dict[str, Any]], Callable[[], float]]


class BackOff(float):
    """What a pass returns (``return BackOff()``) when a reference it needs is broken: the loop waits an
    exponentially growing delay (:class:`Backoff`) instead of a fixed one; a change of the reference wakes it."""


@dataclass
class Backoff:
    """Exponential delays for consecutive broken-reference passes: ``first``, doubling, at most ``ceiling``."""

    first: float
    ceiling: float
    failures: int = 0

    def next_delay(self) -> float:
        """The delay after one more broken-reference pass."""
        delay = min(self.ceiling, self.first * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return delay

    def reset(self) -> None:
        """A pass found its references usable: the next broken one starts from ``first`` again."""
        self.failures = 0


@dataclass(frozen=True)
class PassInputs:
    """What a pass starts from, taken from its daemon's keyword arguments on the event loop: the object's
    ``body``, ``namespace`` and ``name``, the daemon's ``logger`` and ``memo``, ``watched`` (the object as
    the watch delivered it; None only for a pass built outside a daemon, which then GETs it) and
    ``indexes`` (the daemon's other arguments, which the reference checks read)."""

    body: kopf.Body
    namespace: str
    name: str
    logger: logging.Logger | kopf.Logger
    watched: dict[str, Any] | None
    memo: Any = None
    indexes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, kwargs: dict[str, Any]) -> PassInputs:
        """The inputs in a daemon's keyword arguments (as ``register_polling`` hands them to ``make_pass``)."""
        logger = kwargs.get("logger") or logging.getLogger(__name__)
        return cls(
            kwargs["body"], str(kwargs["namespace"]), str(kwargs["name"]), logger, kwargs.get("watched"),
            kwargs.get("memo"), kwargs,
        )  # fmt: skip

    @property
    def spec(self) -> dict[str, Any]:
        """The spec as the watch delivered it (empty without one)."""
        return dict((self.watched or {}).get("spec") or {})


class PollingPass:
    """What every pass of a polling kind holds (its :class:`PassInputs` as attributes, the KubeClient, the
    time it started) and how it ends (:meth:`finish_pass`)."""

    def __init__(self, inputs: PassInputs, client: KubeClient | None = None) -> None:
        self.inputs = inputs
        self.body, self.namespace, self.name, self.logger = inputs.body, inputs.namespace, inputs.name, inputs.logger
        self.watched, self.memo = inputs.watched, inputs.memo
        self.client = client or kube_client()
        self.now = datetime.now(UTC)

    def current_object(self, kind: str) -> dict[str, Any] | None:
        """The object this pass works on (see :func:`current_object`); None when gone or being deleted."""
        return current_object(self.client, kind, self.namespace, self.name, self.watched)

    def finish_pass(
        self,
        obj: dict[str, Any],
        status: dict[str, Any],
        fields: dict[str, Any],
        updates: list[ConditionUpdate],
        phase: str | Callable[[list[dict[str, Any]]], str],
        *,
        now: datetime | None = None,
        **options: Any,
    ) -> None:
        """:func:`finish_status` for this pass's object, at ``now`` (default: when the pass started);
        ``phase`` is the phase, or computes it from the conditions; ``options`` go to ``finish_status``."""
        phase_of = phase if callable(phase) else lambda _conditions: phase
        finish_status(self.client, self.body, obj, status, fields, updates, now or self.now, phase_of, **options)


def current_object(
    client: KubeClient, kind: str, namespace: str, name: str, watched: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The object a pass works on: :func:`own_object` of ``watched`` (a GET when there is none); None when
    the object is gone or being deleted (nothing for the pass to do)."""
    obj = own_object(client, watched) if watched is not None else client.get_object(kind, namespace, name)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return None
    return obj


def error_conditions(error: BackendError) -> list[ConditionUpdate]:
    """Ready=False with the error's reason; Reconciling while it may heal, Stalled when a person must act."""
    return [
        ConditionUpdate("Ready", False, error.reason, error.message),
        ConditionUpdate("Reconciling", error.retryable, error.reason, f"retrying: {error.message}"),
        ConditionUpdate("Stalled", not error.retryable, error.reason, error.message),
    ]


def settled(updates: list[ConditionUpdate]) -> list[ConditionUpdate]:
    """``updates`` of a pass that is done for now, completed: Stalled=False (NotStalled) unless they set
    Stalled, and Reconciling=False (Idle)."""
    if not any(update.type == "Stalled" for update in updates):
        updates = [*updates, ConditionUpdate("Stalled", False, "NotStalled")]
    return [*updates, ConditionUpdate("Reconciling", False, "Idle")]


def error_delay(error: BackendError, settings: OperatorSettings) -> float:
    """How long a pass that failed with ``error`` waits: ``retry_delay_seconds`` when it may heal by
    itself, ``resync_seconds`` when a person must act, :class:`BackOff` when a reference is broken (woken
    when the credential or its Secret changes)."""
    if error.reason in REFERENCE_REASONS:
        return BackOff()
    return settings.retry_delay_seconds if error.retryable else settings.resync_seconds


#: Why a daemon stops when the whole process does (pausing for a peer is not exiting: it resumes later).
_EXITING = kopf.DaemonStoppingReason.OPERATOR_EXITING


def register_polling(
    kind: str,
    plural: str,
    daemon_id: str,
    settings: OperatorSettings,
    make_pass: PassFactory,
    on_stop: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Register the daemon for ``plural`` and the update handler that wakes it; ``on_stop`` runs when
    the daemon ends (object deleted, operator stopping). ``memo["wake"]`` is the event that wakes it."""

    async def daemon(*, stopped: kopf.DaemonStopped, memo: Any, logger: kopf.Logger, **kwargs: Any) -> None:
        wake = memo.setdefault("wake", asyncio.Event())
        namespace = str(kwargs["namespace"])
        key = (kind, namespace, str(kwargs["name"]))
        WAKE.register(key, wake)
        record_object(kind, namespace, key[2], ready_status(kwargs["body"].get("status")))
        try:
            await daemon_loop(
                kind,
                stopped,
                wake,
                lambda: make_pass({**kwargs, "memo": memo, "logger": logger, "watched": watched(kind, kwargs["body"])}),
                settings.retry_delay_seconds,
                logger,
                endpoint=lambda: pass_endpoint(kind, namespace, kwargs["spec"], kwargs),
                backoff=Backoff(settings.reference_backoff_seconds, settings.resync_seconds),
            )
        finally:
            WAKE.unregister(key, wake)
            WAKE.wake(key)  # whoever waits on this object (a blocked deletion) re-checks now the daemon ended
            forget_object(kind, namespace, key[2])
            kube_client().note_version(kind, namespace, key[2], None)
            if on_stop is not None:
                on_stop({**kwargs, "memo": memo})

    async def poke(*, memo: Any, **_: Any) -> None:
        memo.setdefault("wake", asyncio.Event()).set()

    # Only the shard that owns the object runs it (handlers/sharding.py); unsharded, always.
    kopf.daemon(GROUP, VERSION, plural, id=daemon_id, cancellation_timeout=10)(sharded(kind, daemon))
    kopf.on.update(GROUP, VERSION, plural, id="wake")(poke)


def own_object(client: KubeClient, obj: dict[str, Any]) -> dict[str, Any] | None:
    """The object a pass works on: ``obj`` (its ``watched`` copy) when that already holds this process's
    last status write to it, or there was none: no GET, so a settled object costs no apiserver read.
    Else (the watch has not delivered that write yet, or something newer came after it) one GET; None when
    the object is gone. Status fields a pass acts on (a run or operation in flight) are thus never older
    than the pass's own last write."""
    metadata = obj["metadata"]
    kind, namespace, name = str(obj["kind"]), str(metadata["namespace"]), str(metadata["name"])
    written = client.written_version(kind, namespace, name)
    version = metadata.get("resourceVersion")
    if written is None or written == version:
        client.note_version(kind, namespace, name, None)
        return obj
    fresh = client.get_object(kind, namespace, name)
    if fresh is not None:
        fresh.setdefault("kind", kind)
        # the watch delivers this version (or a later one) next: until then a pass reads again
        client.note_version(kind, namespace, name, str(fresh["metadata"].get("resourceVersion")))
    return fresh


def watched(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the object as the watch delivered it (Kopf keeps a daemon's ``body`` current), with its kind:
    call on the event loop, where the watch updates it."""
    obj = copy.deepcopy(dict(body))
    obj.setdefault("kind", kind)
    return obj


async def daemon_loop(
    kind: str,
    stopped: kopf.DaemonStopped,
    wake: asyncio.Event,
    next_pass: Callable[[], Callable[[], float]],
    retry_delay: float,
    logger: logging.Logger | kopf.Logger,
    *,
    endpoint: Callable[[], str | None] = lambda: None,
    backoff: Backoff | None = None,
) -> None:
    """Run ``next_pass()`` on the pass pool (``endpoint()`` names the cloud endpoint it talks to), then wait
    for the delay it returned (``retry_delay`` after a failure, ``backoff``'s next delay after a
    :class:`BackOff`) or until ``wake`` is set or the daemon is stopped; until stopped."""
    backoff = backoff if backoff is not None else Backoff(retry_delay, retry_delay)
    while not stopped:
        # Cleared before the pass, not after: a change that arrives while a pass runs (which may have
        # read the object before it) must trigger another pass, not be swallowed.
        wake.clear()
        try:
            delay = await _run_pass(_measured(kind, next_pass()), stopped, endpoint())
        except OperatorStopping:
            return
        except Exception as error:
            logger.exception("%s pass failed: %s", kind, error)
            delay = retry_delay
        if isinstance(delay, BackOff):
            delay = backoff.next_delay()
        else:
            backoff.reset()
        await sleep_until_woken(wake, stopped, delay)


async def sleep_until_woken(wake: asyncio.Event, stopped: kopf.DaemonStopped, delay: float) -> None:
    """Return when ``wake`` is set, the daemon is stopped or ``delay`` seconds passed, whichever is first."""
    if wake.is_set() or stopped:
        return
    woken = asyncio.ensure_future(wake.wait())
    ending = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({woken, ending}, timeout=max(0.0, delay), return_when=asyncio.FIRST_COMPLETED)
    finally:
        woken.cancel()
        ending.cancel()


def _measured(kind: str, one_pass: Callable[[], float]) -> Callable[[], float]:
    """``one_pass``, counted and timed in the metrics (on its thread, so waiting for the pool is not counted):
    ``success``, ``blocked`` (it returned :class:`BackOff`) or ``error`` (it raised; not when stopping)."""

    def run() -> float:
        started, outcome = time.monotonic(), "error"
        try:
            with TELEMETRY.timed("reconcile", f"reconcile {kind}", {"kind": kind}):  # OTLP, when configured
                delay = one_pass()
            outcome = "blocked" if isinstance(delay, BackOff) else "success"
            return delay
        except OperatorStopping:
            outcome = ""
            raise
        finally:
            if outcome:
                record_pass(kind, outcome, time.monotonic() - started)

    return run


async def _run_pass(one_pass: Callable[[], float], stopped: kopf.DaemonStopped, endpoint: str | None) -> float:
    """Run the pass on the pass pool; when the operator starts exiting meanwhile, set the stop signal
    so the thread's sleeps and polls end it now (a thread cannot be cancelled; the exit waits for it)."""
    running = asyncio.ensure_future(pass_pool().run(endpoint, one_pass))
    exiting = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({running, exiting}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done() and stopped.reason is not None and stopped.reason & _EXITING:
            STOP.set()
        return await running
    finally:
        exiting.cancel()


def post_ready_change(body: kopf.Body, change: dict[str, Any] | None) -> None:
    """A Kubernetes Event when Ready flipped (``change`` from ``ready_changed``): Normal to True, else Warning."""
    if change is not None:
        kopf.event(
            body,
            type="Normal" if change["status"] == "True" else "Warning",
            reason=change["reason"],
            message=change["message"],
        )


def write_status(
    client: KubeClient, kind: str, namespace: str, name: str, status: dict[str, Any], changes: dict[str, Any]
) -> None:
    """Patch the status fields that differ from ``status`` (the object's last known status), and keep
    ``status`` current (a copy: callers go on mutating their lists)."""
    diff = {key: value for key, value in changes.items() if status.get(key) != value}
    if diff:
        client.patch_status(kind, namespace, name, diff)
        status.update(copy.deepcopy(diff))
    record_object(kind, namespace, name, ready_status(status))


def finish_status(
    client: KubeClient,
    body: kopf.Body,
    obj: dict[str, Any],
    status: dict[str, Any],
    fields: dict[str, Any],
    updates: list[ConditionUpdate],
    now: datetime,
    phase: Callable[[list[dict[str, Any]]], str],
    echo_token: bool = True,
    coarse: Mapping[str, Any] | None = None,
    coarse_due: bool = False,
) -> None:
    """End a pass: ``fields`` plus conditions, observedGeneration, ``phase(conditions)`` and (unless
    ``echo_token`` is False: the request is not handled yet) the reconcile token, written where they
    changed; an Event when Ready flipped.

    ``coarse`` fields (routine pass times such as DriftRule ``lastEvaluationTime``) are written only along
    with another change, or when ``coarse_due`` (their heartbeat is due): a pass that changes nothing a user
    can observe writes nothing at all."""
    generation = obj["metadata"].get("generation")
    before = list(status.get("conditions") or [])
    conditions = apply_conditions(before, updates, generation, now)
    fields.update(conditions=conditions, observedGeneration=generation, phase=phase(conditions))
    token = (obj["metadata"].get("annotations") or {}).get(RECONCILE_ANNOTATION)
    if token is not None and echo_token:
        fields["lastHandledReconcileAt"] = token
    if coarse and (coarse_due or any(status.get(key) != value for key, value in fields.items())):
        fields.update(coarse)
    metadata = obj["metadata"]
    write_status(client, obj["kind"], metadata["namespace"], metadata["name"], status, fields)
    post_ready_change(body, ready_changed(before, conditions))
