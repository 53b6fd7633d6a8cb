"""spot views: pure functions from inventory records and AggregateMigration dicts to the spot manager's JSON."""
