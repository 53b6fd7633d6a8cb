"""Passwords (argon2id), API keys (``hx_...``, stored as SHA-256), JWTs (HS256 with ``jti`` and expiry).

API keys are 32 random bytes, so a fast hash is safe for them (nothing to brute-force) and lets a
request find its key in O(1); passwords are people's, so they get argon2id. User and key records
are HMAC-signed with a key derived from the JWT secret: a Secret edited by hand (say, someone with
Secret write access promoting themselves to superadmin) no longer authenticates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "API_KEY_PREFIX",
    "Claims",
    "decode_token",
    "hash_api_key",
    "hash_password",
    "issue_token",
    "new_api_key",
    "sign_record",
    "verify_password",
]

API_KEY_PREFIX = "hx_"
ALGORITHM = "HS256"
ISSUER = "daytwo-api"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """argon2id hash (with its own salt and parameters) of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for a malformed hash)."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_key() -> str:
    """A fresh API key: ``hx_`` + 43 url-safe characters (256 bits). Shown once, never stored."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of an API key (hex SHA-256)."""
    return hashlib.sha256(key.encode()).hexdigest()


def sign_record(secret: str, fields: dict[str, str]) -> str:
    """HMAC-SHA256 over the record's sorted fields, keyed by a derivation of the JWT secret."""
    key = hmac.new(secret.encode(), b"daytwo-api record signature", hashlib.sha256).digest()
    message = "\n".join(f"{k}={fields[k]}" for k in sorted(fields)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    username: str
    role: str
    jti: str
    expires_at: datetime
    #: the user's token generation when issued; a password change bumps the user's, killing older tokens
    generation: int = 0


def issue_token(
    secret: str,
    username: str,
    role: str,
    lifetime: timedelta,
    now: datetime | None = None,
    generation: int = 0,
) -> tuple[str, Claims]:
    """A signed JWT for ``username`` expiring after ``lifetime`` (claim ``gen``: the user's token generation)."""
    issued = now or datetime.now(UTC)
    claims = Claims(username, role, uuid.uuid4().hex, (issued + lifetime).replace(microsecond=0), generation)
    payload: dict[str, Any] = {
        "sub": username,
        "role": role,
        "gen": generation,
        "jti": claims.jti,
        "iat": int(issued.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
        "iss": ISSUER,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


def decode_token(secret: str, token: str) -> Claims | None:
    """The claims of a valid, unexpired token; None for anything else (bad signature, expired, malformed)."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "jti", "sub", "iat"]}
        )
    except jwt.PyJWTError:
        return None
    return Claims(
        str(payload["sub"]),
        str(payload.get("role", "")),
        str(payload["jti"]),
        datetime.fromtimestamp(payload["exp"], UTC),
        int(payload.get("gen", 0)) if isinstance(payload.get("gen", 0), int) else -1,
    )
