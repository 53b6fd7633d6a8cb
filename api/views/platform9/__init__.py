"""platform9 views: pure functions from daytwo CR dicts / inventory records to pf9's documented JSON."""
