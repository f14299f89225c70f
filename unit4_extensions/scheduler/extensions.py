"""What create_app hangs on the app, for the Flask edge (routes, auth, CLI) to hand to services."""

from flask import Flask, current_app

from scheduler.services.auth import AuthSettings, new_dummy_hash
from scheduler.unit_of_work import Database
from scheduler_common.db import POOL_EXTENSION

DUMMY_HASH_EXTENSION = "scheduler_dummy_password_hash"


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
