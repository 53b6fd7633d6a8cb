"""``daytwo-api``: the REST facade process (uvicorn)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from .app import create_app
from .auth.proxy import serving_app, warn_anonymous
from .settings import settings_from_environment
from .tls import SERVING

__all__ = ["main"]


def main() -> None:
    """Serve the facade until SIGTERM/SIGINT; exit 2 with a readable message on bad settings."""
    settings = settings_from_environment("daytwo-api")
    if settings is None:
        sys.exit(2)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    context = SERVING.enable() if settings.tls_secret else None  # HTTPS, reloaded from the Secret (api/tls.py)
    warn_anonymous(settings)  # one WARNING per API that serves callers without credentials
    uvicorn.run(
        # the TCP peer is recorded before X-Forwarded-For is applied: the auth-proxy trust decides on it
        serving_app(create_app(settings), settings.forwarded_allow_ips),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        proxy_headers=False,  # applied inside serving_app, after the peer is recorded
        ssl_context_factory=(lambda _config, _default: context) if context is not None else None,
    )


if __name__ == "__main__":
    main()
