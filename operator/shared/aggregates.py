"""How GPU host aggregates are named: the operator's settings and the spot manager views share the rules."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["DEFAULT_AGGREGATE_NAMING", "AggregateNamingRule"]


class AggregateNamingRule(BaseModel):
    """How an aggregate name tells its GPU type and pool: a regex with a named group ``gpu``."""

    pattern: str = Field(description="Python regex matched against the whole name; group 'gpu' is the GPU type.")
    pool: str = Field(pattern="^(ondemand|spot|runpod|contract)$", description="The pool such names belong to.")


#: The spot manager's naming (``L40-n3``, ``L40-n3-NVLink``, ``L40-n3-spot``, ``L40-n3-runpod``,
#: ``Contract-L40-Customer1``, ``L40-n3-contract-acme``); first match wins.
DEFAULT_AGGREGATE_NAMING = [
    AggregateNamingRule(pattern=r"Contract-(?P<gpu>.+)-[^-]+", pool="contract"),
    AggregateNamingRule(pattern=r"(?P<gpu>.+?)-n\d+(?:-.+)?-contract-.+", pool="contract"),
    AggregateNamingRule(pattern=r"(?P<gpu>.+?)-n\d+(?:-.+)?-spot", pool="spot"),
    AggregateNamingRule(pattern=r"(?P<gpu>.+?)-n\d+(?:-.+)?-runpod", pool="runpod"),
    AggregateNamingRule(pattern=r"(?P<gpu>.+?)-n\d+(?:-.+)?", pool="ondemand"),
]
