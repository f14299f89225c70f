"""/auth: register, verify, log in, refresh, log out, and who am I."""

from flask import Blueprint, current_app, request
from voluptuous import Required, Schema

from scheduler.auth import authenticated, current_identity
from scheduler.errors import Unauthorized
from scheduler.http import json_body
from scheduler.repositories import users
from scheduler.services import auth
from scheduler.services.auth import AuthSettings
from scheduler.validation import email, given_password, password, text, validate
from scheduler_common.db import transaction

bp = Blueprint("auth", __name__, url_prefix="/auth")

# --8<-- [start:schemas]
# Unknown fields are refused: a registration can never set its role or verification.
register_schema = Schema(
    {Required("email"): email, Required("password"): password, Required("full_name"): text(200)}
)
login_schema = Schema({Required("email"): email, Required("password"): given_password})
token_schema = Schema({Required("token"): text(200)})
email_schema = Schema({Required("email"): email})
refresh_schema = Schema({Required("refresh_token"): text(200)})
# --8<-- [end:schemas]

WRONG_CREDENTIALS = "The email or password is wrong."


def settings() -> AuthSettings:
    """The app's authentication settings."""
    return AuthSettings.from_config(current_app.config)


# --8<-- [start:register]
@bp.post("/register")
def register():
    """Create a student account (unverified) and mail its verification token."""
    fields = validate(register_schema, json_body())
    with transaction() as conn:
        user = auth.register(conn, fields, settings())
    return user, 201, {"Location": "/api/v1/auth/me"}
    # --8<-- [end:register]


# --8<-- [start:verify]
@bp.post("/verify")
def verify():
    """Spend a verification token; the account may then enroll."""
    token = validate(token_schema, json_body())["token"]
    with transaction() as conn:
        return auth.verify_email(conn, token)


@bp.post("/resend-verification")
def resend_verification():
    """Mail a new token if the address has an unverified account; answer the same either way."""
    address = validate(email_schema, json_body())["email"]
    with transaction() as conn:
        auth.resend_verification(conn, address, settings())
    return {"detail": "If the address has an unverified account, a new token is on its way."}, 202
    # --8<-- [end:verify]


# --8<-- [start:login]
@bp.post("/login")
def login():
    """Exchange an email and password for an access token and a refresh token."""
    fields = validate(login_schema, json_body())
    with transaction() as conn:
        tokens = auth.login(
            conn, fields["email"], fields["password"], request.remote_addr or "", settings()
        )
    # Raised after the transaction, so the recorded failure is kept for throttling.
    if tokens is None:
        raise Unauthorized(WRONG_CREDENTIALS)
    return tokens
    # --8<-- [end:login]


# --8<-- [start:refresh-logout]
@bp.post("/refresh")
def refresh():
    """Exchange a refresh token for new tokens; each refresh token works once."""
    token = validate(refresh_schema, json_body())["refresh_token"]
    with transaction() as conn:
        tokens = auth.refresh(conn, token, settings())
    # Raised after the transaction, so a reuse's revocation of the family is kept.
    if tokens is None:
        raise Unauthorized("The refresh token is invalid, expired or revoked.", invalid=True)
    return tokens


@bp.post("/logout")
def logout():
    """Revoke the login session that the refresh token belongs to."""
    token = validate(refresh_schema, json_body())["refresh_token"]
    with transaction() as conn:
        auth.logout(conn, token)
    return "", 204
    # --8<-- [end:refresh-logout]


# --8<-- [start:me]
@bp.get("/me")
@authenticated
def me():
    """Show the account behind the access token."""
    with transaction() as conn:
        return users.get(conn, current_identity().user_id)
    # --8<-- [end:me]
