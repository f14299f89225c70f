"""Connection plumbing: one psycopg pool per Flask app, dict rows, one transaction per block."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from flask import Flask, current_app
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

POOL_EXTENSION = "scheduler_db_pool"


def init_pool(app: Flask) -> ConnectionPool:
    """Give the app a connection pool for `DATABASE_URL`; it connects in the background."""
    pool = ConnectionPool(
        app.config["DATABASE_URL"],
        min_size=app.config["DB_POOL_MIN_SIZE"],
        max_size=app.config["DB_POOL_MAX_SIZE"],
        timeout=app.config["DB_POOL_TIMEOUT"],
        kwargs={"row_factory": dict_row},
        # A connection the server dropped (restart, failover) is replaced before it is
        # handed out, so the app recovers from an outage without being restarted.
        check=ConnectionPool.check_connection,
        configure=bounded_waits(
            app.config.get("DB_STATEMENT_TIMEOUT"), app.config.get("DB_LOCK_TIMEOUT")
        ),
        open=False,
        name=app.import_name,
    )
    pool.open(wait=False)
    app.extensions[POOL_EXTENSION] = pool
    return pool


# --8<-- [start:bounded-waits]
def bounded_waits(
    statement_timeout: float | None, lock_timeout: float | None
) -> Callable[[psycopg.Connection], None]:
    """Return a pool `configure` callback that sets each new connection's statement and lock
    timeouts (in seconds; None leaves the server's default, usually no limit)."""
    settings = {
        name: str(round(seconds * 1000))  # PostgreSQL reads a bare number as milliseconds
        for name, seconds in (
            ("statement_timeout", statement_timeout),
            ("lock_timeout", lock_timeout),
        )
        if seconds is not None
    }

    def configure(conn: psycopg.Connection) -> None:
        for name, milliseconds in settings.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, milliseconds))
        conn.commit()  # the pool wants the connection idle, and session settings outlive this

    return configure
    # --8<-- [end:bounded-waits]


def close_pool(app: Flask) -> None:
    """Close the app's pool and its connections (tests and shutdown)."""
    app.extensions[POOL_EXTENSION].close()


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """Lend a pooled connection for one transaction: commit at the end, roll back on error."""
    with current_app.extensions[POOL_EXTENSION].connection() as conn:
        yield conn
