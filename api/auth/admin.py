"""``python -m daytwo.api.auth.admin``: list the facade's accounts and grant roles, from the facade's Pod.

Self-registered accounts are ``pending`` (no permissions) until an administrator grants a role.
User records are HMAC-signed with a key derived from the JWT secret, so a hand-edited Secret stops
authenticating; this command rewrites the record properly. It reads the same ``DAYTWO_API_*``
settings as the facade and acts with the identity it finds (in the Pod: the facade's
ServiceAccount), e.g.::

    kubectl -n daytwo-system exec deploy/daytwo-facade -- python -m daytwo.api.auth.admin list
    kubectl -n daytwo-system exec deploy/daytwo-facade -- python -m daytwo.api.auth.admin set-role alice viewer

Running facades see the change through their watch at once (the role is read from the record on
every request, not from the token). Exit codes: 0 done, 1 refused (unknown user or role), 2 bad settings.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ApiError
from ..settings import ApiSettings, settings_from_environment
from .accounts import SECRETS, Accounts
from .roles import ROLES
from .service import AuthService

__all__ = ["main"]


def _service(settings: ApiSettings) -> AuthService:
    """An AuthService over the served namespace's account Secrets (listed once, written as this identity)."""
    from ..kube import KubeSource, api_client, request_json
    from ..kubewrite import kube_error

    kube = api_client()
    secret = settings.jwt_secret.get_secret_value()

    def write(method: str, path: str, body: Any, content_type: str) -> Any:
        try:
            return request_json(kube, method, path, body=body, content_type=content_type)
        except Exception as error:
            raise kube_error(error) from error

    accounts = Accounts(settings.namespace, secret, None, write)
    items, version = KubeSource(kube).list(SECRETS, settings.namespace)
    accounts.watcher.replace(items, version, notify=False)
    return AuthService(accounts, secret, settings.token_lifetime_seconds, 1, 1)


def run(service: AuthService, argv: list[str]) -> int:
    """Carry out one command (``list`` or ``set-role USER ROLE``) against ``service``; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m daytwo.api.auth.admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="users, their roles and whether they are active")
    grant = commands.add_parser("set-role", help="give a user a role (e.g. approve a pending account)")
    grant.add_argument("username")
    grant.add_argument("role", choices=ROLES)
    args = parser.parse_args(argv)
    if args.command == "list":
        for user in service.accounts.users():
            print(f"{user.username}\t{user.role}\t{'active' if user.active else 'inactive'}")
        return 0
    try:
        user = service.set_role(args.username, args.role)
    except ApiError as error:
        print(f"daytwo-api admin: {error.message}", file=sys.stderr)
        return 1
    print(f"{user.username}: role {user.role}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: settings from the environment, then :func:`run`."""
    settings = settings_from_environment("daytwo-api admin")
    if settings is None:
        return 2
    return run(_service(settings), sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
