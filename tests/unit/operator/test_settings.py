"""Operator settings: standby replicas must never tie on Kopf peering priority."""

from __future__ import annotations

from daytwo.operator.settings import OperatorSettings


def test_standalone_runs_at_priority_zero() -> None:
    assert OperatorSettings().effective_peering_priority() == 0


def test_configured_priority_wins() -> None:
    assert OperatorSettings(peering_name="daytwo", peering_priority=7).effective_peering_priority() == 7


def test_replicas_with_peering_draw_distinct_priorities() -> None:
    """Kopf freezes every replica when two share the top priority; random draws make a tie negligible."""
    drawn = {OperatorSettings(peering_name="daytwo").effective_peering_priority() for _ in range(50)}
    assert len(drawn) >= 49 and min(drawn) > 0
