"""Serve the Vault KV v2 stand-in until interrupted.

python -m tests.standins.vault --port 18200 --token root --namespace horcrux --mount secret
"""

from __future__ import annotations

import argparse
import contextlib
import json

from .server import VaultStandin


def main() -> None:
    """Parse arguments, print the ready line (address), serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="root")
    parser.add_argument("--namespace", default="")
    parser.add_argument("--mount", action="append", default=[])
    args = parser.parse_args()
    standin = VaultStandin(args.token, args.namespace, tuple(args.mount or ["secret"]), args.port)
    print(json.dumps({"address": standin.address, "namespace": standin.namespace}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        standin.serve_forever()


if __name__ == "__main__":
    main()
