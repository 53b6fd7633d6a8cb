"""SnapshotPolicy decisions, pure: schedule, targets and retention (:mod:`.decisions`), SLA compliance
(:mod:`.sla`), Proxmox guests in the same terms (:mod:`.guests`) and the ``<policy>-targets`` ConfigMap
(:mod:`.targets`). The handler (``handlers.snapshotpolicy``) does the I/O."""
