"""Who is calling: the identity behind a Bearer token, and decorators that require one."""

from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request

from scheduler.errors import Forbidden, Unauthorized
from scheduler.repositories import users
from scheduler.security import InvalidToken, decode_access_token
from scheduler_common.db import transaction


# --8<-- [start:identity]
@dataclass(frozen=True)
class Identity:
    """The authenticated user, as the database knows them right now."""

    user_id: int
    role: str
    is_verified: bool
    student_id: int | None
    instructor_id: int | None

    @property
    def is_admin(self) -> bool:
        """Admins may act for anyone."""
        return self.role == "admin"


def bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer …` header, None when there is no header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.", invalid=True)
    return token.strip()


# --8<-- [start:check-presented-token]
def check_presented_token() -> None:
    """Verify a token on every request that carries one: a bad token is a 401 even on a
    public route, so a client learns at once that it must log in again."""
    current_identity()
    # --8<-- [end:check-presented-token]


def current_identity() -> Identity | None:
    """Return the caller's identity (checked once per request), or None if anonymous."""
    if "identity" not in g:
        g.identity = load_identity()
    return g.identity


def load_identity() -> Identity | None:
    """Verify the Bearer token and load its user; a bad token is a 401, never anonymous."""
    token = bearer_token()
    if token is None:
        return None
    try:
        claims = decode_access_token(token, current_app.config["SECRET_KEY"])
        user_id = int(claims["sub"])
    except (InvalidToken, ValueError):
        raise Unauthorized("The access token is invalid or expired.", invalid=True) from None
    with transaction() as conn:
        user = users.get(conn, user_id)
    if user is None:
        raise Unauthorized("The access token's user no longer exists.", invalid=True)
    # Role and verification come from the database, not the token: a change takes effect
    # at once instead of when the token expires.
    return Identity(
        user_id=user["id"],
        role=user["role"],
        is_verified=user["is_verified"],
        student_id=user["student_id"],
        instructor_id=user["instructor_id"],
    )
    # --8<-- [end:identity]


# --8<-- [start:decorators]
def authenticated(view):
    """Let the view run only for a caller with a valid access token (else 401)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_identity() is None:
            raise Unauthorized("Log in and send the access token as 'Authorization: Bearer'.")
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles: str):
    """Let the view run only for an authenticated caller with one of these roles (else 403)."""

    def decorator(view):
        @wraps(view)
        @authenticated
        def wrapper(*args, **kwargs):
            if current_identity().role not in roles:
                raise Forbidden(f"This needs the role {' or '.join(roles)}.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
    # --8<-- [end:decorators]
