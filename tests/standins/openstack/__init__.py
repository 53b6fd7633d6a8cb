"""An in-memory OpenStack (Keystone v3, Nova, Cinder, Neutron, Glance) for tests and demos."""

from .clock import Clock
from .faults import Fault, FaultInjector, Journal, JournalEntry
from .model import Delays, Model
from .seed import SeedInfo
from .server import StandIn

__all__ = ["Clock", "Delays", "Fault", "FaultInjector", "Journal", "JournalEntry", "Model", "SeedInfo", "StandIn"]
