"""``python -m tests.standins.openstack --port N --seed demo|small|large --clouds-yaml PATH``."""

from __future__ import annotations

import argparse
import contextlib
import sys

from .seed import SIZES
from .server import StandIn


def main(argv: list[str] | None = None) -> int:
    """Serve a stand-in cloud in the foreground until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.standins.openstack", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--seed", choices=sorted(SIZES), default="demo")
    parser.add_argument("--clouds-yaml", help="write a clouds.yaml with a 'standin' entry here")
    parser.add_argument(
        "--clock",
        choices=("real", "manual"),
        default="real",
        help="real: transitions follow wall time; manual: POST /_standin/clock/advance",
    )
    parser.add_argument("--token-lifetime", type=float, default=3600.0)
    args = parser.parse_args(argv)
    standin = StandIn(args.seed, clock_mode=args.clock, port=args.port, token_lifetime=args.token_lifetime)
    if args.clouds_yaml:
        standin.clouds_yaml(args.clouds_yaml)
    print(f"OpenStack stand-in ({args.seed}) on {standin.base_url}  auth_url={standin.auth_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        standin.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
