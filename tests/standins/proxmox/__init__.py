"""Proxmox VE stand-in for tests: fakepve over TLS with a test-time CA, an estate and fault switches."""

from .fixtures import GuestSpec, PveStandin, build_fakepve, closed_port, run_fakepve

__all__ = ["GuestSpec", "PveStandin", "build_fakepve", "closed_port", "run_fakepve"]
