"""The app's clock: every expiry is measured on it, so tests can inject one and move it."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, in UTC (the clock unless the config's `CLOCK` names another)."""
    return datetime.now(UTC)
