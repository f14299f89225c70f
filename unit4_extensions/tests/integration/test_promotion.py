"""The waitlist below HTTP: `promote_next`, which the background job `promote_waitlist` calls
(a freed seat goes to the next in line, and only a free seat, even while that student drops
out); concurrent drops and concurrent promotions never seat one student twice or over-fill the
section; a drop that rolls back defers nothing; and the checks the migration puts on the
table."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from scheduler.identity import Identity
from scheduler.services import enrollment
from scheduler.services.errors import NotFound
from scheduler.unit_of_work import Database


@pytest.fixture
def database(database_url) -> Iterator[Database]:
    """The unit of work the services run on, on this test's database."""
    with ConnectionPool(
        database_url, min_size=1, max_size=2, kwargs={"row_factory": dict_row}
    ) as pool:
        yield Database(pool)


def new_section(db, capacity: int) -> int:
    """A section with a course, instructor and room of its own."""
    return db.execute(
        """
        WITH c AS (INSERT INTO courses (code, title, credits) VALUES ('CS101', 'C', 3)
                   RETURNING id),
             i AS (INSERT INTO instructors (full_name, email) VALUES ('I', 'i@example.edu')
                   RETURNING id),
             r AS (INSERT INTO rooms (name, capacity) VALUES ('R', 30) RETURNING id)
        INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,
                              starts_at, ends_at)
        SELECT c.id, i.id, r.id, '2027-spring', %s, '{MON}', '09:00', '10:00' FROM c, i, r
        RETURNING id
        """,
        (capacity,),
    ).fetchone()["id"]


def new_students(db, count: int) -> list[int]:
    rows = db.execute(
        "INSERT INTO students (full_name, email)"
        " SELECT 'S' || n, 's' || n || '@example.edu' FROM generate_series(1, %s) AS n"
        " RETURNING id",
        (count,),
    ).fetchall()
    return [row["id"] for row in rows]


def join(db, section_id: int, student_id: int, status: str) -> None:
    """An enrollment as the service writes it: a waiting one draws a ticket."""
    db.execute(
        "INSERT INTO enrollments (section_id, student_id, status, waitlist_ticket)"
        " VALUES (%s, %s, %s, CASE WHEN %s = 'waitlisted'"
        " THEN nextval('enrollments_waitlist_ticket_seq') END)",
        (section_id, student_id, status, status),
    )


def line(db, section_id: int) -> list[tuple[int, str, int | None]]:
    rows = db.execute(
        "SELECT student_id, status, waitlist_position(section_id, waitlist_ticket) AS position"
        " FROM enrollments WHERE section_id = %s ORDER BY status, waitlist_ticket, student_id",
        (section_id,),
    ).fetchall()
    return [(row["student_id"], row["status"], row["position"]) for row in rows]


@pytest.fixture
def waiting_line(db) -> tuple[int, list[int]]:
    """A section of two seats: one seated student, then three waiting (in that order)."""
    section_id = new_section(db, capacity=2)
    students = new_students(db, 4)
    join(db, section_id, students[0], "enrolled")
    for student_id in students[1:]:
        join(db, section_id, student_id, "waitlisted")
    return section_id, students


def test_promote_next_seats_the_first_in_line_and_moves_the_rest_up(database, db, waiting_line):
    section_id, students = waiting_line

    promoted = enrollment.promote_next(database, section_id)

    assert (promoted["student_id"], promoted["status"], promoted["position"]) == (
        students[1],
        "enrolled",
        None,
    )
    assert line(db, section_id) == [
        (students[0], "enrolled", None),
        (students[1], "enrolled", None),
        (students[2], "waitlisted", 1),
        (students[3], "waitlisted", 2),
    ]


ADMIN = Identity(user_id=1, role="admin", is_verified=True, student_id=None, instructor_id=None)
TIMEOUT = 30  # seconds: every wait is bounded, so the test always ends


def wait_for_lock_waiters(db, count: int) -> None:
    """Poll until `count` sessions of the test's database wait for a lock."""
    deadline = time.monotonic() + TIMEOUT
    query = (
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while db.execute(query).fetchone()["n"] < count:
        assert time.monotonic() < deadline, "the calls never queued on the test's lock"
        time.sleep(0.01)


def test_a_promotion_never_picks_a_student_whose_drop_is_committing(
    database, db, database_url, waiting_line
):
    section_id, students = waiting_line
    first_in_line = students[1]

    # The test holds the first in line's row, so their drop stops just before deleting it;
    # the promotion starts meanwhile. Without the drop's lock on the section, the promotion
    # would pick that student, wait for the row, find it gone and seat nobody.
    with psycopg.connect(database_url) as blocker, ThreadPoolExecutor(max_workers=2) as pool:
        blocker.execute(
            "SELECT FROM enrollments WHERE section_id = %s AND student_id = %s FOR UPDATE",
            (section_id, first_in_line),
        )
        dropping = pool.submit(enrollment.drop, database, ADMIN, section_id, first_in_line)
        wait_for_lock_waiters(db, 1)
        promoting = pool.submit(enrollment.promote_next, database, section_id)
        wait_for_lock_waiters(db, 2)
        blocker.rollback()
        dropping.result(timeout=TIMEOUT)
        promoted = promoting.result(timeout=TIMEOUT)

    assert promoted["student_id"] == students[2]
    assert line(db, section_id) == [
        (students[0], "enrolled", None),
        (students[2], "enrolled", None),
        (students[3], "waitlisted", 1),
    ]


def test_promote_next_without_a_free_seat_seats_nobody(database, db, waiting_line):
    section_id, _ = waiting_line
    enrollment.promote_next(database, section_id)  # the second seat
    before = line(db, section_id)

    assert enrollment.promote_next(database, section_id) is None

    assert line(db, section_id) == before


def test_promote_next_with_nobody_waiting_is_none(database, db):
    section_id = new_section(db, capacity=2)

    assert enrollment.promote_next(database, section_id) is None


def test_promote_next_of_a_missing_section_is_not_found(database):
    with pytest.raises(NotFound):
        enrollment.promote_next(database, 987654)


@pytest.mark.parametrize(
    ("status", "ticket", "constraint"),
    [
        ("waitlisted", None, "enrollments_ticket_when_waitlisted"),
        ("enrolled", 7, "enrollments_ticket_when_waitlisted"),
        ("pending", None, "enrollments_status_valid"),
    ],
)
def test_the_table_refuses_a_status_and_ticket_that_disagree(db, status, ticket, constraint):
    section_id = new_section(db, capacity=2)
    (student_id,) = new_students(db, 1)

    with pytest.raises(psycopg.errors.CheckViolation) as raised:
        db.execute(
            "INSERT INTO enrollments (section_id, student_id, status, waitlist_ticket)"
            " VALUES (%s, %s, %s, %s)",
            (section_id, student_id, status, ticket),
        )

    assert raised.value.diag.constraint_name == constraint


def promotion_jobs(db) -> list[dict]:
    """The promote_waitlist jobs in the queue: their arguments and status."""
    return db.execute(
        "SELECT args, status FROM procrastinate_jobs"
        " WHERE task_name = 'promote_waitlist' ORDER BY id"
    ).fetchall()


@pytest.fixture
def full_line(db) -> tuple[int, list[int], list[int]]:
    """A section of two seats, both taken, and three students waiting (in that order)."""
    section_id = new_section(db, capacity=2)
    students = new_students(db, 5)
    for student_id in students[:2]:
        join(db, section_id, student_id, "enrolled")
    for student_id in students[2:]:
        join(db, section_id, student_id, "waitlisted")
    return section_id, students[:2], students[2:]


def test_two_concurrent_drops_defer_two_promotions_and_seat_nobody(
    database, db, database_url, full_line
):
    section_id, seated, waiting = full_line

    # Both drops queue behind the test's lock on the section and run one after the other.
    with psycopg.connect(database_url) as blocker, ThreadPoolExecutor(max_workers=2) as pool:
        blocker.execute("SELECT FROM sections WHERE id = %s FOR UPDATE", (section_id,))
        drops = [
            pool.submit(enrollment.drop, database, ADMIN, section_id, student_id)
            for student_id in seated
        ]
        wait_for_lock_waiters(db, 2)
        blocker.rollback()
        for dropping in drops:
            dropping.result(timeout=TIMEOUT)

    assert promotion_jobs(db) == [{"args": {"section_id": section_id}, "status": "todo"}] * 2
    assert line(db, section_id) == [
        (student_id, "waitlisted", position) for position, student_id in enumerate(waiting, 1)
    ]


def test_two_promotions_at_once_never_seat_one_student_twice_or_over_fill(
    database, db, database_url, full_line
):
    section_id, seated, waiting = full_line
    db.execute("DELETE FROM enrollments WHERE student_id = ANY(%s)", (seated,))  # two free seats

    # The test holds the first in line's row. With the section's lock, one promotion waits
    # for that row and the other for the section; without it, both would pick that student.
    with psycopg.connect(database_url) as blocker, ThreadPoolExecutor(max_workers=2) as pool:
        blocker.execute(
            "SELECT FROM enrollments WHERE section_id = %s AND student_id = %s FOR UPDATE",
            (section_id, waiting[0]),
        )
        runs = [pool.submit(enrollment.fill_free_seats, database, section_id) for _ in range(2)]
        wait_for_lock_waiters(db, 2)
        blocker.rollback()
        promoted = [seat["student_id"] for run in runs for seat in run.result(timeout=TIMEOUT)]

    assert sorted(promoted) == sorted(waiting[:2])
    assert line(db, section_id) == [
        (waiting[0], "enrolled", None),
        (waiting[1], "enrolled", None),
        (waiting[2], "waitlisted", 1),
    ]
    mails = db.execute("SELECT to_address FROM outbox ORDER BY to_address").fetchall()
    assert [mail["to_address"] for mail in mails] == sorted(
        f"s{number}@example.edu" for number in (3, 4)
    )


def test_a_drop_that_rolls_back_defers_no_promotion(database, db, full_line):
    section_id, seated, _ = full_line
    # A check that fails at COMMIT, after the drop has deferred its job: all of it rolls back.
    db.execute(
        """
        CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql
            AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
        CREATE CONSTRAINT TRIGGER refuse_drops AFTER DELETE ON enrollments
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
        """
    )

    with pytest.raises(psycopg.errors.RaiseException):
        enrollment.drop(database, ADMIN, section_id, seated[0])

    assert promotion_jobs(db) == []
    assert (seated[0], "enrolled", None) in line(db, section_id)


def test_filling_the_seats_of_a_deleted_section_seats_nobody(database):
    assert enrollment.fill_free_seats(database, 987654) == []
