"""Fixtures for common/'s own tests: the shared plumbing, with the Unit 1 schema."""

from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

# pytester runs a pytest session inside a test: the fixtures' behaviour across tests.
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def schema_parts() -> tuple[str, ...]:
    """The seed data fills the catalog, which Unit 1's schema part holds."""
    return ("unit1_catalog",)


@pytest.fixture
def schema_connection(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection (autocommit off, dict rows) to this test's fresh database."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        yield conn
        conn.rollback()
