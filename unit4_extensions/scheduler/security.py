"""Passwords, access tokens and one-time tokens: the security primitives, in one place."""

import hashlib
import os
import secrets
import threading
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt

# --8<-- [start:constants]
ALGORITHM = "HS256"  # pinned: a token that names another algorithm (or "none") is refused
MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything past 72 bytes, so longer is refused
# --8<-- [end:constants]

# --8<-- [start:hashing-slot]
# bcrypt is CPU work that releases the GIL, so every thread of a process could hash at once:
# thirty-two logins would then share the cores with every cheap request, which waits behind
# them. A process hashes at most one password per core at a time; a login waiting for a slot
# holds a thread, and nothing else: no core, no lock, no database connection (lesson 2.1).
HASHING_SLOTS = os.cpu_count() or 1
HASHING = threading.BoundedSemaphore(HASHING_SLOTS)
# --8<-- [end:hashing-slot]


class InvalidToken(Exception):
    """An access token that is missing claims, expired, not yet valid or forged."""


# --8<-- [start:passwords]
def hash_password(password: str, rounds: int) -> str:
    """Return a bcrypt hash of the password (which must be 8–72 bytes in UTF-8)."""
    with HASHING:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def password_matches(password: str, password_hash: str) -> bool:
    """Say whether the password matches the bcrypt hash. No stored password is over 72 bytes
    (and bcrypt refuses to check one), so a longer one is wrong: its first 72 bytes are still
    checked, so that the answer takes as long as any other."""
    candidate = password.encode()
    with HASHING:
        matches = bcrypt.checkpw(candidate[:MAX_PASSWORD_BYTES], password_hash.encode())
    return matches and len(candidate) <= MAX_PASSWORD_BYTES
    # --8<-- [end:passwords]


# --8<-- [start:access-tokens]
def create_access_token(
    user: dict, secret: str, lifetime: timedelta, now: datetime | None = None
) -> str:
    """Sign a short-lived access token naming the user and their role, issued `now`."""
    now = now or datetime.now(UTC)
    claims = {"sub": str(user["id"]), "role": user["role"], "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str, now: datetime | None = None) -> dict:
    """Return the claims of a valid access token, or raise InvalidToken. Its times are checked
    against `now` (the app's clock) rather than PyJWT's own, so tests can move the clock."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "require": ["sub", "role", "iat", "exp"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    instant = (now or datetime.now(UTC)).timestamp()
    issued, expires = claims["iat"], claims["exp"]
    if not all(
        isinstance(value, int | float) and not isinstance(value, bool)
        for value in (issued, expires)
    ):
        raise InvalidToken("The iat and exp claims must be numbers.")
    if expires <= instant:
        raise InvalidToken("The token has expired.")
    if issued > instant:
        raise InvalidToken("The token was issued in the future.")
    return claims
    # --8<-- [end:access-tokens]


# --8<-- [start:opaque-tokens]
def new_opaque_token() -> str:
    """Return a random, URL-safe one-time token (verification mails, refresh tokens)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the SHA-256 of a one-time token: only hashes are stored, so a leaked table
    holds nothing usable. (Random tokens need no slow hash: they cannot be guessed.)"""
    return hashlib.sha256(token.encode()).hexdigest()
    # --8<-- [end:opaque-tokens]
