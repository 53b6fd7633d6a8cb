"""The chart's auth-proxy and anonymous-role values (issue 24 item 2): off by default, wired to the facade."""

from __future__ import annotations

import pytest
from daytwo.api.auth.proxy import ProxyAuth, anonymous_roles
from daytwo.api.settings import ApiSettings

from tests.harness.fakes import TEST_SECRET
from tests.harness.helm import render
from tests.integration.chart.test_auth_chart import facade_env

pytestmark = pytest.mark.timeout(900)  # the first call may build helm (hack/build-tools.sh)


def settings_of(env: dict[str, str]) -> ApiSettings:
    """The facade's settings from the rendered env (as pydantic-settings reads DAYTWO_API_*)."""
    mp = pytest.MonkeyPatch()
    try:
        for name, value in env.items():
            if name.startswith("DAYTWO_API_"):
                mp.setenv(name, value)
        mp.setenv("DAYTWO_API_JWT_SECRET", TEST_SECRET)
        return ApiSettings()
    finally:
        mp.undo()


def test_proxy_and_anonymous_access_are_off_by_default() -> None:
    env = facade_env(render(kinds={"Deployment"}))
    assert not any(n.startswith(("DAYTWO_API_AUTH_PROXY_", "DAYTWO_API_ANONYMOUS_ROLE_")) for n in env)


def test_the_values_reach_the_facade_settings() -> None:
    values = [
        "facade.auth.proxy.addresses[0]=10.42.0.0/16",
        "facade.auth.proxy.groupRoles.ops=operator",
        "facade.auth.proxy.userHeaders[0]=Remote-User",
        "facade.auth.anonymousRoles.pmi=viewer",
    ]
    settings = settings_of(facade_env(render(values=values, kinds={"Deployment"})))
    proxy = ProxyAuth.from_settings(settings)
    assert proxy.trusts("10.42.3.4") and not proxy.trusts("10.43.0.1")
    assert proxy.user_headers == ("remote-user",) and dict(proxy.group_roles) == {"ops": "operator"}
    assert anonymous_roles(settings) == {"pmi": "viewer"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["facade.auth.anonymousRoles.pmi=admin"], "anonymousRoles"),
        (["facade.auth.anonymousRoles.other=viewer"], "anonymousRoles"),
        (["facade.auth.proxy.addresses[0]=proxy.local"], "addresses"),
        (["facade.auth.proxy.groupRoles.ops=pending"], "groupRoles"),
    ],
)
def test_bad_values_are_refused(values: list[str], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        render(values=values, kinds={"Deployment"})
