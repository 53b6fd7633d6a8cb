"""Serve the GCP stand-in (OAuth token + Compute over TLS) for a demo or a benchmark, until interrupted.

    python -m tests.standins.gcp --port 8444 --instances 20 --disks 5 --networks 3 [--write-key key.json]

Prints one JSON line when ready: url (Compute endpoint override), token_uri, ca_file, project_id,
service_account_email, key_file (the demo service-account key JSON, mode 0600, made up at start).
"""

from __future__ import annotations

import argparse
import json
import os

from .fixtures import build_standin


def main() -> None:
    """Parse arguments, start, print the ready line, serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--disks", type=int, default=2)
    parser.add_argument("--networks", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--write-key", help="where to write the key JSON (default: next to the CA)")
    args = parser.parse_args()
    standin = build_standin(args.instances, args.disks, args.networks, page_size=args.page_size, port=args.port)
    key_file = args.write_key or os.path.join(os.path.dirname(standin.server.ca_file), "key.json")
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(standin.service_account_json)
    ready = {
        "url": standin.url,
        "token_uri": standin.token_uri,
        "ca_file": standin.server.ca_file,
        "project_id": standin.project_id,
        "service_account_email": standin.reader.email,
        "key_file": os.path.abspath(key_file),
    }
    print(json.dumps(ready), flush=True)
    try:
        standin.server.serve_forever()
    finally:
        standin.server.stop()


if __name__ == "__main__":
    main()
