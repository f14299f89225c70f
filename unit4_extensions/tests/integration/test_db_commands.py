"""`flask init-db` and `flask db upgrade|downgrade|status` (lesson 4.5) on a database of their
own: what they print, that init-db may run any number of times, and failures in one line."""

import itertools
import os
from collections.abc import Iterator
from importlib.resources import files

import psycopg
import pytest
from psycopg import sql

from scheduler_common.testing import conninfo

_numbers = itertools.count(1)
# Every migration, oldest first; the baseline is the first two, the waitlist's is the third,
# and later lessons add more after it.
MIGRATIONS = sorted(
    path.name.removesuffix(".sql")
    for path in (files("scheduler") / "migrations").iterdir()
    if path.name.endswith(".sql") and not path.name.endswith(".rollback.sql")
)
AFTER_THE_WAITLIST = MIGRATIONS[MIGRATIONS.index("0003_waitlist") + 1 :]


def lines(template: str, migrations: list[str]) -> str:
    """One line per migration, `template` filled in with its id."""
    return "".join(template.format(migration) + "\n" for migration in migrations)


@pytest.fixture
def empty_database_url(postgresql_server, admin_connection) -> Iterator[str]:
    """A database with nothing in it (the test's own database is migrated already)."""
    name = f"commands_{os.getpid()}_{next(_numbers)}"
    admin_connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield conninfo(postgresql_server, name)
    admin_connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def flask_command(app, empty_database_url):
    """Run `flask ARGS...` against the empty database; return (exit code, output)."""
    app.config["DATABASE_URL"] = empty_database_url  # the app fixture restores it
    runner = app.test_cli_runner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(args=list(args))
        return result.exit_code, result.output

    return run


def test_init_db_migrates_an_empty_database_and_then_has_nothing_to_do(flask_command):
    assert flask_command("init-db") == (0, lines("Applied {}.", MIGRATIONS))
    assert flask_command("init-db") == (0, "The schema is up to date.\n")


def test_init_db_adopts_a_database_built_from_the_old_schema_files(
    flask_command, empty_database_url
):
    flask_command("init-db")
    flask_command("db", "downgrade", "--steps", str(len(MIGRATIONS) - 2))
    with psycopg.connect(empty_database_url) as conn:  # forget the record, keep the tables
        conn.execute("DELETE FROM _yoyo_migration")

    code, output = flask_command("init-db")

    assert code == 0
    assert output == (
        "Adopted 0001_unit1_catalog: its tables were already there.\n"
        "Adopted 0002_unit2_auth: its tables were already there.\n"
        + lines("Applied {}.", MIGRATIONS[2:])
    )


def test_status_lists_every_migration_applied_or_pending(flask_command):
    assert flask_command("db", "status") == (0, lines("pending  {}", MIGRATIONS))
    flask_command("db", "upgrade")
    flask_command("db", "downgrade", "--steps", str(len(MIGRATIONS) - 2))

    assert flask_command("db", "status") == (
        0,
        lines("applied  {}", MIGRATIONS[:2]) + lines("pending  {}", MIGRATIONS[2:]),
    )


def test_downgrade_rolls_back_the_newest_or_says_there_is_nothing(flask_command):
    flask_command("init-db")
    newest_but_one = len(MIGRATIONS) - 1

    assert flask_command("db", "downgrade", "--steps", str(newest_but_one)) == (
        0,
        lines("Rolled back {}.", MIGRATIONS[:0:-1]),
    )
    assert flask_command("db", "downgrade", "--steps", "5") == (
        0,
        "Rolled back 0001_unit1_catalog.\n",
    )
    assert flask_command("db", "downgrade") == (
        0,
        "No migration is applied: nothing to roll back.\n",
    )


def test_a_refused_rollback_is_one_line_and_changes_nothing(flask_command, empty_database_url):
    flask_command("init-db")
    flask_command("db", "downgrade", "--steps", str(len(AFTER_THE_WAITLIST)))
    with psycopg.connect(empty_database_url) as conn:
        conn.execute(
            "INSERT INTO courses (code, title, credits) VALUES ('CS101', 'C', 3);"
            "INSERT INTO instructors (full_name, email) VALUES ('I', 'i@example.edu');"
            "INSERT INTO rooms (name, capacity) VALUES ('R', 5);"
            "INSERT INTO students (full_name, email) VALUES ('S', 's@example.edu');"
            "INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,"
            " starts_at, ends_at) VALUES (1, 1, 1, '2027-spring', 1, '{MON}', '09:00', '10:00');"
            "INSERT INTO enrollments (section_id, student_id, status, waitlist_ticket)"
            " VALUES (1, 1, 'waitlisted', 1)"
        )

    code, output = flask_command("db", "downgrade")

    assert code == 1
    assert output.startswith("Error: The migration failed and changed nothing: students are on")
    assert "Traceback" not in output
    assert flask_command("db", "status")[1].endswith(
        "applied  0003_waitlist\n" + lines("pending  {}", AFTER_THE_WAITLIST)
    )


def test_a_hand_changed_baseline_is_one_line(flask_command, empty_database_url):
    with psycopg.connect(empty_database_url) as conn:
        conn.execute("CREATE TABLE courses (id bigint PRIMARY KEY)")

    code, output = flask_command("init-db")

    assert code == 1
    assert output.startswith("Error: The database has some of the tables of 0001_unit1_catalog")


def test_a_migration_that_waits_too_long_for_another_one_says_so(flask_command, empty_database_url):
    flask_command("init-db")
    with psycopg.connect(empty_database_url) as conn:  # a migration that crashed mid-way
        conn.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, now(), 1)")

    code, output = flask_command("db", "upgrade")

    assert code == 1
    assert output.startswith("Error: Another migration is running: Process 1 has locked")
