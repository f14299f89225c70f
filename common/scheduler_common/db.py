"""Connection plumbing: one psycopg pool per Flask app, dict rows, one transaction per block."""

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from flask import Flask, current_app
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

POOL_EXTENSION = "scheduler_db_pool"
# JIT off, as a connect-time option: our statements are index look-ups and pages of rows,
# where compiling a plan costs more than it saves. JIT starts only when the planner's
# estimates go wrong (stale statistics), and then it added 49 ms to a query that ran once.
# An analytics workload would want it on; an OLTP API does not.
WITHOUT_JIT = " -c jit=off"


def init_pool(
    app: Flask, configure: Callable[[psycopg.Connection], None] | None = None
) -> ConnectionPool:
    """Give the app a connection pool for `DATABASE_URL`; it connects in the background.
    `configure` is called on each new connection (the tests trace them)."""
    pool = ConnectionPool(
        app.config["DATABASE_URL"],
        min_size=app.config["DB_POOL_MIN_SIZE"],
        max_size=app.config["DB_POOL_MAX_SIZE"],
        timeout=app.config["DB_POOL_TIMEOUT"],
        kwargs={
            "row_factory": dict_row,
            # Autocommit: a single statement needs no BEGIN and COMMIT round trips (under READ
            # COMMITTED, wrapping reads in a transaction gives them no common snapshot
            # anyway); `transaction()` opens a real transaction where statements belong together.
            "autocommit": True,
            "options": bounded_waits(
                app.config["DATABASE_URL"],
                app.config.get("DB_STATEMENT_TIMEOUT"),
                app.config.get("DB_LOCK_TIMEOUT"),
            )
            + WITHOUT_JIT,
        },
        check=check_if_the_server_hung_up,
        configure=configure,
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


def check_if_the_server_hung_up(conn: psycopg.Connection) -> None:
    """The pool's check before it lends a connection, without a round trip: an idle
    connection has nothing to read unless the server said goodbye (a restart, a failover or
    an administrator terminates its backend with a message and closes the socket); only then
    ask the server, and the pool replaces a connection that does not answer.

    A connection lost silently (a network cut) still fails its first statement: that
    request answers 503 and the pool discards the broken connection.
    """
    poller = select.poll()  # one system call, a few µs; a round trip costs ~150 µs
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)


def close_pool(app: Flask) -> None:
    """Close the app's pool and its connections (tests and shutdown)."""
    app.extensions[POOL_EXTENSION].close()


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """Lend a pooled connection for one transaction: commit at the end, roll back on error."""
    with current_app.extensions[POOL_EXTENSION].connection() as conn, conn.transaction():
        yield conn


@contextmanager
def connection() -> Iterator[psycopg.Connection]:
    """Lend a pooled connection whose statements each commit by themselves (no BEGIN or
    COMMIT round trips): for reads, which see the latest committed rows either way."""
    with current_app.extensions[POOL_EXTENSION].connection() as conn:
        yield conn
