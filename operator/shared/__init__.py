"""The operator's pure code that the facade shares: the only part of ``daytwo.operator`` it may import.

No I/O and no Kopf, SDK or Kubernetes imports (import-linter contracts in pyproject.toml): snapshot naming
and schedule reading (:mod:`.snapshots`), prices (:mod:`.pricing`, :mod:`.prices`), GPU aggregate views
(:mod:`.gpuviews`) and aggregate naming rules (:mod:`.aggregates`).
"""
