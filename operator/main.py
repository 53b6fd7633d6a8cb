"""``daytwo-operator``: the Kopf operator process."""

from __future__ import annotations

from collections.abc import Mapping

from kubernetes.client.exceptions import ApiException

from .handlers.runner import run
from .kube import kube_client
from .observability import start_polling
from .settings import OperatorSettings

__all__ = ["main"]


def _configmap(namespace: str, name: str) -> Mapping[str, str] | None:
    """The ConfigMap's data, None when it does not exist."""
    try:
        found = kube_client().core.read_namespaced_config_map(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return dict(found.data or {})


def _secret(namespace: str, name: str) -> Mapping[str, str]:
    """The values of an opted-in Secret ({} when absent or not opted in)."""
    found = kube_client().read_secret(namespace, name, values=True)
    return found.values if found is not None else {}


def main() -> None:
    """Read settings from the environment and run the operator until SIGTERM/SIGINT."""
    settings = OperatorSettings()
    poller = start_polling(settings.observability_configmap, settings.observability_reload_seconds, _configmap, _secret)
    try:
        run(settings)
    finally:
        if poller is not None:
            poller.stop()


if __name__ == "__main__":
    main()
