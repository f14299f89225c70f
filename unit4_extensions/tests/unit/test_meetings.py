"""The Meeting value: when two weekly patterns overlap, and how the overlap is described."""

from datetime import time

import pytest
from hypothesis import given
from meeting_strategies import meetings

from scheduler.meetings import Meeting

MON_WED_0900 = Meeting(frozenset({"MON", "WED"}), time(9, 0), time(10, 15))


@pytest.mark.parametrize(
    ("days", "starts_at", "ends_at", "expected"),
    [
        ({"MON"}, time(10, 0), time(11, 0), True),  # overlaps the end
        ({"WED"}, time(8, 0), time(9, 1), True),  # overlaps the start by a minute
        ({"MON", "FRI"}, time(9, 15), time(9, 45), True),  # inside
        ({"MON"}, time(10, 15), time(11, 0), False),  # starts as the other ends
        ({"WED"}, time(8, 0), time(9, 0), False),  # ends as the other starts
        ({"TUE", "THU"}, time(9, 0), time(10, 15), False),  # same times, other days
    ],
)
def test_overlaps_needs_a_shared_day_and_a_shared_minute(days, starts_at, ends_at, expected):
    other = Meeting(frozenset(days), starts_at, ends_at)
    assert MON_WED_0900.overlaps(other) is expected
    assert other.overlaps(MON_WED_0900) is expected


def test_overlap_with_names_the_shared_days_in_week_order_and_the_shared_times():
    other = Meeting(frozenset({"WED", "FRI", "MON"}), time(9, 30), time(11, 0))
    assert MON_WED_0900.overlap_with(other) == "MON, WED 09:30-10:15"


def test_overlap_with_is_empty_for_meetings_that_never_meet_at_once():
    other = Meeting(frozenset({"MON"}), time(10, 15), time(11, 0))
    assert MON_WED_0900.overlap_with(other) == ""


def test_of_reads_a_section_row():
    row = {"days": ["WED", "MON"], "starts_at": time(9, 0), "ends_at": time(10, 15), "id": 1}
    assert Meeting.of(row) == MON_WED_0900


@given(meetings(), meetings())
def test_overlaps_is_symmetric(first, second):
    assert first.overlaps(second) == second.overlaps(first)


@given(meetings())
def test_a_meeting_overlaps_itself(meeting):
    assert meeting.overlaps(meeting)
