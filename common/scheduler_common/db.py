"""Connection plumbing: one psycopg pool per Flask app, dict rows, one transaction per block."""

from collections.abc import Iterator
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
        kwargs={
            "row_factory": dict_row,
            "options": bounded_waits(
                app.config["DATABASE_URL"],
                app.config.get("DB_STATEMENT_TIMEOUT"),
                app.config.get("DB_LOCK_TIMEOUT"),
            ),
        },
        # A connection the server dropped (restart, failover) is replaced before it is
        # handed out, so the app recovers from an outage without being restarted.
        check=ConnectionPool.check_connection,
        open=False,
        name=app.import_name,
    )
    pool.open(wait=False)
    app.extensions[POOL_EXTENSION] = pool
    return pool


# --8<-- [start:bounded-waits]
def bounded_waits(
    conninfo: str, statement_timeout: float | None, lock_timeout: float | None
) -> str:
    """Return the server `options` that give each connection these statement and lock timeouts
    (seconds; None keeps the server's default, usually no limit), after any in `conninfo`.

    Set as options at connect time, they cost no extra round trip and no statement of ours.
    """
    options = [psycopg.conninfo.conninfo_to_dict(conninfo).get("options") or ""]
    for name, seconds in (("statement_timeout", statement_timeout), ("lock_timeout", lock_timeout)):
        if seconds is not None:
            options.append(f"-c {name}={round(seconds * 1000)}")  # a bare number: milliseconds
    return " ".join(option for option in options if option)
    # --8<-- [end:bounded-waits]


def close_pool(app: Flask) -> None:
    """Close the app's pool and its connections (tests and shutdown)."""
    app.extensions[POOL_EXTENSION].close()


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """Lend a pooled connection for one transaction: commit at the end, roll back on error."""
    with current_app.extensions[POOL_EXTENSION].connection() as conn:
        yield conn
