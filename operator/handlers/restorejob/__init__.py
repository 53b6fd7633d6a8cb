"""RestoreJob handlers: one Kopf daemon per object plans, runs, cancels, retries and cleans up a VM restore.

Modules, top to bottom (an import-linter ``layers`` contract keeps them acyclic):

* :mod:`.job`: the daemon and one pass over one object (plan, or execute and answer requests).
* :mod:`.requests`: retry, cleanup and cleanup-storage requests (``requestedAt`` tokens).
* :mod:`.cleanup`: what a failed OpenStack job left, and old storage after REPLACE.
* :mod:`.openstack`, :mod:`.proxmox`: each cloud's step table and plan.
* :mod:`.engine`: the generic engine (run a step from the table, VALIDATE_LIVE_STATE);
  :mod:`.observe`: the OpenStack observation a plan needs.
* :mod:`.context`: the object during one pass, its status writer and step bookkeeping.

The pure planning and step machine are :mod:`daytwo.operator.reconcile.restorejob`.
"""

from __future__ import annotations

from .job import register

__all__ = ["register"]
