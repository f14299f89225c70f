"""What create_app hangs on the app, for the Flask edge (routes, auth, CLI) to hand to services."""

from datetime import timedelta

from flask import Flask, current_app

from scheduler.jwks import KeySettings
from scheduler.oidc import Verifier, parse_issuers
from scheduler.services.auth import AuthSettings, new_dummy_hash
from scheduler.unit_of_work import Database
from scheduler_common.db import POOL_EXTENSION

DUMMY_HASH_EXTENSION = "scheduler_dummy_password_hash"
OIDC_EXTENSION = "scheduler_oidc_verifier"


# --8<-- [start:database]
def database() -> Database:
    """The unit of work on the app's connection pool (looked up each time: the pool may be
    replaced, as the tests do for every test database)."""
    return Database(current_app.extensions[POOL_EXTENSION])
    # --8<-- [end:database]


# --8<-- [start:dummy-hash]
def init_dummy_hash(app: Flask) -> None:
    """Hash the stand-in for unknown emails at start-up, so that no login waits for it."""
    app.extensions[DUMMY_HASH_EXTENSION] = new_dummy_hash(app.config["BCRYPT_ROUNDS"])
    # --8<-- [end:dummy-hash]


def auth_settings() -> AuthSettings:
    """The app's authentication settings."""
    return AuthSettings.from_config(
        current_app.config, current_app.extensions[DUMMY_HASH_EXTENSION]
    )


# --8<-- [start:oidc]
def init_oidc(app: Flask) -> None:
    """Set up the checker of external tokens: one key cache per configured issuer, kept for
    the process's life (its keys are fetched when a first token needs them)."""
    config = app.config
    settings = KeySettings(
        cache_lifetime=timedelta(seconds=config["OIDC_JWKS_CACHE_TTL"]),
        min_refetch_interval=timedelta(seconds=config["OIDC_JWKS_MIN_REFETCH_INTERVAL"]),
        leeway=timedelta(seconds=config["OIDC_LEEWAY"]),
        http_timeout=config["OIDC_HTTP_TIMEOUT"],
    )
    app.extensions[OIDC_EXTENSION] = Verifier(parse_issuers(config["OIDC_ISSUERS"]), settings)


def oidc_verifier() -> Verifier:
    """The app's checker of external tokens."""
    return current_app.extensions[OIDC_EXTENSION]
    # --8<-- [end:oidc]
