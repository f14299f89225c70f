"""The repository layer on its own, without HTTP: each function called with a psycopg
connection to the test's database."""

import itertools
from collections.abc import Iterator
from datetime import datetime, time

import psycopg
import pytest
from helpers import SECTION_DEFAULTS
from psycopg.rows import dict_row

from scheduler.repositories import enrollments, rooms, sections
from scheduler.repositories.courses import courses
from scheduler.repositories.instructors import instructors
from scheduler.repositories.students import students

_numbers = itertools.count(1)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection like the pool's: dict rows, one transaction left uncommitted."""
    with psycopg.connect(database_url, row_factory=dict_row) as connection:
        yield connection
        connection.rollback()


def new_course(conn, **fields) -> dict:
    n = next(_numbers)
    return courses.create(
        conn, {"code": f"CS{100 + n}", "title": f"Course {n}", "credits": 3, **fields}
    )


def new_instructor(conn) -> dict:
    n = next(_numbers)
    return instructors.create(conn, {"full_name": f"Instructor {n}", "email": f"i{n}@example.edu"})


def new_room(conn, capacity: int = 30) -> dict:
    return rooms.rooms.create(conn, {"name": f"Room {next(_numbers)}", "capacity": capacity})


def new_student(conn) -> dict:
    n = next(_numbers)
    return students.create(conn, {"full_name": f"Student {n}", "email": f"s{n}@example.edu"})


def new_section(conn, **fields) -> dict:
    """Insert a section row (MON/WED 09:00–10:15, 2027-spring, capacity 10 unless given),
    with a new course, instructor and room unless their ids are given."""
    row = {**SECTION_DEFAULTS, **fields}
    if "course_id" not in row:
        row["course_id"] = new_course(conn)["id"]
    if "instructor_id" not in row:
        row["instructor_id"] = new_instructor(conn)["id"]
    if "room_id" not in row:
        row["room_id"] = new_room(conn)["id"]
    return sections.sections.create(conn, row)


@pytest.fixture
def other_connection(database_url: str) -> Iterator[psycopg.Connection]:
    """A second session, to see what the first one's locks hold back."""
    with psycopg.connect(database_url, row_factory=dict_row) as connection:
        yield connection
        connection.rollback()


# --- TableRepository ---------------------------------------------------------------------


def test_create_returns_every_column_with_defaults(conn):
    course = courses.create(conn, {"code": "CS101", "title": "Intro", "credits": 4})

    assert course == {
        "id": course["id"],
        "code": "CS101",
        "title": "Intro",
        "description": "",
        "credits": 4,
    }
    assert isinstance(course["id"], int)


def test_get_returns_the_row_or_none(conn):
    course = new_course(conn)

    assert courses.get(conn, course["id"]) == course
    assert courses.get(conn, course["id"] + 1000) is None


def test_page_is_in_id_order_with_the_total(conn):
    created = [new_student(conn) for _ in range(5)]

    assert students.page(conn, 2, 1) == (created[1:3], 5)
    assert students.page(conn, 100, 0) == (created, 5)
    assert students.page(conn, 10, 5) == ([], 5)


def test_page_of_an_empty_table(conn):
    assert instructors.page(conn, 20, 0) == ([], 0)


def test_update_changes_only_the_given_fields(conn):
    course = new_course(conn, description="Old")

    updated = courses.update(conn, course["id"], {"title": "New title", "credits": 6})

    assert updated == {**course, "title": "New title", "credits": 6}
    assert courses.get(conn, course["id"]) == updated


def test_update_with_no_fields_returns_the_row_unchanged(conn):
    course = new_course(conn)

    assert courses.update(conn, course["id"], {}) == course


def test_update_of_a_missing_id_returns_none(conn):
    assert courses.update(conn, 999999, {"title": "Nope"}) is None
    assert courses.update(conn, 999999, {}) is None


def test_delete_says_whether_the_row_existed(conn):
    course = new_course(conn)

    assert courses.delete(conn, course["id"]) is True
    assert courses.get(conn, course["id"]) is None
    assert courses.delete(conn, course["id"]) is False
    assert courses.delete(conn, 999999) is False


def test_constraint_violations_reach_the_caller_untranslated(conn):
    new_student(conn)
    email = students.page(conn, 1, 0)[0][0]["email"]

    with pytest.raises(psycopg.errors.UniqueViolation) as raised:
        students.create(conn, {"full_name": "Twin", "email": email.upper()})

    assert raised.value.diag.constraint_name == "students_email_key"


def test_get_with_lock_holds_the_row_until_the_transaction_ends(conn, other_connection):
    room = new_room(conn)
    conn.commit()

    assert rooms.rooms.get(conn, room["id"], lock=True) == room

    with pytest.raises(psycopg.errors.LockNotAvailable):
        other_connection.execute(
            "SELECT id FROM rooms WHERE id = %s FOR UPDATE NOWAIT", (room["id"],)
        )
    other_connection.rollback()
    conn.commit()
    assert other_connection.execute(
        "SELECT id FROM rooms WHERE id = %s FOR UPDATE NOWAIT", (room["id"],)
    ).fetchone() == {"id": room["id"]}


# --- rooms -------------------------------------------------------------------------------


def test_largest_section_capacity(conn):
    room = new_room(conn, capacity=50)
    assert rooms.largest_section_capacity(conn, room["id"]) == 0

    new_section(conn, room_id=room["id"], capacity=12)
    new_section(conn, room_id=room["id"], capacity=40, term="2027-fall")
    new_section(conn, capacity=45)  # another room

    assert rooms.largest_section_capacity(conn, room["id"]) == 40


# --- sections ----------------------------------------------------------------------------


def test_section_get_embeds_relations_and_seats(conn):
    course = new_course(conn, title="Algorithms")
    instructor = new_instructor(conn)
    room = new_room(conn)
    row = new_section(
        conn, course_id=course["id"], instructor_id=instructor["id"], room_id=room["id"]
    )
    enrollments.create(conn, row["id"], new_student(conn)["id"])

    assert sections.get(conn, row["id"]) == {
        "id": row["id"],
        "term": "2027-spring",
        "capacity": 10,
        "days": ["MON", "WED"],
        "starts_at": "09:00",
        "ends_at": "10:15",
        "notes": "",
        "course": {"id": course["id"], "code": course["code"], "title": "Algorithms"},
        "instructor": {"id": instructor["id"], "full_name": instructor["full_name"]},
        "room": {"id": room["id"], "name": room["name"]},
        "enrolled": 1,
        "seats_left": 9,
        "waitlisted": 0,
    }
    assert sections.get(conn, row["id"] + 1000) is None


def test_section_table_row_holds_ids_and_time_values(conn):
    row = new_section(conn)

    stored = sections.lock(conn, row["id"])

    assert stored == {**row, "days": ["MON", "WED"]}  # the lock's days: a list, as a Meeting's
    assert (stored["starts_at"], stored["ends_at"]) == (time(9, 0), time(10, 15))
    assert sections.lock(conn, row["id"] + 1000) is None


@pytest.fixture
def spread(conn) -> dict:
    """Four sections over two courses, instructors, rooms and terms, plus a student in two."""
    ids = {
        "c1": new_course(conn)["id"],
        "c2": new_course(conn)["id"],
        "i1": new_instructor(conn)["id"],
        "i2": new_instructor(conn)["id"],
        "r1": new_room(conn)["id"],
        "r2": new_room(conn)["id"],
        "st": new_student(conn)["id"],
    }
    for name, course, instructor, room, term in (
        ("s1", "c1", "i1", "r1", "2027-spring"),
        ("s2", "c2", "i2", "r2", "2027-spring"),
        ("s3", "c1", "i2", "r1", "2027-fall"),
        ("s4", "c2", "i1", "r2", "2027-fall"),
    ):
        ids[name] = new_section(
            conn,
            course_id=ids[course],
            instructor_id=ids[instructor],
            room_id=ids[room],
            term=term,
        )["id"]
    enrollments.create(conn, ids["s2"], ids["st"])
    enrollments.create(conn, ids["s3"], ids["st"])
    return ids


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["s1", "s2", "s3", "s4"]),
        ({"term": "2027-fall"}, ["s3", "s4"]),
        ({"course_id": "c2"}, ["s2", "s4"]),
        ({"instructor_id": "i2"}, ["s2", "s3"]),
        ({"room_id": "r1"}, ["s1", "s3"]),
        ({"student_id": "st"}, ["s2", "s3"]),
        ({"term": "2027-spring", "room_id": "r2"}, ["s2"]),
        ({"student_id": "st", "term": "2027-fall"}, ["s3"]),
        ({"course_id": "c1", "instructor_id": "i1", "room_id": "r2"}, []),
        ({"term": "2026-fall"}, []),
        ({"term": None, "course_id": None}, ["s1", "s2", "s3", "s4"]),
    ],
)
def test_section_page_filters(conn, spread, filters, expected):
    resolved = {name: spread.get(value, value) for name, value in filters.items()}

    items, total = sections.page(conn, resolved, 100, 0)

    assert [item["id"] for item in items] == [spread[name] for name in expected]
    assert total == len(expected)


def test_section_page_pages_after_filtering(conn, spread):
    items, total = sections.page(conn, {"course_id": spread["c1"]}, 1, 1)

    assert [item["id"] for item in items] == [spread["s3"]]
    assert total == 2


def test_section_page_counts_enrollments_per_section(conn, spread):
    items, _ = sections.page(conn, {}, 100, 0)

    assert {item["id"]: item["enrolled"] for item in items} == {
        spread["s1"]: 0,
        spread["s2"]: 1,
        spread["s3"]: 1,
        spread["s4"]: 0,
    }


@pytest.fixture
def timetable(conn) -> dict:
    """A student in `mine` (MON/WED 09:00–10:15) and `moving` (TUE/THU 09:00–10:15), both
    2027-spring, and in `fall` (MON 11:00–12:00, 2027-fall); another student holds `theirs`
    (FRI 09:00–10:00, 2027-spring) and is also in `moving`."""
    student, other = new_student(conn)["id"], new_student(conn)["id"]
    ids = {
        "student": student,
        "mine": new_section(conn)["id"],
        "moving": new_section(conn, days=["TUE", "THU"])["id"],
        "fall": new_section(
            conn, term="2027-fall", days=["MON"], starts_at="11:00", ends_at="12:00"
        )["id"],
        "theirs": new_section(conn, days=["FRI"], starts_at="09:00", ends_at="10:00")["id"],
    }
    for section in ("mine", "moving", "fall"):
        enrollments.create(conn, ids[section], student)
    enrollments.create(conn, ids["theirs"], other)
    enrollments.create(conn, ids["moving"], other)
    return ids


@pytest.mark.parametrize(
    ("days", "starts_at", "ends_at", "clash"),
    [
        (["MON"], "10:00", "11:00", True),  # overlaps `mine` on Monday
        (["WED", "SAT"], "08:00", "09:01", True),
        (["MON", "WED"], "10:15", "11:00", False),  # right after `mine`
        (["MON"], "11:00", "12:00", False),  # meets when `fall` does, but in another term
        (["TUE", "THU"], "09:00", "10:15", False),  # where it already is: not a clash with itself
        (["FRI"], "09:00", "10:00", True),  # `theirs`, held by the other student in `moving`
        (["SUN"], "09:00", "10:00", False),
    ],
)
def test_enrolled_students_clash(conn, timetable, days, starts_at, ends_at, clash):
    assert (
        sections.enrolled_students_clash(conn, timetable["moving"], days, starts_at, ends_at)
        is clash
    )


def test_enrolled_students_clash_takes_days_and_times_as_stored(conn, timetable):
    stored = sections.lock(conn, timetable["moving"])  # days as a list, times as time

    assert (
        sections.enrolled_students_clash(
            conn, timetable["moving"], stored["days"], time(10, 0), stored["ends_at"]
        )
        is False
    )
    assert (
        sections.enrolled_students_clash(
            conn, timetable["moving"], "{MON}", stored["starts_at"], stored["ends_at"]
        )
        is True
    )


def test_enrolled_students_clash_without_enrollments_is_false(conn, timetable):
    empty = new_section(conn, days=["SAT"])["id"]

    assert sections.enrolled_students_clash(conn, empty, ["MON", "WED"], "09:00", "10:15") is False


# --- enrollments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "days", "starts_at", "ends_at", "clashes_with"),
    [
        ("2027-spring", ["WED"], "10:00", "11:00", "mine"),
        ("2027-spring", ["TUE"], "08:00", "09:30", "moving"),
        ("2027-fall", ["MON"], "11:59", "13:00", "fall"),
        ("2027-fall", ["WED"], "09:00", "10:15", None),  # `mine`'s time, another term
        ("2027-spring", ["MON", "WED"], "10:15", "11:00", None),  # adjacent to `mine`
        ("2027-spring", ["FRI"], "09:00", "10:00", None),  # only the other student's `theirs`
    ],
)
def test_seat_and_timetable_names_the_first_clash(
    conn, timetable, term, days, starts_at, ends_at, clashes_with
):
    candidate = new_section(conn, term=term, days=days, starts_at=starts_at, ends_at=ends_at)

    clash = enrollments.seat_and_timetable(conn, candidate["id"], timetable["student"])["clash"]

    if clashes_with is None:
        assert clash is None
    else:
        other = sections.lock(conn, timetable[clashes_with])
        code = courses.get(conn, other["course_id"])["code"]
        assert clash == {
            "id": timetable[clashes_with],
            "code": code,
            "days": other["days"],
            "starts_at": other["starts_at"],
            "ends_at": other["ends_at"],
        }


def test_seat_and_timetable_sees_an_enrollment_and_counts_the_seats(conn, timetable):
    held = enrollments.seat_and_timetable(conn, timetable["moving"], timetable["student"])
    not_held = enrollments.seat_and_timetable(conn, timetable["theirs"], timetable["student"])

    assert held["already_enrolled"] is True
    assert held["enrolled"] == 2
    assert held["clash"] is None  # a section does not clash with itself
    assert not_held["already_enrolled"] is False
    assert not_held["enrolled"] == 1


def test_enrollment_create_get_count_and_delete(conn):
    section = new_section(conn)
    student = new_student(conn)

    enrollment = enrollments.create(conn, section["id"], student["id"])

    assert set(enrollment) == {"section_id", "student_id", "enrolled_at", "status", "position"}
    assert (enrollment["section_id"], enrollment["student_id"]) == (section["id"], student["id"])
    assert (enrollment["status"], enrollment["position"]) == ("enrolled", None)
    assert isinstance(enrollment["enrolled_at"], datetime)
    assert enrollment["enrolled_at"].tzinfo is not None
    assert enrollments.get(conn, section["id"], student["id"]) == enrollment
    assert enrollments.count(conn, section["id"]) == 1
    assert enrollments.delete(conn, section["id"], student["id"]) == "enrolled"
    assert enrollments.get(conn, section["id"], student["id"]) is None
    assert enrollments.count(conn, section["id"]) == 0
    assert enrollments.delete(conn, section["id"], student["id"]) is None


def test_enrolling_twice_violates_the_primary_key(conn):
    section = new_section(conn)
    student = new_student(conn)
    enrollments.create(conn, section["id"], student["id"])

    with pytest.raises(psycopg.errors.UniqueViolation) as raised:
        enrollments.create(conn, section["id"], student["id"])

    assert raised.value.diag.constraint_name == "enrollments_pkey"


def test_seat_and_timetable_adds_the_section_to_the_students_credits_in_its_term(conn):
    student = new_student(conn)
    target = new_section(conn, course_id=new_course(conn, credits=3)["id"])
    same_term = new_section(conn, course_id=new_course(conn, credits=4)["id"])
    other_term = new_section(conn, course_id=new_course(conn, credits=5)["id"], term="2027-fall")
    assert enrollments.seat_and_timetable(conn, target["id"], student["id"])["credits"] == 3

    enrollments.create(conn, same_term["id"], student["id"])
    enrollments.create(conn, other_term["id"], student["id"])
    enrollments.create(conn, same_term["id"], new_student(conn)["id"])

    assert enrollments.seat_and_timetable(conn, target["id"], student["id"])["credits"] == 3 + 4


def test_roster_joins_students_in_enrollment_order_and_pages(conn):
    section = new_section(conn)
    other = new_section(conn)
    people = [new_student(conn) for _ in range(3)]
    for person in people:
        enrollments.create(conn, section["id"], person["id"])
        conn.commit()  # a new transaction, so each enrolled_at is later than the last
    enrollments.create(conn, other["id"], people[0]["id"])

    items, total = enrollments.roster(conn, section["id"], 2, 1)

    assert total == 3
    assert [item["student"] for item in items] == people[1:3]
    assert all(isinstance(item["enrolled_at"], datetime) for item in items)
    assert enrollments.roster(conn, new_section(conn)["id"], 20, 0) == ([], 0)
