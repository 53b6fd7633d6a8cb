"""platform9's built-in drift rules as the reference states them, transcribed once for the chart tests.

Source: "Drift Detection Endpoints", "Built-in Rules by Resource Type" and GET /drift/rules in
../shared/reference/platform9-management-api.md (outside the repo: the tests check what the repo ships
against this transcription, never the reference file itself).
"""

from __future__ import annotations

__all__ = ["REFERENCE_SEVERITIES", "TABLE"]

#: Resource type -> monitored fields, in the reference's order (22 rows in all; its "Total" says 24).
TABLE = {
    "server": ["flavor_id", "status", "vm_state", "hypervisor_hostname"],
    "volume": ["status", "size", "volume_type", "server_id"],
    "network": ["admin_state_up", "shared"],
    "subnet": ["gateway_ip", "cidr", "enable_dhcp"],
    "port": ["device_id", "mac_address", "status"],
    "floating_ip": ["port_id", "router_id", "status"],
    "security_group": ["description"],
    "snapshot": ["status", "size"],
}
#: The four rules whose severity the reference states (GET /drift/rules).
REFERENCE_SEVERITIES = {
    ("server", "flavor_id"): "warning",
    ("server", "status"): "critical",
    ("server", "vm_state"): "warning",
    ("server", "hypervisor_hostname"): "info",
}
