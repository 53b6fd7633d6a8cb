"""Pure views: CR dicts and inventory records -> the JSON shapes each documented API returns (no I/O)."""
