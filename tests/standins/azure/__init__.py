"""Azure stand-in for tests: Entra client-credentials tokens + ARM lists over TLS, faults and a journal."""

from .fixtures import AzureStandin, build_standin, run_azure
from .httpstandin import Fault, Faults, Journal, JournalEntry

__all__ = ["AzureStandin", "Fault", "Faults", "Journal", "JournalEntry", "build_standin", "run_azure"]
