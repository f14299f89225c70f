"""The connection plumbing on a real database: one pool per app, one transaction per block."""

from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from psycopg_pool import ConnectionPool, PoolClosed

from scheduler_common.db import (
    POOL_EXTENSION,
    close_pool,
    connection,
    init_pool,
    transaction,
)
from scheduler_common.wiretrace import WireTrace

INSERT_ROOM = "INSERT INTO rooms (name, capacity) VALUES (%s, %s)"


def room_names(db: psycopg.Connection) -> list[str]:
    """The names of every room, as another connection sees them."""
    return [row["name"] for row in db.execute("SELECT name FROM rooms ORDER BY name")]


@pytest.fixture
def flask_app(database_url: str) -> Iterator[Flask]:
    """A bare Flask app with a small pool on this test's database, inside an app context."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=database_url, DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=2, DB_POOL_TIMEOUT=2
    )
    pool = init_pool(app)
    with app.app_context():
        yield app
    if not pool.closed:
        close_pool(app)


@pytest.fixture
def wire(flask_app, tmp_path) -> Iterator[WireTrace]:
    """The app's pool, rebuilt with every connection traced: what really goes to the server."""
    trace = WireTrace(tmp_path)
    close_pool(flask_app)
    init_pool(flask_app, configure=trace.trace).wait()
    trace.clear()
    yield trace
    trace.close()


def test_init_pool_gives_the_app_a_pool_built_from_its_config(flask_app):
    pool = flask_app.extensions[POOL_EXTENSION]

    assert isinstance(pool, ConnectionPool)
    assert (pool.min_size, pool.max_size, pool.timeout) == (1, 2, 2)
    assert pool.name == flask_app.import_name
    assert not pool.closed
    pool.wait(timeout=5)  # it fills to min_size in the background
    assert pool.get_stats()["pool_size"] == 1


def test_transaction_lends_a_connection_with_dict_rows(flask_app, database_name):
    with transaction() as conn:
        row = conn.execute("SELECT current_database() AS name, 1 + 1 AS two").fetchone()

    assert row == {"name": database_name, "two": 2}


def test_transaction_commits_when_the_block_succeeds(flask_app, db):
    with transaction() as conn:
        conn.execute(INSERT_ROOM, ("Hall A", 30))
        conn.execute(INSERT_ROOM, ("Hall B", 40))
        assert room_names(db) == []  # not visible to others before the commit

    assert room_names(db) == ["Hall A", "Hall B"]


def test_transaction_rolls_back_everything_when_the_block_raises(flask_app, db):
    with pytest.raises(ZeroDivisionError), transaction() as conn:
        conn.execute(INSERT_ROOM, ("Hall A", 30))
        1 / 0  # noqa: B018

    assert room_names(db) == []


def test_a_database_error_rolls_back_and_the_pool_stays_usable(flask_app, db):
    with pytest.raises(psycopg.errors.CheckViolation), transaction() as conn:
        conn.execute(INSERT_ROOM, ("Hall A", 30))
        conn.execute(INSERT_ROOM, ("Hall B", 0))  # capacity must be positive

    with transaction() as conn:
        conn.execute(INSERT_ROOM, ("Hall C", 50))

    assert room_names(db) == ["Hall C"]


def test_two_transactions_at_once_use_two_connections(flask_app):
    with transaction() as first, transaction() as second:
        first_pid = first.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
        second_pid = second.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]

    assert first_pid != second_pid


def backend_pid(conn: psycopg.Connection) -> int:
    """The server process serving a connection."""
    return conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]


def terminate(admin_connection: psycopg.Connection, pid: int) -> None:
    """End a server process as a restart would, and wait (up to 5 s) until it is gone."""
    admin_connection.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def test_transaction_sends_begin_and_commit_around_the_block(wire):
    with transaction() as conn:
        conn.execute(INSERT_ROOM, ("Hall A", 30))
        conn.execute(INSERT_ROOM, ("Hall B", 40))

    insert = INSERT_ROOM % ("$1", "$2")  # as psycopg sends it
    assert wire.statements() == ["BEGIN", insert, insert, "COMMIT"]


def test_connection_runs_each_statement_alone_without_begin_or_commit(wire, db):
    with connection() as conn:
        conn.execute(INSERT_ROOM, ("Hall A", 30))
        assert room_names(db) == ["Hall A"]  # committed by itself, at once

    assert wire.statements() == [INSERT_ROOM % ("$1", "$2")]


def test_lending_a_healthy_connection_costs_no_round_trip(wire):
    for _ in range(3):
        with connection() as conn:
            conn.execute("SELECT 1")

    assert wire.statements() == ["SELECT 1"] * 3


def test_the_connections_run_without_jit(flask_app):
    with connection() as conn:
        assert conn.execute("SHOW jit").fetchone() == {"jit": "off"}


def test_a_connection_the_server_dropped_is_replaced(flask_app, admin_connection):
    with transaction() as conn:
        old_pid = backend_pid(conn)
    terminate(admin_connection, old_pid)

    with transaction() as conn:
        new_pid = backend_pid(conn)

    assert new_pid != old_pid


def test_after_a_restart_every_idle_connection_is_replaced_before_it_is_lent(
    flask_app, admin_connection
):
    with transaction() as first, transaction() as second:
        old_pids = {backend_pid(first), backend_pid(second)}
    for pid in old_pids:
        terminate(admin_connection, pid)

    with transaction() as first, transaction() as second:
        new_pids = {backend_pid(first), backend_pid(second)}

    assert new_pids.isdisjoint(old_pids)


def test_a_connection_lost_while_lent_fails_and_the_next_block_gets_a_new_one(
    flask_app, admin_connection
):
    with pytest.raises(psycopg.OperationalError), transaction() as conn:
        old_pid = backend_pid(conn)
        terminate(admin_connection, old_pid)
        conn.execute("SELECT 1")

    with transaction() as conn:
        assert backend_pid(conn) != old_pid


def test_transaction_outside_an_app_context_raises():
    with pytest.raises(RuntimeError, match="application context"), transaction():
        pass


def test_transaction_in_an_app_without_a_pool_names_the_missing_pool():
    missing_pool = pytest.raises(KeyError, match=POOL_EXTENSION)
    with Flask("no_pool").app_context(), missing_pool, transaction():
        pass


def test_close_pool_closes_it_and_later_transactions_fail(flask_app):
    pool = flask_app.extensions[POOL_EXTENSION]
    with transaction() as conn:
        conn.execute("SELECT 1")

    close_pool(flask_app)

    assert pool.closed
    with pytest.raises(PoolClosed), transaction():
        pass
