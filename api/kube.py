"""The facade's connection to Kubernetes, configured like the operator's (in-cluster or $KUBECONFIG)."""

from __future__ import annotations

from kubernetes import client, config

__all__ = ["api_client"]


def api_client() -> client.ApiClient:
    """A Kubernetes API client from in-cluster config, else $KUBECONFIG / ~/.kube/config."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)
    return client.ApiClient(configuration)
