"""The pytest plugin's fixtures, used as a unit's tests use them, on the real test server.

`app_factory` here builds a small Flask app on the common plumbing, standing in for a
unit's `create_app`.
"""

import os
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask, jsonify
from psycopg import sql
from psycopg_pool import ConnectionPool

from scheduler_common import testing
from scheduler_common.db import POOL_EXTENSION, init_pool, transaction

ADD_COURSE = "INSERT INTO courses (code, title, credits) VALUES ('CS101', 'Programming', 4)"


def build_app(config: dict) -> Flask:
    """A unit-like app: a pool from its config and one route that reads the database."""
    app = Flask(__name__)
    app.config.update(DB_POOL_MIN_SIZE=1, DB_POOL_MAX_SIZE=2, DB_POOL_TIMEOUT=2)
    app.config.update(config)
    init_pool(app)

    @app.get("/rooms")
    def list_rooms():
        with transaction() as conn:
            rows = conn.execute("SELECT name FROM rooms ORDER BY name").fetchall()
        return jsonify([row["name"] for row in rows])

    return app


@pytest.fixture(scope="session")
def app_factory():
    """What a unit's conftest provides: its create_app."""
    return build_app


@pytest.fixture
def pools_closed_after_the_test() -> Iterator[list[ConnectionPool]]:
    """Pools appended here must be closed once the test's other fixtures are torn down."""
    pools: list[ConnectionPool] = []
    yield pools
    assert pools, "the test registered no pool"
    assert all(pool.closed for pool in pools)


def database_exists(admin_connection: psycopg.Connection, name: str) -> bool:
    """Whether the test server has a database of that name."""
    row = admin_connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    return row.fetchone() is not None


# ------------------------------------------------------------------- server and databases


def test_conninfo_includes_a_password_only_when_there_is_one():
    server = type("Server", (), {"host": "db.example", "port": 5433, "user": "u"})

    server.password = None
    assert testing.conninfo(server, "d") == "host=db.example port=5433 user=u dbname=d"
    server.password = "s3cret"
    assert "password=s3cret" in testing.conninfo(server, "d")


def test_admin_connection_is_an_autocommit_connection_to_postgres(admin_connection):
    assert admin_connection.autocommit
    assert admin_connection.info.dbname == "postgres"
    assert admin_connection.execute("SELECT 1").fetchone() == (1,)


def test_template_database_holds_the_schema_and_is_a_template(
    template_database, admin_connection, postgresql_server
):
    assert template_database == testing.TEMPLATE_DBNAME
    row = admin_connection.execute(
        "SELECT datistemplate FROM pg_database WHERE datname = %s", (template_database,)
    ).fetchone()
    assert row == (True,)
    with psycopg.connect(testing.conninfo(postgresql_server, template_database)) as conn:
        assert conn.execute("SELECT to_regclass('sections') IS NOT NULL").fetchone() == (True,)


def test_database_name_is_a_clone_that_exists_for_the_test(database_name, admin_connection, db):
    assert database_name.startswith(f"test_{os.getpid()}_")
    assert database_exists(admin_connection, database_name)
    assert db.execute("SELECT count(*) AS n FROM courses").fetchone() == {"n": 0}


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_gets_a_fresh_database(db, attempt):
    # Whichever of the two runs second would find the other's course in a shared database.
    assert db.execute("SELECT count(*) AS n FROM courses").fetchone() == {"n": 0}

    db.execute(ADD_COURSE)


# A run of its own (with pytester), so that what one test leaves is checked by the next
# whatever order and worker the outer run gives this test.
INNER_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def schema_creator():
    return lambda conn: conn.execute("CREATE TABLE courses (id bigint PRIMARY KEY)")

@pytest.fixture(scope="session")
def clones_left_at_the_end(admin_connection):
    yield
    rows = admin_connection.execute(
        "SELECT datname FROM pg_database WHERE starts_with(datname, 'test_')"
    ).fetchall()
    with open("left_at_the_end.txt", "w") as file:
        file.write(repr([name for (name,) in rows]))
"""

INNER_TESTS = """
import pathlib
import psycopg

def exists(admin_connection, name):
    query = "SELECT 1 FROM pg_database WHERE datname = %s"
    return admin_connection.execute(query, (name,)).fetchone() is not None

def test_first(clones_left_at_the_end, database_name, database_url):
    pathlib.Path("first.txt").write_text(database_name)
    psycopg.connect(database_url).close()  # its backend is still exiting at teardown

def test_second(database_name, admin_connection):
    first = pathlib.Path("first.txt").read_text()
    assert first != database_name
    assert not exists(admin_connection, first)
    assert exists(admin_connection, database_name)
"""


def test_a_tests_database_is_dropped_after_it_and_none_is_left(pytester):
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)

    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:xdist")

    result.assert_outcomes(passed=2)
    assert (pytester.path / "left_at_the_end.txt").read_text() == "[]"


def test_database_url_points_at_this_tests_database(database_url, database_name):
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (database_name,)


def test_db_is_autocommit_with_dict_rows(db, database_url):
    db.execute(ADD_COURSE)

    with psycopg.connect(database_url) as other:  # visible at once: no commit needed
        assert other.execute("SELECT code FROM courses").fetchone() == ("CS101",)
    assert db.autocommit
    assert db.execute("SELECT code, credits FROM courses").fetchone() == {
        "code": "CS101",
        "credits": 4,
    }


# ------------------------------------------------------------------------ app and client


def test_app_is_the_units_app_on_this_tests_database(app, database_url, database_name):
    assert app.config["TESTING"] is True
    assert app.config["DATABASE_URL"] == database_url
    with app.app_context(), transaction() as conn:
        assert conn.execute("SELECT current_database() AS name").fetchone() == {
            "name": database_name
        }


def test_client_reaches_the_app_and_sees_the_tests_data(client, db):
    assert client.get("/rooms").get_json() == []

    db.execute("INSERT INTO rooms (name, capacity) VALUES ('Hall A', 30)")

    assert client.get("/rooms").get_json() == ["Hall A"]


def test_app_pool_is_closed_after_the_test(pools_closed_after_the_test, app):
    pool = app.extensions[POOL_EXTENSION]
    pools_closed_after_the_test.append(pool)

    assert not pool.closed  # open during the test; the fixture checks it is closed after


# ------------------------------------------------------------------------ sql_statements


def test_sql_statements_records_each_statement_in_order(db, sql_statements):
    db.execute("SELECT 1")
    db.execute("SELECT %s::int", (2,))
    db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("rooms")))

    assert sql_statements == [
        "SELECT 1",
        "SELECT %s::int",  # the query text, not the values
        'SELECT count(*) FROM "rooms"',  # a composed query is rendered
    ]


def test_sql_statements_sees_the_apps_queries(client, sql_statements):
    assert client.get("/rooms").status_code == 200

    # The pool checks a connection with an empty statement before lending it.
    assert [s for s in sql_statements if s.strip()] == ["SELECT name FROM rooms ORDER BY name"]


def test_sql_statements_records_nothing_before_it_is_requested(db, request):
    db.execute("SELECT 'before'")
    statements = request.getfixturevalue("sql_statements")

    db.execute("SELECT 'after'")

    assert statements == ["SELECT 'after'"]


# ----------------------------------------------------------------------- database_outage


def test_database_outage_refuses_connections_inside_the_block(database_outage, database_url):
    refused = pytest.raises(psycopg.OperationalError, match="not currently accepting connections")
    with database_outage(), refused:
        psycopg.connect(database_url)

    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_database_outage_cuts_existing_connections(database_outage, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT 1")

        with database_outage(), pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")

        assert conn.closed


def test_database_outage_ends_even_when_the_block_raises(database_outage, database_url):
    with pytest.raises(LookupError), database_outage():
        raise LookupError("failure inside the outage")

    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_app_recovers_after_a_database_outage(client, database_outage, db):
    db.execute("INSERT INTO rooms (name, capacity) VALUES ('Hall A', 30)")
    assert client.get("/rooms").get_json() == ["Hall A"]  # the pool holds a live connection

    with database_outage():
        pass  # every connection to the database is dropped

    assert client.get("/rooms").get_json() == ["Hall A"]
