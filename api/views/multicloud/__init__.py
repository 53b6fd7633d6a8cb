"""Pure views of the multicloud API: CloudCredentials and their inventory and billing ConfigMaps -> its JSON."""
