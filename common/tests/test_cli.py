"""`flask init-db` and `flask seed` against a real, initially empty database."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from psycopg import sql

from scheduler_common.cli import is_local_host, register_commands
from scheduler_common.db import close_pool, init_pool
from scheduler_common.seed import DEV_ADMIN_EMAIL, DEV_PASSWORD_HASH, MAX_SCALE

TABLES = ("courses", "rooms", "instructors", "students", "sections", "enrollments")


@contextmanager
def cli_runner(database_url: str, create_schema) -> Iterator[FlaskCliRunner]:
    """A CLI runner for a bare app with the two commands, on the given database."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=database_url,
        DB_POOL_MIN_SIZE=1,
        DB_POOL_MAX_SIZE=2,
        DB_POOL_TIMEOUT=2,
    )
    init_pool(app)
    register_commands(app, create_schema)
    yield app.test_cli_runner()
    close_pool(app)


@pytest.fixture
def runner(empty_database_url: str, schema_creator) -> Iterator[FlaskCliRunner]:
    """The commands with Unit 1's schema, on the empty database."""
    with cli_runner(empty_database_url, schema_creator) as runner:
        yield runner


@pytest.fixture
def unit2_runner(empty_database_url: str, unit2_schema_creator) -> Iterator[FlaskCliRunner]:
    """The commands with Unit 2's schema (which has users), on the empty database."""
    with cli_runner(empty_database_url, unit2_schema_creator) as runner:
        yield runner


def user_count(url: str) -> int:
    """How many accounts the database holds."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def table_counts(url: str) -> dict[str, int]:
    """The row count of every catalog table."""
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in TABLES
        }


def existing_tables(url: str) -> set[str]:
    """The names of the tables in the public schema."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {name for (name,) in rows}


def test_both_commands_are_registered_with_help(runner):
    result = runner.invoke(args=["--help"])

    assert result.exit_code == 0
    assert "init-db" in result.output
    assert "seed" in result.output
    seed_help = runner.invoke(args=["seed", "--help"])
    assert "--scale" in seed_help.output
    assert "Multiply every count" in seed_help.output
    assert f"1<=x<={MAX_SCALE}" in seed_help.output  # the seeder's own limit


def test_init_db_creates_the_schema_in_an_empty_database(runner, empty_database_url):
    assert existing_tables(empty_database_url) == set()

    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert result.output == "Created the schema.\n"
    assert existing_tables(empty_database_url) == set(TABLES)
    assert table_counts(empty_database_url) == dict.fromkeys(TABLES, 0)


def test_init_db_twice_says_the_schema_already_exists(runner, empty_database_url):
    assert runner.invoke(args=["init-db"]).exit_code == 0

    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 1
    assert "Error: The schema already exists" in result.output
    assert "point DATABASE_URL at an empty database" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert existing_tables(empty_database_url) == set(TABLES)


def test_seed_loads_the_sample_data(runner, empty_database_url):
    runner.invoke(args=["init-db"])

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Seeded: SeedCounts(courses=40, rooms=15")
    assert table_counts(empty_database_url) == {
        "courses": 40,
        "rooms": 15,
        "instructors": 20,
        "students": 500,
        "sections": 120,
        "enrollments": 2000,
    }


def test_seed_scale_multiplies_every_count(runner, empty_database_url):
    runner.invoke(args=["init-db"])

    result = runner.invoke(args=["seed", "--scale", "2"])

    assert result.exit_code == 0, result.output
    counts = table_counts(empty_database_url)
    assert counts["courses"] == 80
    assert counts["students"] == 1000
    assert counts["enrollments"] == 4000


def test_seed_twice_refuses_and_keeps_the_first_data(runner, empty_database_url):
    runner.invoke(args=["init-db"])
    runner.invoke(args=["seed"])
    before = table_counts(empty_database_url)

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 1
    assert "Error: the database already holds data" in result.output
    assert "seed an empty database" in result.output
    assert table_counts(empty_database_url) == before


def test_seed_if_empty_seeds_an_empty_database(runner, empty_database_url):
    runner.invoke(args=["init-db"])

    result = runner.invoke(args=["seed", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert table_counts(empty_database_url)["courses"] == 40


def test_seed_if_empty_leaves_data_alone_and_succeeds(runner, empty_database_url):
    runner.invoke(args=["init-db"])
    runner.invoke(args=["seed"])
    with psycopg.connect(empty_database_url) as conn:  # a change made since the first seed
        conn.execute("DELETE FROM enrollments WHERE student_id = 1")
    before = table_counts(empty_database_url)

    result = runner.invoke(args=["seed", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Not seeded: the database already holds data")
    assert table_counts(empty_database_url) == before


def test_seed_without_the_schema_says_to_run_init_db_first(runner):
    result = runner.invoke(args=["seed"])

    assert result.exit_code == 1
    assert "flask init-db" in result.output


@pytest.mark.parametrize("scale", ["0", "-3", str(MAX_SCALE + 1), "many"])
def test_seed_refuses_a_bad_scale_before_touching_the_database(runner, empty_database_url, scale):
    runner.invoke(args=["init-db"])

    result = runner.invoke(args=["seed", "--scale", scale])

    assert result.exit_code == 2  # a usage error
    assert "Invalid value for '--scale'" in result.output
    assert table_counts(empty_database_url) == dict.fromkeys(TABLES, 0)


def test_seed_makes_no_accounts_unless_asked(unit2_runner, empty_database_url):
    unit2_runner.invoke(args=["init-db"])

    result = unit2_runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert "accounts=0" in result.output
    assert user_count(empty_database_url) == 0  # no admin with a published password
    assert table_counts(empty_database_url)["students"] == 500


def test_seed_dev_accounts_on_a_local_database_makes_them(unit2_runner, empty_database_url):
    unit2_runner.invoke(args=["init-db"])

    result = unit2_runner.invoke(args=["seed", "--dev-accounts"])

    assert result.exit_code == 0, result.output
    assert user_count(empty_database_url) == 1 + 20 + 500
    with psycopg.connect(empty_database_url) as conn:
        admin = conn.execute(
            "SELECT password_hash FROM users WHERE email = %s", (DEV_ADMIN_EMAIL,)
        ).fetchone()
    assert admin == (DEV_PASSWORD_HASH,)


def test_seed_dev_accounts_refuses_a_database_on_another_host(
    empty_database_url, unit2_schema_creator
):
    # Reach the test server by address, but under another host name: what libpq reports
    # as the connection's host is the name, as for a real remote database.
    remote_looking = psycopg.conninfo.make_conninfo(
        empty_database_url, host="db.example.edu", hostaddr="127.0.0.1"
    )
    with cli_runner(remote_looking, unit2_schema_creator) as runner:
        assert runner.invoke(args=["init-db"]).exit_code == 0

        result = runner.invoke(args=["seed", "--dev-accounts"])

    assert result.exit_code == 1
    assert "--dev-accounts is only for a database on this machine" in result.output
    assert "'db.example.edu'" in result.output
    assert user_count(empty_database_url) == 0
    assert table_counts(empty_database_url) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("/tmp/pg-socket", True),
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("db.example.edu", False),
        ("10.0.0.5", False),
        ("localhost.example.edu", False),
    ],
)
def test_is_local_host(host, local):
    assert is_local_host(host) is local
