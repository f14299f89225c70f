"""A clock for tests: it stands still until the test moves it, so expiry needs no sleeping."""

from datetime import UTC, datetime, timedelta


class ManualClock:
    """Call it for the time; `advance` moves it forward. Starts at a fixed, realistic instant."""

    def __init__(self, start: datetime = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)):
        """Start the clock at `start`."""
        self.now = start

    def __call__(self) -> datetime:
        """The clock's current time."""
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self.now += delta
