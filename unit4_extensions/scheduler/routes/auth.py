"""/auth: register, verify, log in, refresh, log out, and who am I."""

from flask import Blueprint, request
from voluptuous import Required, Schema

from scheduler.auth import authenticated, current_identity
from scheduler.extensions import auth_settings, database
from scheduler.http import json_body
from scheduler.services import accounts, auth
from scheduler.validation import email, given_password, password, text, validate

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

# --8<-- [start:no-store]
# Tokens are credentials: no browser, proxy or CDN may keep a copy of a response carrying them.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# --8<-- [end:no-store]


# --8<-- [start:register]
@bp.post("/register")
def register():
    """Create a student account (unverified) and mail its verification token."""
    fields = validate(register_schema, json_body())
    user = accounts.register(database(), fields, auth_settings())
    return user, 201, {"Location": "/api/v1/auth/me"}
    # --8<-- [end:register]


# --8<-- [start:verify]
@bp.post("/verify")
def verify():
    """Spend a verification token; the account may then enroll."""
    token = validate(token_schema, json_body())["token"]
    return accounts.verify_email(database(), token, auth_settings())


@bp.post("/resend-verification")
def resend_verification():
    """Mail a new token if the address has an unverified account; answer the same either way."""
    address = validate(email_schema, json_body())["email"]
    accounts.resend_verification(database(), address, auth_settings())
    return {"detail": "If the address has an unverified account, a new token is on its way."}, 202
    # --8<-- [end:verify]


# --8<-- [start:login]
@bp.post("/login")
def login():
    """Exchange an email and password for an access token and a refresh token."""
    fields = validate(login_schema, json_body())
    client = request.remote_addr or ""
    tokens = auth.login(database(), fields["email"], fields["password"], client, auth_settings())
    return tokens, 200, NO_STORE
    # --8<-- [end:login]


# --8<-- [start:refresh-logout]
@bp.post("/refresh")
def refresh():
    """Exchange a refresh token for new tokens; each refresh token works once."""
    token = validate(refresh_schema, json_body())["refresh_token"]
    return auth.refresh(database(), token, auth_settings()), 200, NO_STORE


@bp.post("/logout")
def logout():
    """Revoke the login session that the refresh token belongs to."""
    token = validate(refresh_schema, json_body())["refresh_token"]
    auth.logout(database(), token, auth_settings())
    return "", 204
    # --8<-- [end:refresh-logout]


# --8<-- [start:me]
@bp.get("/me")
@authenticated
def me():
    """Show the account behind the access token."""
    return auth.account(database(), current_identity())
    # --8<-- [end:me]
