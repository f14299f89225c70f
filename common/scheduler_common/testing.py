"""pytest fixtures: one throwaway PostgreSQL per run, the unit's schema loaded once into a
template database, and a fresh clone of it for every test.

The server comes from `localdb` (in RAM where the machine has a RAM disk, which makes a clone
about ten times cheaper; as an unprivileged user when we are root, since PostgreSQL refuses
root) and is handed to the tests as pytest-postgresql's no-process executor, so root and
normal users run the very same fixtures.

A unit's conftest.py provides two fixtures, `schema_creator` (its `create_schema`, which builds
the schema in an empty database) and `app_factory` (its `create_app`); everything else comes
from here.
"""

import itertools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg import sql
from psycopg.rows import dict_row
from pytest_postgresql.executors import NoopExecutor
from pytest_postgresql.janitor import DatabaseJanitor

from scheduler_common.db import close_pool, init_pool
from scheduler_common.localdb import running_postgres
from scheduler_common.wiretrace import WireTrace

TEMPLATE_DBNAME = "scheduler_template"


def conninfo(server, dbname: str) -> str:
    """Return the connection string of a database on the test server."""
    return psycopg.conninfo.make_conninfo(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password or None,
        dbname=dbname,
    )


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[NoopExecutor]:
    """The run's throwaway PostgreSQL server, for root and for normal users alike."""
    with running_postgres() as server:
        yield NoopExecutor(
            host=server.host,
            port=server.port,
            user=server.user,
            password=None,
            dbname="tests",
            options="",
        )


# --8<-- [start:template-database]
@pytest.fixture(scope="session")
def template_database(
    postgresql_server, schema_creator: Callable[[psycopg.Connection], None]
) -> Iterator[str]:
    """A template database holding the unit's schema, created once per run."""
    janitor = DatabaseJanitor(
        user=postgresql_server.user,
        host=postgresql_server.host,
        port=postgresql_server.port,
        password=postgresql_server.password,
        dbname=TEMPLATE_DBNAME,
        as_template=True,
    )
    with janitor:
        with psycopg.connect(conninfo(postgresql_server, TEMPLATE_DBNAME)) as conn:
            schema_creator(conn)
        yield TEMPLATE_DBNAME
    # --8<-- [end:template-database]


@pytest.fixture(scope="session")
def admin_connection(postgresql_server) -> Iterator[psycopg.Connection]:
    """One autocommit connection to the maintenance database, reused to clone and drop."""
    with psycopg.connect(conninfo(postgresql_server, "postgres"), autocommit=True) as conn:
        yield conn


BACKEND_EXIT_POLLS = 500  # 2 ms apart: a second at most, then DROP … FORCE deals with them


def wait_for_backends_to_exit(admin_connection: psycopg.Connection, name: str) -> None:
    """Wait until no server process serves the database. A backend whose client has just
    closed takes a few ms to exit, and a DROP DATABASE that finds one waits 100 ms."""
    for _ in range(BACKEND_EXIT_POLLS):
        still_open = admin_connection.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchone()
        if still_open is None:
            return
        time.sleep(0.002)


_database_numbers = itertools.count(1)


# --8<-- [start:database-name]
@pytest.fixture
def database_name(admin_connection, template_database: str) -> Iterator[str]:
    """A fresh database cloned from the template for this test alone, dropped afterwards."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin_connection.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template_database)
        )
    )
    yield name
    wait_for_backends_to_exit(admin_connection, name)
    admin_connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    # --8<-- [end:database-name]


@pytest.fixture
def database_url(postgresql_server, database_name: str) -> str:
    """The connection string of this test's database."""
    return conninfo(postgresql_server, database_name)


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    """A direct autocommit connection to this test's database, to arrange and check state."""
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture(scope="session")
def unbound_app(app_factory: Callable[..., Flask], postgresql_server) -> Flask:
    """The unit's app, built once per run: building one compiles every URL rule, which
    costs more than cloning a database. Each test binds it to its own database."""
    # No connection until a test asks for one: a pool that connects as it opens makes a test
    # that never reaches the database wait for that connect when the pool closes, and for its
    # server process to exit before the database can be dropped.
    app = app_factory(
        {
            "TESTING": True,
            "DATABASE_URL": conninfo(postgresql_server, "postgres"),
            "DB_POOL_MIN_SIZE": 0,
        }
    )
    close_pool(app)
    return app


@pytest.fixture
def app(unbound_app: Flask, database_url: str) -> Iterator[Flask]:
    """The unit's app, bound to this test's database; its settings are restored afterwards."""
    settings = dict(unbound_app.config)
    unbound_app.config["DATABASE_URL"] = database_url
    init_pool(unbound_app)
    yield unbound_app
    close_pool(unbound_app)
    unbound_app.config.clear()
    unbound_app.config.update(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A Flask test client for the app."""
    return app.test_client()


# --8<-- [start:sql-statements]
@pytest.fixture
def sql_statements(monkeypatch: pytest.MonkeyPatch, database_name: str) -> list[str]:
    """Record the SQL text of every statement run through `Cursor.execute` during the test,
    except the pool's empty connection checks (it starts once the test database exists)."""
    statements: list[str] = []
    original_execute = psycopg.Cursor.execute

    def recording_execute(cursor, query, *args, **kwargs):
        text = query.as_string(cursor) if hasattr(query, "as_string") else str(query)
        if text:
            statements.append(text)
        return original_execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording_execute)
    return statements
    # --8<-- [end:sql-statements]


# --8<-- [start:wire-statements]
@pytest.fixture
def wire_statements(app: Flask, tmp_path) -> Iterator[WireTrace]:
    """Every statement the app's connections send the server, BEGIN, COMMIT and the pool's
    checks included: the app gets a new pool whose connections are all traced."""
    trace = WireTrace(tmp_path)
    close_pool(app)
    init_pool(app, configure=trace.trace).wait()
    yield trace
    trace.close()
    # --8<-- [end:wire-statements]


# --8<-- [start:database-outage]
@pytest.fixture
def database_outage(admin_connection, database_name: str) -> Callable:
    """A context manager that makes this test's database unreachable inside its block."""

    @contextmanager
    def outage() -> Iterator[None]:
        name = sql.Identifier(database_name)
        admin_connection.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        # Wait (up to 5 s) until each is gone, as it is once a real outage is over.
        admin_connection.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = %s",
            (database_name,),
        )
        try:
            yield
        finally:
            admin_connection.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name)
            )

    return outage
    # --8<-- [end:database-outage]


def answer_once_recovered(client: FlaskClient, path: str, attempts: int = 40):
    """GET `path` until it is not a 503 (after an outage the pool reconnects in the
    background, with backoff), at most `attempts` times half a second apart."""
    for _ in range(attempts - 1):
        response = client.get(path)
        if response.status_code != 503:
            return response
        time.sleep(0.5)
    return client.get(path)
