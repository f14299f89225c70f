"""Fixtures for Unit 1's tests; the database plumbing comes from scheduler_common.testing."""

import pytest

from scheduler import SCHEMA_PARTS, create_app


@pytest.fixture(scope="session")
def schema_parts() -> tuple[str, ...]:
    """The schema this unit's template database is built from."""
    return SCHEMA_PARTS


@pytest.fixture(scope="session")
def app_factory():
    """The unit's app factory, for the common `app` fixture."""
    return create_app
