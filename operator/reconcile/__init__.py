"""Pure reconcile functions: spec + observed state -> actions and new status. No I/O, no Kopf, no SDKs."""
