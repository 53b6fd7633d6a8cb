"""Kopf glue: the only layer that imports kopf. Handlers read the body, call reconcile, patch status."""
