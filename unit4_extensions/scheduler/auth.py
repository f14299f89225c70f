"""The Flask edge of authentication: read the Bearer token, build the caller's `Identity`
once per request, and decorators for who may call an endpoint at all."""

from functools import wraps

from flask import current_app, g, request

from scheduler.clock import utc_now
from scheduler.extensions import database, oidc_verifier
from scheduler.identity import Identity
from scheduler.jwks import IssuerUnavailable
from scheduler.oidc import ExternalTokenInvalid
from scheduler.security import InvalidToken, decode_access_token
from scheduler.services import auth as auth_service
from scheduler.services import external_auth
from scheduler.services.errors import Forbidden, NotAuthenticated, TokenRejected, Unavailable


# --8<-- [start:identity]
def bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer …` header, None when there is no header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("The Authorization header must be 'Bearer <token>'.")
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
    if oidc_verifier().claims_configured_issuer(token):
        return load_external_identity(token)
    try:
        config = current_app.config
        claims = decode_access_token(token, config["SECRET_KEY"], config.get("CLOCK", utc_now)())
        user_id = int(claims["sub"])
    except (InvalidToken, ValueError):
        raise TokenRejected("The access token is invalid or expired.") from None
    return auth_service.identity_of(database(), user_id)
    # --8<-- [end:identity]


# --8<-- [start:external-identity]
def load_external_identity(token: str) -> Identity:
    """Check a token from a configured OpenID Connect issuer and load (or make) its user. An
    issuer whose keys cannot be fetched is a 503: the token may be fine, we cannot tell yet."""
    config = current_app.config
    try:
        external = oidc_verifier().verify(token, config.get("CLOCK", utc_now)())
    except ExternalTokenInvalid as error:
        raise TokenRejected(str(error)) from None
    except IssuerUnavailable:
        raise Unavailable(
            "The identity provider that issued the token cannot be reached. Try again shortly.",
            retry_after=config["OIDC_JWKS_MIN_REFETCH_INTERVAL"],
        ) from None
    return external_auth.sign_in(database(), external, config["BCRYPT_ROUNDS"])
    # --8<-- [end:external-identity]


# --8<-- [start:decorators]
def authenticated(view):
    """Let the view run only for a caller with a valid access token (else 401)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_identity() is None:
            raise NotAuthenticated("Log in and send the access token as 'Authorization: Bearer'.")
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
