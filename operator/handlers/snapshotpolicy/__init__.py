"""SnapshotPolicy handlers: the per-policy pass (:mod:`.passes`), the OpenStack and Proxmox sides of a
run (:mod:`.volumes`, :mod:`.guests`, sharing :mod:`.runs`), in-flight creates (:mod:`.inflight`), the
status records (:mod:`.records`) and the ``<policy>-targets`` ConfigMap (:mod:`.targets`)."""

from __future__ import annotations

from .passes import PolicyPass, register

__all__ = ["PolicyPass", "register"]
