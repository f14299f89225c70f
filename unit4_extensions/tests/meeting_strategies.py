"""Hypothesis strategies for random weekly meeting patterns (for the unit and integration tests)."""

from datetime import time

from hypothesis import strategies as st

from scheduler.meetings import WEEKDAYS, Meeting

# Five-minute steps over the whole day: edges such as 00:00 and back-to-back meetings come up often.
times = st.integers(min_value=0, max_value=24 * 12 - 1).map(
    lambda step: time(step * 5 // 60, step * 5 % 60)
)


@st.composite
def meetings(draw) -> Meeting:
    """A valid meeting pattern: one to seven distinct days, a start before the end."""
    days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))
    starts_at, ends_at = sorted(draw(st.lists(times, min_size=2, max_size=2, unique=True)))
    return Meeting(frozenset(days), starts_at, ends_at)
