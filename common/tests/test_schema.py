"""`run_sql_files`: a unit's schema folder, every .sql file in file-name order."""

import psycopg
import pytest

from scheduler_common.schema import run_sql_files


@pytest.fixture
def empty_connection(database_url):
    """A connection to this test's database with every table dropped, autocommit off."""
    with psycopg.connect(database_url) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        conn.commit()
        yield conn
        conn.rollback()


def tables(conn: psycopg.Connection) -> list[str]:
    """The tables of the public schema, by name."""
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return sorted(name for (name,) in rows)


def test_files_run_in_file_name_order_and_other_files_are_left_alone(tmp_path, empty_connection):
    # b needs a's table: written in the other order on disk, it still runs second.
    (tmp_path / "b_later.sql").write_text("CREATE TABLE later (id int REFERENCES first (id));")
    (tmp_path / "a_first.sql").write_text("CREATE TABLE first (id int PRIMARY KEY);")
    (tmp_path / "notes.txt").write_text("this is not SQL")

    run_sql_files(empty_connection, tmp_path)

    assert tables(empty_connection) == ["first", "later"]


def test_a_failing_file_leaves_the_transaction_to_the_caller(tmp_path, empty_connection):
    (tmp_path / "a.sql").write_text("CREATE TABLE kept_only_if_committed (id int);")
    (tmp_path / "b.sql").write_text("CREATE TABLE broken (id no_such_type);")

    with pytest.raises(psycopg.errors.UndefinedObject):
        run_sql_files(empty_connection, tmp_path)

    empty_connection.rollback()
    assert tables(empty_connection) == []
