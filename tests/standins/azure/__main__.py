"""Serve the Azure stand-in (Entra token + ARM over TLS) for a demo or a benchmark, until interrupted.

    python -m tests.standins.azure --port 8443 --vms 20 --disks 5 --vnets 3 --page-size 50 [--write-ca ca.pem]

Prints one JSON line when ready: url (authority host and management endpoint), ca_file, tenant_id,
subscription_id, client_id, client_secret (a demo secret, made up at start).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

from .fixtures import build_standin


def main() -> None:
    """Parse arguments, start, print the ready line, serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--vms", type=int, default=4)
    parser.add_argument("--disks", type=int, default=2)
    parser.add_argument("--vnets", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--write-ca", help="also copy the CA certificate (PEM) here")
    args = parser.parse_args()
    standin = build_standin(args.vms, args.disks, args.vnets, page_size=args.page_size, port=args.port)
    ca_file = standin.server.ca_file
    if args.write_ca:
        shutil.copyfile(ca_file, args.write_ca)
        ca_file = os.path.abspath(args.write_ca)
    ready = {
        "url": standin.url,
        "ca_file": ca_file,
        "tenant_id": standin.tenant_id,
        "subscription_id": standin.subscription_id,
        "client_id": standin.client_id,
        "client_secret": standin.client_secret,
    }
    print(json.dumps(ready), flush=True)
    try:
        standin.server.serve_forever()
    finally:
        standin.server.stop()


if __name__ == "__main__":
    main()
