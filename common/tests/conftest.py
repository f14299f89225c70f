"""Fixtures for common/'s own tests: the shared plumbing, with the Unit 1 schema."""

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from scheduler_common.schema import run_sql_files
from scheduler_common.testing import conninfo

# pytester runs a pytest session inside a test: the fixtures' behaviour across tests.
pytest_plugins = ["pytester"]

REPOSITORY = Path(__file__).resolve().parents[2]


def unit_schema(unit: str) -> Callable[[psycopg.Connection], None]:
    """A unit's `create_schema`, read from its folder: common/ must not import a unit."""

    def create_schema(conn: psycopg.Connection) -> None:
        """Run the unit's schema files, as the unit itself does."""
        run_sql_files(conn, REPOSITORY / unit / "scheduler" / "schema")

    return create_schema


@pytest.fixture(scope="session")
def schema_creator() -> Callable[[psycopg.Connection], None]:
    """The seed data fills the catalog, which Unit 1's schema holds."""
    return unit_schema("unit1_data_api")


@pytest.fixture(scope="session")
def unit2_schema_creator() -> Callable[[psycopg.Connection], None]:
    """Unit 2's schema, for what the seed does where there are users."""
    return unit_schema("unit2_auth")


@pytest.fixture
def schema_connection(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection (autocommit off, dict rows) to this test's fresh database."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        yield conn
        conn.rollback()


_empty_database_numbers = itertools.count(1)


@pytest.fixture
def empty_database_url(postgresql_server, admin_connection) -> Iterator[str]:
    """A database with nothing in it (the `database_url` one already has the schema)."""
    name = f"empty_{os.getpid()}_{next(_empty_database_numbers)}"
    admin_connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield conninfo(postgresql_server, name)
    admin_connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
