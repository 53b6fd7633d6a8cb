"""AWS stand-in for tests: moto in server mode with signature and IAM policy checks on, faults, a journal."""

from .fixtures import ACCOUNT_ID, AwsStandin, run_moto
from .server import Fault, JournalEntry, MotoServer

__all__ = ["ACCOUNT_ID", "AwsStandin", "Fault", "JournalEntry", "MotoServer", "run_moto"]
