"""AggregateMigration decisions (pure): :mod:`.plan` is the preflight plan and its conditions,
:mod:`.steps` the step machine that executes it (forward steps, rollback, progress, command log)."""
