"""The generic restore engine: a cloud's step table, run one step at a time, and VALIDATE_LIVE_STATE.

Each cloud (:mod:`.openstack`, :mod:`.proxmox`) subclasses :class:`StepEngine` with how it observes
and plans (:meth:`StepEngine.plan`) and its table of step functions by pf9 step name; running a step
and re-planning against live state before anything changes are the same for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ...reconcile.restorejob.plan import Plan, Request
from ...reconcile.restorejob.steps import skip_for_dry_run
from .context import JobContext, StepFailed

__all__ = ["StepEngine", "StepFn"]

#: One step: (index in status.steps, request) -> None when it finished, else seconds until it is looked at again.
StepFn = Callable[[int, Request], float | None]


class StepEngine:
    """Plan and steps of one RestoreJob on one cloud, driven by the cloud's step table."""

    ctx: JobContext

    def step_table(self) -> Mapping[str, StepFn]:
        """The cloud's step functions by step name (VALIDATE_LIVE_STATE is :meth:`validate`)."""
        raise NotImplementedError

    def plan(self, request: Request) -> Plan:
        """Observe the cloud and plan."""
        raise NotImplementedError

    def validated(self, plan: Plan) -> str:
        """The message of a passed VALIDATE_LIVE_STATE step."""
        return plan.summary

    @property
    def poll(self) -> float:
        """Seconds between looks at something the job waits for."""
        return self.ctx.settings.restore_poll_seconds

    def run_step(self, index: int, request: Request) -> float | None:
        """Run the step at ``index``: None when it finished, else seconds until it is looked at again."""
        return self.step_table()[self.ctx.steps()[index].name](index, request)

    def validate(self, index: int, request: Request) -> float | None:
        """Plan again against live state; refuse what cannot run before anything changes (a dry run stops here)."""
        self.ctx.begin(index)
        plan = self.plan(request)
        self.ctx.write(plan=plan.to_status())
        if not plan.ok:
            raise StepFailed(str(plan.reason), plan.message)
        self.ctx.succeed(index, self.validated(plan))
        if self.ctx.dry_run:
            self.ctx.write(steps=skip_for_dry_run(self.ctx.steps(), index, datetime.now(UTC)))
        return None
