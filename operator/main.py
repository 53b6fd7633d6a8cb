"""``daytwo-operator``: the Kopf operator process."""

from __future__ import annotations

from .handlers.runner import run
from .settings import OperatorSettings

__all__ = ["main"]


def main() -> None:
    """Read settings from the environment and run the operator until SIGTERM/SIGINT."""
    run(OperatorSettings())


if __name__ == "__main__":
    main()
