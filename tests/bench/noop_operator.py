"""The baseline of the operator benchmarks: a Kopf operator that does nothing but patch
``status.observedGeneration`` of every daytwo object it sees.

    KUBECONFIG=... python -m tests.bench.noop_operator --namespace NS --port 8099

One ``@kopf.on.event`` handler per daytwo kind (no finalizer, no progress annotations, no daemons),
patching only when the observed generation differs, standalone (no peering), watching one namespace:
what any Kopf operator pays to list, watch and patch the same objects on the same apiserver.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import kopf
from daytwo.crds.base import GROUP, VERSION
from daytwo.crds.kinds import KINDS


def observe(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    """Record the object's generation as observed (once per generation)."""
    generation = body.metadata.get("generation")
    if generation is not None and body.status.get("observedGeneration") != generation:
        patch.status["observedGeneration"] = generation


def main() -> None:
    """Register the handler for every daytwo kind and run Kopf until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--port", type=int, required=True, help="liveness endpoint on 127.0.0.1")
    args = parser.parse_args()
    kopf.configure(verbose=False, log_format=kopf.LogFormat.PLAIN)
    logging.getLogger().setLevel(logging.WARNING)
    for definition in KINDS:
        kopf.on.event(GROUP, VERSION, definition.info.plural)(observe)

    @kopf.on.startup()
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False
        settings.watching.server_timeout = 300
        settings.networking.request_timeout = 60

    kopf.run(
        standalone=True,
        namespaces=[args.namespace],
        liveness_endpoint=f"http://127.0.0.1:{args.port}/healthz",
    )


if __name__ == "__main__":
    main()
