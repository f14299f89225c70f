"""Fixtures for Unit 1's tests; the database plumbing comes from scheduler_common.testing."""

import pytest

from scheduler import create_app, create_schema


@pytest.fixture(scope="session")
def schema_creator():
    """What builds this unit's schema in the template database."""
    return create_schema


@pytest.fixture(scope="session")
def app_factory():
    """The unit's app factory, for the common `app` fixture."""
    return create_app
