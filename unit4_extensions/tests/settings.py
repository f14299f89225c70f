"""The test settings every layer shares (a module, not conftest.py: each layer's folder may have
its own conftest.py, and `from conftest import` would find the nearest one)."""

from datetime import timedelta

from scheduler.security import create_access_token

TEST_SECRET_KEY = "test-secret-key-that-is-at-least-32-bytes-long"
TEST_SETTINGS = {"SECRET_KEY": TEST_SECRET_KEY, "BCRYPT_ROUNDS": 4}  # 4: fast hashing in tests
TEST_PASSWORD = "correct horse battery"


def token_for(user: dict, lifetime: timedelta = timedelta(minutes=15)) -> str:
    """A valid access token for the user."""
    return create_access_token(user, TEST_SECRET_KEY, lifetime)
