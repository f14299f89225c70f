"""Statement and lock timeouts: the pool sets them on every connection it opens, and the
seed command, a batch job, is not held to the bound meant for requests."""

from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask

from scheduler_common.cli import register_commands
from scheduler_common.db import close_pool, init_pool, transaction

TIMEOUT_SETTINGS = (
    "SELECT current_setting('statement_timeout') AS statement,"
    " current_setting('lock_timeout') AS lock"
)


def app_with(database_url: str, **settings) -> Flask:
    """A bare app with a pool on `database_url` and these extra settings."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=database_url, DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=2, DB_POOL_TIMEOUT=2
    )
    app.config.update(settings)
    init_pool(app)
    return app


@pytest.fixture
def bounded_app(database_url: str) -> Iterator[Flask]:
    """An app whose pool bounds statements at 1.5 s and lock waits at 0.25 s."""
    app = app_with(database_url, DB_STATEMENT_TIMEOUT=1.5, DB_LOCK_TIMEOUT=0.25)
    yield app
    close_pool(app)


def test_every_pooled_connection_carries_the_configured_timeouts(bounded_app):
    with bounded_app.app_context(), transaction() as conn:
        assert conn.execute(TIMEOUT_SETTINGS).fetchone() == {"statement": "1500ms", "lock": "250ms"}


def test_without_the_settings_the_server_defaults_stay(database_url):
    app = app_with(database_url)
    try:
        with app.app_context(), transaction() as conn:
            assert conn.execute(TIMEOUT_SETTINGS).fetchone() == {"statement": "0", "lock": "0"}
    finally:
        close_pool(app)


def test_seed_is_not_cancelled_by_the_request_statement_timeout(empty_database_url, schema_creator):
    app = app_with(empty_database_url, DB_STATEMENT_TIMEOUT=0.001)  # 1 ms: any COPY is longer
    register_commands(app, schema_creator)
    with psycopg.connect(empty_database_url) as conn:
        schema_creator(conn)
    try:
        result = app.test_cli_runner().invoke(args=["seed"])
    finally:
        close_pool(app)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Seeded: ")


def test_server_options_already_in_the_url_are_kept(database_url):
    app = app_with(f"{database_url} options='-c work_mem=8MB'", DB_LOCK_TIMEOUT=0.25)
    try:
        with app.app_context(), transaction() as conn:
            settings = conn.execute(
                "SELECT current_setting('work_mem') AS work_mem,"
                " current_setting('lock_timeout') AS lock"
            ).fetchone()
    finally:
        close_pool(app)

    assert settings == {"work_mem": "8MB", "lock": "250ms"}
