"""``daytwo-api``: the REST facade process (uvicorn)."""

from __future__ import annotations

import uvicorn

from .app import create_app
from .settings import ApiSettings

__all__ = ["main"]


def main() -> None:
    """Serve the facade until SIGTERM/SIGINT."""
    settings = ApiSettings()
    uvicorn.run(create_app(), host=settings.host, port=settings.port, log_level=settings.log_level)


if __name__ == "__main__":
    main()
