"""Serve the Proxmox stand-in for a demo or a benchmark, until interrupted.

    python -m tests.standins.proxmox --port 8006 --nodes 2 --guests 10 \\
        --write-ca ca.pem --write-token token.json

Prints one JSON line when ready: {"url", "host", "port", "token_id", "nodes", "guests"}. --guests is per node.
The token file holds {"token_id", "token_secret", "nopower_token_id", "nopower_token_secret"} (mode 0600).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import tempfile

from ._pki import CertificateAuthority
from .fixtures import HOST, NOPOWER_TOKEN_ID, TOKEN_ID, build_fakepve


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


async def _serve(args: argparse.Namespace) -> None:
    ca = CertificateAuthority("daytwo demo CA")
    workdir = tempfile.mkdtemp(prefix="daytwo-fakepve-")
    pve, guests, tokens = build_fakepve(
        args.nodes,
        args.guests,
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        token_secret=args.token_secret,
    )
    try:
        server = ca.issue(workdir, (args.host, "localhost"))
        await pve.start(server.certfile, server.keyfile)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.write_ca:
        with open(args.write_ca, "w", encoding="ascii") as out:
            out.write(ca.pem)
    if args.write_token:
        _write_private(
            args.write_token,
            json.dumps(
                {
                    "token_id": TOKEN_ID,
                    "token_secret": tokens[TOKEN_ID],
                    "nopower_token_id": NOPOWER_TOKEN_ID,
                    "nopower_token_secret": tokens[NOPOWER_TOKEN_ID],
                }
            ),
        )
    print(
        json.dumps(
            {
                "url": pve.url,
                "host": pve.host,
                "port": pve.port,
                "token_id": TOKEN_ID,
                "nodes": len(pve.nodes),
                "guests": len(guests),
            }
        ),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await pve.stop()


def main() -> None:
    """Parse the command line and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.standins.proxmox", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8006, help="0 picks a free port (printed when ready)")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--guests", type=int, default=10, help="guests per node")
    parser.add_argument("--time-scale", type=float, default=1.0, help="real seconds per PVE second")
    parser.add_argument("--token-secret", help="secret of the operator token (default: random)")
    parser.add_argument("--write-ca", metavar="PATH", help="write the CA certificate (PEM) to trust")
    parser.add_argument("--write-token", metavar="PATH", help="write the API tokens as JSON (mode 0600)")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
