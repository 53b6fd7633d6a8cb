"""``daytwo-api``: the REST facade process (uvicorn)."""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from .app import create_app
from .settings import ApiSettings

__all__ = ["main"]


def main() -> None:
    """Serve the facade until SIGTERM/SIGINT; exit 2 with a readable message on bad settings."""
    try:
        settings = ApiSettings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            print(f"daytwo-api: DAYTWO_API_{where.upper()}: {problem['msg']}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


if __name__ == "__main__":
    main()
