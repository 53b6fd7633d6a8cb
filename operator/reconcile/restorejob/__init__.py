"""RestoreJob reconcilers (pure, no I/O).

* :mod:`.openstack`, :mod:`.proxmox`: each cloud's plan from plain observations.
* :mod:`.plan`: what both share: the request a spec makes, the plan, the restored VM's name.
* :mod:`.steps`: the step machine (steps of each restore, progress, retry, cancel, conditions).
"""
