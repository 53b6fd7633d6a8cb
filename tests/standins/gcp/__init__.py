"""GCP stand-in for tests: service-account JWT token grant (RS256 verified) + Compute lists over TLS."""

from tests.standins.azure.httpstandin import Fault, Faults, Journal, JournalEntry

from .fixtures import GcpStandin, build_standin, run_gcp

__all__ = ["Fault", "Faults", "GcpStandin", "Journal", "JournalEntry", "build_standin", "run_gcp"]
