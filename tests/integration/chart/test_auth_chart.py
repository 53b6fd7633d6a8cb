"""The chart's facade auth settings (issue 16): registration off, account limits, forwarded IPs with the ingress."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.helm import CHART, render

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)


def facade_env(objects: list[dict[str, Any]]) -> dict[str, str]:
    """The plain env values of the facade container."""
    (deployment,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "daytwo-facade"]
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    return {e["name"]: e["value"] for e in env if "value" in e}


def test_defaults_keep_registration_off_and_set_the_account_limits() -> None:
    env = facade_env(render(kinds={"Deployment"}))
    assert env["DAYTWO_API_ALLOW_REGISTRATION"] == "false"
    assert env["DAYTWO_API_LOGIN_ACCOUNT_FAILURES"] == "5"
    assert env["DAYTWO_API_LOGIN_ACCOUNT_MAX_BACKOFF_SECONDS"] == "900"
    assert env["DAYTWO_API_API_KEYS_PER_USER"] == "10" and env["DAYTWO_API_API_KEY_LIFETIME_DAYS"] == "90"
    assert "DAYTWO_API_FORWARDED_ALLOW_IPS" not in env  # no ingress: the peer address is the client


def test_the_ingress_wires_the_forwarded_ips() -> None:
    env = facade_env(render(values_files=[CHART / "ci" / "everything-values.yaml"], kinds={"Deployment"}))
    assert env["DAYTWO_API_FORWARDED_ALLOW_IPS"] == "10.244.0.0/16,fd00:10:244::/56"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["facade.ingress.enabled=true"], "forwardedAllowIps"),
        (["facade.ingress.enabled=true", "facade.ingress.forwardedAllowIps[0]=not-an-ip"], "forwardedAllowIps"),
        (["facade.auth.apiKeysPerUser=0"], "apiKeysPerUser"),
    ],
)
def test_bad_values_are_refused(values: list[str], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        render(values=values, kinds={"Deployment"})


def test_the_pending_group_is_neither_bound_nor_impersonable() -> None:
    objects = render(kinds={"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"})
    subjects = [s.get("name") for o in objects for s in o.get("subjects") or []]
    assert "daytwo:viewer" in subjects and "daytwo:pending" not in subjects
    names = [n for o in objects for rule in o.get("rules") or [] for n in rule.get("resourceNames") or []]
    assert "daytwo:viewer" in names and "daytwo:pending" not in names
