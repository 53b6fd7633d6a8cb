"""A local stand-in for HashiCorp Vault's KV version 2 HTTP API (tests/standins/vault/server.py)."""

from .server import VaultStandin

__all__ = ["VaultStandin"]
