"""pmi dashboard views: pure functions from ProxmoxNode dicts to the pmi API's documented JSON."""
