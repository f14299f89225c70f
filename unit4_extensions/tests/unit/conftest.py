"""Unit tests are pure logic: no Flask app, no database. `pytest tests/unit` starts no server."""

import pytest


@pytest.fixture(scope="session")
def postgresql_server():
    """Refuse the database here: a unit test that needs one belongs in tests/integration."""
    pytest.fail("tests/unit must not use the database; move this test to tests/integration.")
