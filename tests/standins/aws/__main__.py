"""Serve moto (IAM auth on) with an estate for a demo or a benchmark, until interrupted.

    python -m tests.standins.aws --port 5000 --instances 100 --volumes 5 --vpcs 2 [--batch 50]

Prints one JSON line when ready: url, region, access_key_id/secret_access_key (user daytwo),
admin_access_key_id/admin_secret_access_key (every action, for seeding), role_arn. Plain HTTP: moto.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from .fixtures import run_moto


def main() -> None:
    """Parse arguments, start, print the ready line, serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--volumes", type=int, default=2)
    parser.add_argument("--vpcs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50, help="instances per run_instances call (= per reservation)")
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with run_moto(args.instances, args.volumes, args.vpcs, region=args.region, batch=args.batch, port=args.port) as aws:
        ready = {
            "url": aws.url,
            "region": aws.region,
            "access_key_id": aws.access_key_id,
            "secret_access_key": aws.secret_access_key,
            "admin_access_key_id": aws.admin_access_key_id,
            "admin_secret_access_key": aws.admin_secret_access_key,
            "role_arn": aws.role_arn,
        }
        print(json.dumps(ready), flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
