"""Fixtures for common/'s own tests: the shared plumbing, with the Unit 1 schema."""

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from scheduler_common.schema import run_sql_files

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
