"""Property: the Python clash rule (Meeting.overlaps) agrees with PostgreSQL's, the `&&` of the
`meeting_minutes` multiranges that the exclusion constraints on sections compare."""

from hypothesis import HealthCheck, given, settings
from meeting_strategies import meetings

OVERLAP_IN_POSTGRESQL = """
    SELECT meeting_minutes(%(a_days)s::weekday[], %(a_starts)s, %(a_ends)s)
        && meeting_minutes(%(b_days)s::weekday[], %(b_starts)s, %(b_ends)s) AS overlaps
"""


# The `db` fixture is shared by every example on purpose: the query only reads.
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=meetings(), second=meetings())
def test_python_and_postgresql_agree_on_every_overlap(db, first, second):
    row = db.execute(
        OVERLAP_IN_POSTGRESQL,
        {
            "a_days": sorted(first.days),
            "a_starts": first.starts_at,
            "a_ends": first.ends_at,
            "b_days": sorted(second.days),
            "b_starts": second.starts_at,
            "b_ends": second.ends_at,
        },
    ).fetchone()
    assert first.overlaps(second) is row["overlaps"]
