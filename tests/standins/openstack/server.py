"""Run the stand-in with uvicorn on 127.0.0.1, in a background thread or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from .clock import Clock
from .faults import FaultInjector, Journal, TrackingH11Protocol
from .model import Delays, Model
from .seed import SeedInfo, seed

__all__ = ["StandIn"]


class StandIn:
    """One stand-in cloud: model + clock + faults + journal, served over HTTP.

    ``base_url`` is the root; Keystone's auth URL is ``auth_url`` (``.../identity/v3``).
    """

    def __init__(
        self,
        seed_name: str = "small",
        *,
        clock_mode: str = "manual",
        port: int = 0,
        token_lifetime: float = 3600.0,
        delays: Delays | None = None,
        seed_value: int = 42,
    ) -> None:
        self.seed_name = seed_name
        self.seed_value = seed_value
        self.token_lifetime = token_lifetime
        self.delays = delays or Delays()
        self.clock = Clock(clock_mode)
        self.faults = FaultInjector()
        self.journal = Journal()
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on TCP-protocol sockets; without it, every answer
        # on a kept-alive connection waited ~40 ms for the client's delayed ACK (Nagle)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.auth_url = f"{self.base_url}/identity/v3"
        self.app_state: Any = None
        self.model, self.info = self._fresh_model()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _fresh_model(self) -> tuple[Model, SeedInfo]:
        self.clock.clear_listeners()
        model = Model(clock=self.clock, token_lifetime=self.token_lifetime, delays=Delays(**vars(self.delays)))
        return model, seed(model, self.seed_name, self.seed_value)

    def reset(self) -> None:
        """Re-seed the estate, reset the clock, clear faults and the journal."""
        self.faults.clear()
        self.clock.reset()
        self.model, self.info = self._fresh_model()
        if self.app_state is not None:
            self.app_state.model = self.model
        self.journal.clear()

    def _config(self) -> uvicorn.Config:
        from .app import build_app

        return uvicorn.Config(
            build_app(self),
            log_level="warning",
            access_log=False,
            lifespan="off",
            http=TrackingH11Protocol,
            ws="none",
            timeout_graceful_shutdown=1,
        )

    def start(self) -> StandIn:
        """Serve in a daemon thread; returns once it accepts connections."""
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"openstack-standin-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the OpenStack stand-in did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground (the ``python -m`` entry point)."""
        self._server = uvicorn.Server(self._config())
        self._server.run(sockets=[self._sock])

    def stop(self) -> None:
        """Stop serving and release hung requests."""
        self.faults.clear()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def clouds_yaml(self, path: str | Path, *, name: str = "standin") -> Path:
        """Write a clouds.yaml whose ``name`` entry is the seeded admin user."""
        target = Path(path)
        cloud = {
            "auth": {
                "auth_url": self.auth_url,
                "username": self.info.admin_username,
                "password": self.info.admin_password,
                "project_name": self.info.admin_project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "auth_type": "password",
            "region_name": self.model.region,
            "interface": "public",
            "identity_api_version": 3,
        }
        target.write_text(yaml.safe_dump({"clouds": {name: cloud}}, sort_keys=False))
        return target
