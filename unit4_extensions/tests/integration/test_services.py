"""The service layer without HTTP or Flask: the business rules called with a `Database` (the
unit of work) and an `Identity`, as any other transport (a CLI, a worker) would call them.

Records are arranged with plain SQL through `db` (autocommit); each service call opens its own
transaction on `database`, a unit of work on this test's database, committed on success and
rolled back on refusal. A refused call must raise the right domain error and leave the
database as it was, except where a refusal is itself recorded (failed logins, token reuse).
"""

import ast
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from settings import TEST_PASSWORD, TEST_SECRET_KEY

import scheduler
from scheduler.errors import database_error_to_api_error
from scheduler.identity import Identity
from scheduler.services import access, auth, enrollment, people, rooms, sections
from scheduler.services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidCredentials,
    NotFound,
    TokenRejected,
    TooManyRequests,
    ValidationFailed,
)
from scheduler.unit_of_work import Database

TERM = "2027-spring"
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


# --- arrangement ---------------------------------------------------------------------------


@pytest.fixture
def database(database_url) -> Iterator[Database]:
    """The unit of work services run on, built on this test's database as the app builds its
    own: a small pool of dict-row autocommit connections, a transaction where a service
    opens one."""
    with ConnectionPool(
        database_url, min_size=1, max_size=2, kwargs={"row_factory": dict_row, "autocommit": True}
    ) as pool:
        yield Database(pool)


def insert(db, table: str, **values) -> int:
    """Insert one row with these column values and return its id."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(map(sql.Placeholder, values)),
    )
    return db.execute(query, values).fetchone()["id"]


class Catalog:
    """Records made straight in the database, with unique names."""

    def __init__(self, db):
        self.db = db
        self.count = 0

    def next(self) -> int:
        self.count += 1
        return self.count

    def course(self, credits: int = 3) -> int:
        n = self.next()
        return insert(self.db, "courses", code=f"CS{100 + n}", title=f"Course {n}", credits=credits)

    def instructor(self) -> int:
        n = self.next()
        return insert(
            self.db, "instructors", full_name=f"Instructor {n}", email=f"i{n}@example.edu"
        )

    def room(self, capacity: int = 30) -> int:
        n = self.next()
        return insert(self.db, "rooms", name=f"Room {n}", capacity=capacity)

    def student(self) -> int:
        n = self.next()
        return insert(self.db, "students", full_name=f"Student {n}", email=f"s{n}@example.edu")

    def section(
        self,
        *,
        course: int | None = None,
        instructor: int | None = None,
        room: int | None = None,
        term: str = TERM,
        capacity: int = 10,
        days: tuple[str, ...] = ("MON", "WED"),
        starts_at: str = "09:00",
        ends_at: str = "10:15",
    ) -> int:
        """A section; by default with a course, instructor and room of its own."""
        return self.db.execute(
            """
            INSERT INTO sections
                (course_id, instructor_id, room_id, term, capacity, days, starts_at, ends_at)
            VALUES (%s, %s, %s, %s, %s, %s::weekday[], %s, %s)
            RETURNING id
            """,
            (
                course or self.course(),
                instructor or self.instructor(),
                room or self.room(),
                term,
                capacity,
                list(days),
                starts_at,
                ends_at,
            ),
        ).fetchone()["id"]

    def enroll(self, section_id: int, student_id: int) -> None:
        self.db.execute(
            "INSERT INTO enrollments (section_id, student_id) VALUES (%s, %s)",
            (section_id, student_id),
        )


@pytest.fixture
def catalog(db) -> Catalog:
    return Catalog(db)


ADMIN = Identity(user_id=1, role="admin", is_verified=True, student_id=None, instructor_id=None)


def as_student(student_id: int, *, verified: bool = True) -> Identity:
    return Identity(
        user_id=1000 + student_id,
        role="student",
        is_verified=verified,
        student_id=student_id,
        instructor_id=None,
    )


def as_instructor(instructor_id: int) -> Identity:
    return Identity(
        user_id=2000 + instructor_id,
        role="instructor",
        is_verified=True,
        student_id=None,
        instructor_id=instructor_id,
    )


def refused(database, error_class: type[DomainError], call, *args) -> DomainError:
    """Run a service call that must be refused with `error_class`; return the error."""
    with pytest.raises(DomainError) as raised:
        call(database, *args)
    assert type(raised.value) is error_class, (type(raised.value), raised.value.detail)
    return raised.value


def enrollments_of(db, student_id: int) -> set[int]:
    rows = db.execute("SELECT section_id FROM enrollments WHERE student_id = %s", (student_id,))
    return {row["section_id"] for row in rows}


def all_enrollments(db) -> list[tuple[int, int]]:
    rows = db.execute("SELECT section_id, student_id FROM enrollments ORDER BY 1, 2").fetchall()
    return [(row["section_id"], row["student_id"]) for row in rows]


# --- enroll: who may enroll whom ----------------------------------------------------------


def test_an_admin_enrolls_a_student_and_gets_the_enrollment(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()

    created = enrollment.enroll(database, ADMIN, section_id, student_id)

    assert set(created) == {"section_id", "student_id", "enrolled_at", "status", "position"}
    assert (created["section_id"], created["student_id"]) == (section_id, student_id)
    assert (created["status"], created["position"]) == ("enrolled", None)
    assert created["enrolled_at"].tzinfo is not None
    assert all_enrollments(db) == [(section_id, student_id)]


def test_a_verified_student_enrolls_themselves(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()

    enrollment.enroll(database, as_student(student_id), section_id, student_id)

    assert enrollments_of(db, student_id) == {section_id}


def test_a_student_may_not_enroll_another_student(database, db, catalog):
    section_id, me, other = catalog.section(), catalog.student(), catalog.student()

    refused(database, Forbidden, enrollment.enroll, as_student(me), section_id, other)

    assert all_enrollments(db) == []


def test_an_unverified_student_may_not_enroll_themselves(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()

    error = refused(
        database,
        Forbidden,
        enrollment.enroll,
        as_student(student_id, verified=False),
        section_id,
        student_id,
    )

    assert "verify" in error.detail.lower()
    assert all_enrollments(db) == []


def test_an_admin_enrolls_a_student_whose_account_is_unverified(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()
    refused(
        database,
        Forbidden,
        enrollment.enroll,
        as_student(student_id, verified=False),
        section_id,
        student_id,
    )

    enrollment.enroll(database, ADMIN, section_id, student_id)

    assert enrollments_of(db, student_id) == {section_id}


def test_an_instructor_may_not_enroll_anyone(database, db, catalog):
    instructor_id = catalog.instructor()
    section_id = catalog.section(instructor=instructor_id)
    student_id = catalog.student()

    refused(
        database, Forbidden, enrollment.enroll, as_instructor(instructor_id), section_id, student_id
    )

    assert all_enrollments(db) == []


def test_ownership_is_checked_before_the_section_exists(database, catalog):
    me, other = catalog.student(), catalog.student()

    refused(database, Forbidden, enrollment.enroll, as_student(me), 987654321, other)


# --- enroll: the rules ---------------------------------------------------------------------


def test_enrolling_in_a_section_that_does_not_exist_is_not_found(database, db, catalog):
    student_id = catalog.student()

    refused(database, NotFound, enrollment.enroll, ADMIN, 987654321, student_id)
    refused(database, NotFound, enrollment.enroll, as_student(student_id), 987654321, student_id)

    assert all_enrollments(db) == []


def test_enrolling_a_student_that_does_not_exist_fails_validation_on_student_id(
    database, db, catalog
):
    section_id = catalog.section()

    error = refused(database, ValidationFailed, enrollment.enroll, ADMIN, section_id, 987654321)

    assert set(error.errors) == {"student_id"}
    assert all_enrollments(db) == []


def test_enrolling_twice_is_a_conflict(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()
    catalog.enroll(section_id, student_id)

    error = refused(database, Conflict, enrollment.enroll, ADMIN, section_id, student_id)

    assert "already enrolled" in error.detail
    assert all_enrollments(db) == [(section_id, student_id)]


@pytest.mark.parametrize(
    ("days", "starts_at", "ends_at"),
    [
        (("MON",), "10:00", "11:00"),  # overlaps the end
        (("WED",), "08:00", "09:01"),  # overlaps the start
        (("MON", "FRI"), "09:30", "09:45"),  # inside, on one shared day
        (("MON", "WED"), "09:00", "10:15"),  # the very same times
    ],
)
def test_a_timetable_clash_in_the_same_term_is_a_conflict_naming_the_section(
    database, db, catalog, days, starts_at, ends_at
):
    student_id = catalog.student()
    taken = catalog.section(days=("MON", "WED"), starts_at="09:00", ends_at="10:15")
    catalog.enroll(taken, student_id)
    clashing = catalog.section(days=days, starts_at=starts_at, ends_at=ends_at)

    error = refused(
        database, Conflict, enrollment.enroll, as_student(student_id), clashing, student_id
    )

    assert str(taken) in error.detail
    assert enrollments_of(db, student_id) == {taken}


def test_a_clash_says_when_both_meet(database, catalog):
    student_id = catalog.student()
    catalog.enroll(
        catalog.section(days=("MON", "WED"), starts_at="09:00", ends_at="10:15"), student_id
    )
    clashing = catalog.section(days=("MON", "FRI"), starts_at="09:30", ends_at="09:45")

    error = refused(
        database, Conflict, enrollment.enroll, as_student(student_id), clashing, student_id
    )

    assert error.detail.endswith("both meet MON 09:30-09:45.")


# The checks run in one order, whatever else is wrong: duplicate, clash, credits (a full
# section waitlists instead of refusing).
def test_already_enrolled_comes_before_full(database, catalog):
    student_id = catalog.student()
    section_id = catalog.section(capacity=1)
    catalog.enroll(section_id, student_id)

    error = refused(database, Conflict, enrollment.enroll, ADMIN, section_id, student_id)

    assert "already enrolled" in error.detail


def test_a_full_section_still_refuses_a_clash_rather_than_waitlisting_it(database, db, catalog):
    # Unit 4: a full section waitlists, but a student waits only where they could sit.
    student_id = catalog.student()
    catalog.enroll(catalog.section(), student_id)
    full = catalog.section(capacity=1)
    catalog.enroll(full, catalog.student())

    error = refused(database, Conflict, enrollment.enroll, ADMIN, full, student_id)

    assert "clashes" in error.detail
    assert full not in enrollments_of(db, student_id)


def test_a_clash_comes_before_the_credit_limit(database, db, catalog):
    student_id = catalog.student()
    taken = catalog.section(course=catalog.course(credits=12))
    catalog.enroll(taken, student_id)
    clashing_and_heavy = catalog.section(course=catalog.course(credits=7))

    error = refused(database, Conflict, enrollment.enroll, ADMIN, clashing_and_heavy, student_id)

    assert "clashes" in error.detail
    assert enrollments_of(db, student_id) == {taken}


@pytest.mark.parametrize(
    ("term", "days", "starts_at", "ends_at"),
    [
        ("2027-fall", ("MON", "WED"), "09:00", "10:15"),  # same times, another term
        (TERM, ("MON",), "10:15", "11:00"),  # starts as the other ends
        (TERM, ("MON",), "08:00", "09:00"),  # ends as the other starts
        (TERM, ("TUE", "THU"), "09:00", "10:15"),  # other days
    ],
)
def test_no_clash_across_terms_adjacent_times_or_other_days(
    database, db, catalog, term, days, starts_at, ends_at
):
    student_id = catalog.student()
    taken = catalog.section(days=("MON", "WED"), starts_at="09:00", ends_at="10:15")
    catalog.enroll(taken, student_id)
    other = catalog.section(term=term, days=days, starts_at=starts_at, ends_at=ends_at)

    enrollment.enroll(database, as_student(student_id), other, student_id)

    assert enrollments_of(db, student_id) == {taken, other}


def test_another_students_timetable_does_not_clash(database, db, catalog):
    me, other = catalog.student(), catalog.student()
    theirs = catalog.section()
    catalog.enroll(theirs, other)
    same_time = catalog.section()

    enrollment.enroll(database, as_student(me), same_time, me)

    assert enrollments_of(db, me) == {same_time}


# --- enroll: at most 18 credits per student per term ----------------------------------------


def sections_on_separate_days(catalog: Catalog, credits: list[int], term: str = TERM) -> list[int]:
    """One section per course of these credits, each on its own weekday (so none clash)."""
    assert len(credits) <= len(WEEKDAYS)
    return [
        catalog.section(course=catalog.course(credits=value), term=term, days=(day,))
        for value, day in zip(credits, WEEKDAYS, strict=False)
    ]


def test_a_fifth_four_credit_course_in_one_term_is_refused(database, db, catalog):
    student_id = catalog.student()
    actor = as_student(student_id)
    *first_four, fifth = sections_on_separate_days(catalog, [4, 4, 4, 4, 4])

    for section_id in first_four:
        enrollment.enroll(database, actor, section_id, student_id)
    error = refused(database, Conflict, enrollment.enroll, actor, fifth, student_id)

    assert "20" in error.detail
    assert "18" in error.detail
    assert enrollments_of(db, student_id) == set(first_four)


def test_exactly_18_credits_is_allowed_and_one_more_is_refused(database, db, catalog):
    student_id = catalog.student()
    *to_eighteen, one_more = sections_on_separate_days(catalog, [4, 4, 4, 4, 2, 1])

    for section_id in to_eighteen:
        enrollment.enroll(database, ADMIN, section_id, student_id)
    error = refused(database, Conflict, enrollment.enroll, ADMIN, one_more, student_id)

    assert "19 credits" in error.detail
    assert "18" in error.detail
    assert enrollments_of(db, student_id) == set(to_eighteen)


def test_a_single_twelve_credit_course_plus_seven_is_refused(database, db, catalog):
    student_id = catalog.student()
    heavy, seven = sections_on_separate_days(catalog, [12, 7])
    enrollment.enroll(database, ADMIN, heavy, student_id)

    refused(database, Conflict, enrollment.enroll, ADMIN, seven, student_id)


def test_credits_in_other_terms_do_not_count(database, db, catalog):
    student_id = catalog.student()
    spring = sections_on_separate_days(catalog, [4, 4, 4, 4])
    fall = sections_on_separate_days(catalog, [4, 4, 4, 4], term="2027-fall")
    next_year = sections_on_separate_days(catalog, [4], term="2028-spring")

    for section_id in spring + fall + next_year:
        enrollment.enroll(database, ADMIN, section_id, student_id)

    assert enrollments_of(db, student_id) == set(spring + fall + next_year)


def test_other_students_credits_do_not_count(database, db, catalog):
    me, other = catalog.student(), catalog.student()
    sections_ = sections_on_separate_days(catalog, [4, 4, 4, 4, 2])
    for section_id in sections_:
        catalog.enroll(section_id, other)

    for section_id in sections_:
        enrollment.enroll(database, as_student(me), section_id, me)

    assert enrollments_of(db, me) == set(sections_)


def test_a_dropped_course_no_longer_counts(database, db, catalog):
    student_id = catalog.student()
    *first_four, fifth = sections_on_separate_days(catalog, [4, 4, 4, 4, 4])
    for section_id in first_four:
        catalog.enroll(section_id, student_id)

    enrollment.drop(database, ADMIN, first_four[0], student_id)
    enrollment.enroll(database, ADMIN, fifth, student_id)

    assert enrollments_of(db, student_id) == {*first_four[1:], fifth}


# --- drop ------------------------------------------------------------------------------------


def test_a_student_drops_their_own_enrollment(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()
    catalog.enroll(section_id, student_id)

    assert enrollment.drop(database, as_student(student_id), section_id, student_id) is None

    assert all_enrollments(db) == []


def test_a_student_may_not_drop_another_students_enrollment(database, db, catalog):
    section_id, me, other = catalog.section(), catalog.student(), catalog.student()
    catalog.enroll(section_id, other)

    refused(database, Forbidden, enrollment.drop, as_student(me), section_id, other)

    assert all_enrollments(db) == [(section_id, other)]


def test_an_instructor_may_not_drop_a_student_even_from_their_own_section(database, db, catalog):
    instructor_id = catalog.instructor()
    section_id, student_id = catalog.section(instructor=instructor_id), catalog.student()
    catalog.enroll(section_id, student_id)

    refused(
        database, Forbidden, enrollment.drop, as_instructor(instructor_id), section_id, student_id
    )

    assert all_enrollments(db) == [(section_id, student_id)]


def test_an_admin_drops_anyone(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()
    catalog.enroll(section_id, student_id)

    enrollment.drop(database, ADMIN, section_id, student_id)

    assert all_enrollments(db) == []


def test_dropping_an_enrollment_that_does_not_exist_is_not_found(database, db, catalog):
    section_id, student_id, other = catalog.section(), catalog.student(), catalog.student()
    catalog.enroll(section_id, other)

    refused(database, NotFound, enrollment.drop, ADMIN, section_id, student_id)
    refused(database, NotFound, enrollment.drop, as_student(student_id), section_id, student_id)
    refused(database, NotFound, enrollment.drop, ADMIN, 987654321, other)

    assert all_enrollments(db) == [(section_id, other)]


# --- sections: create -------------------------------------------------------------------------


def section_fields(catalog: Catalog, **overrides) -> dict:
    """Validated create fields, as the route hands them to the service."""
    fields = {
        "term": TERM,
        "capacity": 10,
        "days": ["MON", "WED"],
        "starts_at": "09:00",
        "ends_at": "10:15",
        **overrides,
    }
    fields.setdefault("course_id", catalog.course())
    fields.setdefault("instructor_id", catalog.instructor())
    fields.setdefault("room_id", catalog.room())
    return fields


def section_rows(db) -> list[dict]:
    return db.execute("SELECT * FROM sections ORDER BY id").fetchall()


def test_create_section_returns_the_section_with_its_relations(database, db, catalog):
    fields = section_fields(catalog, notes="Bring a laptop.")

    created = sections.create_section(database, fields)

    assert created["course"]["id"] == fields["course_id"]
    assert created["instructor"]["id"] == fields["instructor_id"]
    assert created["room"]["id"] == fields["room_id"]
    assert (created["days"], created["starts_at"], created["ends_at"]) == (
        ["MON", "WED"],
        "09:00",
        "10:15",
    )
    assert (created["enrolled"], created["seats_left"], created["notes"]) == (
        0,
        10,
        "Bring a laptop.",
    )
    assert [row["id"] for row in section_rows(db)] == [created["id"]]


def test_create_section_names_every_reference_that_does_not_exist(database, db, catalog):
    fields = section_fields(catalog, course_id=987654321, instructor_id=987654322, room_id=9876)

    error = refused(database, ValidationFailed, sections.create_section, fields)

    assert set(error.errors) == {"course_id", "instructor_id", "room_id"}
    assert section_rows(db) == []


@pytest.mark.parametrize("missing", ["course_id", "instructor_id", "room_id"])
def test_create_section_names_the_one_missing_reference(database, db, catalog, missing):
    fields = section_fields(catalog, **{missing: 987654321})

    error = refused(database, ValidationFailed, sections.create_section, fields)

    assert set(error.errors) == {missing}
    assert section_rows(db) == []


def test_create_section_bigger_than_its_room_fails_on_capacity(database, db, catalog):
    fields = section_fields(catalog, room_id=catalog.room(capacity=20), capacity=21)

    error = refused(database, ValidationFailed, sections.create_section, fields)

    assert set(error.errors) == {"capacity"}
    assert section_rows(db) == []


@pytest.mark.parametrize(
    ("shared", "constraint"),
    [
        ("room_id", "sections_room_double_booked"),
        ("instructor_id", "sections_instructor_double_booked"),
    ],
)
def test_double_booking_is_refused_by_the_database_and_maps_to_a_conflict(
    database, db, catalog, shared, constraint
):
    first = section_fields(catalog)
    sections.create_section(database, first)
    second = section_fields(catalog, **{shared: first[shared]}, days=["WED"], starts_at="10:00")

    with pytest.raises(psycopg.errors.ExclusionViolation) as raised:
        sections.create_section(database, second)

    assert raised.value.diag.constraint_name == constraint
    mapped = database_error_to_api_error(raised.value)
    assert type(mapped) is Conflict
    assert len(section_rows(db)) == 1


# --- sections: update ---------------------------------------------------------------------


def test_an_admin_changes_any_field(database, db, catalog):
    section_id = catalog.section()
    room_id = catalog.room(capacity=50)

    updated = sections.update_section(
        database,
        ADMIN,
        section_id,
        {"capacity": 40, "room_id": room_id, "days": ["FRI"], "notes": "Moved."},
    )

    assert (updated["capacity"], updated["room"]["id"], updated["days"], updated["notes"]) == (
        40,
        room_id,
        ["FRI"],
        "Moved.",
    )
    row = section_rows(db)[0]
    assert (row["capacity"], row["room_id"], row["notes"]) == (40, room_id, "Moved.")


def test_an_instructor_changes_the_notes_of_their_own_section(database, db, catalog):
    instructor_id = catalog.instructor()
    section_id = catalog.section(instructor=instructor_id)

    updated = sections.update_section(
        database, as_instructor(instructor_id), section_id, {"notes": "Office hours on Friday."}
    )

    assert updated["notes"] == "Office hours on Friday."
    assert section_rows(db)[0]["notes"] == "Office hours on Friday."


@pytest.mark.parametrize(
    "fields",
    [
        {"capacity": 5},
        {"term": "2027-fall"},
        {"days": ["FRI"]},
        {"starts_at": "08:00"},
        {"notes": "Also the room.", "room_id": 1},
    ],
    ids="+".join,
)
def test_an_instructor_may_not_change_other_fields_of_their_own_section(
    database, db, catalog, fields
):
    instructor_id = catalog.instructor()
    section_id = catalog.section(instructor=instructor_id)
    before = section_rows(db)

    refused(
        database,
        Forbidden,
        sections.update_section,
        as_instructor(instructor_id),
        section_id,
        fields,
    )

    assert section_rows(db) == before


def test_an_instructor_may_not_change_another_instructors_section(database, db, catalog):
    mine, theirs = catalog.instructor(), catalog.instructor()
    catalog.section(instructor=mine)
    their_section = catalog.section(instructor=theirs)
    before = section_rows(db)

    refused(
        database,
        Forbidden,
        sections.update_section,
        as_instructor(mine),
        their_section,
        {"notes": "X"},
    )

    assert section_rows(db) == before


def test_a_student_may_not_change_a_section(database, db, catalog):
    section_id, student_id = catalog.section(), catalog.student()
    before = section_rows(db)

    refused(
        database,
        Forbidden,
        sections.update_section,
        as_student(student_id),
        section_id,
        {"notes": "X"},
    )

    assert section_rows(db) == before


def test_updating_a_section_that_does_not_exist_is_not_found(database, catalog):
    instructor_id = catalog.instructor()

    refused(database, NotFound, sections.update_section, ADMIN, 987654321, {"notes": "X"})
    refused(
        database, NotFound, sections.update_section, as_instructor(instructor_id), 987654321, {}
    )


def test_capacity_below_the_enrolled_count_is_a_conflict(database, db, catalog):
    section_id = catalog.section(capacity=3)
    for _ in range(2):
        catalog.enroll(section_id, catalog.student())
    before = section_rows(db)

    refused(database, Conflict, sections.update_section, ADMIN, section_id, {"capacity": 1})
    assert section_rows(db) == before

    assert sections.update_section(database, ADMIN, section_id, {"capacity": 2})["capacity"] == 2


def test_changing_the_term_of_a_section_with_students_is_a_conflict(database, db, catalog):
    section_id, empty_id = catalog.section(), catalog.section(days=("FRI",))
    catalog.enroll(section_id, catalog.student())
    before = section_rows(db)

    refused(database, Conflict, sections.update_section, ADMIN, section_id, {"term": "2027-fall"})
    assert section_rows(db) == before

    assert sections.update_section(database, ADMIN, empty_id, {"term": "2027-fall"})["term"] == (
        "2027-fall"
    )


def test_moving_a_section_into_an_enrolled_students_other_section_is_a_conflict(
    database, db, catalog
):
    student_id = catalog.student()
    moving = catalog.section(days=("MON",), starts_at="09:00", ends_at="10:00")
    fixed = catalog.section(days=("TUE",), starts_at="09:00", ends_at="10:00")
    catalog.enroll(moving, student_id)
    catalog.enroll(fixed, student_id)
    before = section_rows(db)

    refused(database, Conflict, sections.update_section, ADMIN, moving, {"days": ["TUE"]})
    assert section_rows(db) == before

    moved = sections.update_section(
        database, ADMIN, moving, {"days": ["WED"], "starts_at": "08:00"}
    )
    assert (moved["days"], moved["starts_at"]) == (["WED"], "08:00")


def test_moving_a_section_into_a_room_too_small_fails_on_capacity(database, db, catalog):
    section_id = catalog.section(capacity=25)
    small = catalog.room(capacity=20)
    before = section_rows(db)

    error = refused(
        database, ValidationFailed, sections.update_section, ADMIN, section_id, {"room_id": small}
    )

    assert set(error.errors) == {"capacity"}
    assert section_rows(db) == before


def test_moving_a_section_to_a_missing_room_fails_on_room_id(database, db, catalog):
    section_id = catalog.section()

    error = refused(
        database,
        ValidationFailed,
        sections.update_section,
        ADMIN,
        section_id,
        {"room_id": 987654321},
    )

    assert set(error.errors) == {"room_id"}


# --- rooms ---------------------------------------------------------------------------------


def test_update_room_changes_its_fields(database, db, catalog):
    room_id = catalog.room(capacity=30)

    updated = rooms.update_room(database, room_id, {"name": "Aula Magna", "capacity": 300})

    assert updated == {"id": room_id, "name": "Aula Magna", "capacity": 300}


def test_a_room_may_not_shrink_below_its_largest_section(database, db, catalog):
    room_id = catalog.room(capacity=30)
    catalog.section(room=room_id, capacity=25)
    catalog.section(room=room_id, capacity=10, days=("FRI",))

    error = refused(database, Conflict, rooms.update_room, room_id, {"capacity": 24})
    assert "25" in error.detail
    assert db.execute("SELECT capacity FROM rooms WHERE id = %s", (room_id,)).fetchone() == {
        "capacity": 30
    }

    assert rooms.update_room(database, room_id, {"capacity": 25})["capacity"] == 25
    assert rooms.update_room(database, room_id, {"name": "Renamed"})["capacity"] == 25


def test_an_empty_room_may_shrink_to_one_seat(database, catalog):
    room_id = catalog.room(capacity=30)

    assert rooms.update_room(database, room_id, {"capacity": 1})["capacity"] == 1


def test_updating_a_room_that_does_not_exist_is_not_found(database):
    refused(database, NotFound, rooms.update_room, 987654321, {"capacity": 10})


# --- access ----------------------------------------------------------------------------------


def test_ensure_student_or_admin():
    access.ensure_student_or_admin(ADMIN, 7)
    access.ensure_student_or_admin(as_student(7), 7)
    access.ensure_student_or_admin(as_student(7, verified=False), 7)  # reading needs no email

    for actor in (as_student(8), as_instructor(7)):
        with pytest.raises(Forbidden):
            access.ensure_student_or_admin(actor, 7)


def test_ensure_teaches_or_admin():
    section = {"id": 1, "instructor_id": 7}
    access.ensure_teaches_or_admin(ADMIN, section)
    access.ensure_teaches_or_admin(as_instructor(7), section)

    # a student whose student id happens to equal the section's instructor id gets nothing
    for actor in (as_instructor(8), as_student(7)):
        with pytest.raises(Forbidden):
            access.ensure_teaches_or_admin(actor, section)


def test_an_identity_is_admin_only_for_the_admin_role():
    assert ADMIN.is_admin
    assert not as_student(1).is_admin
    assert not as_instructor(1).is_admin


# --- rosters and single enrollments: who may see them ----------------------------------------


@pytest.fixture
def taught(catalog) -> dict:
    """A section taught by one instructor, with one enrolled student."""
    instructor_id, student_id = catalog.instructor(), catalog.student()
    section_id = catalog.section(instructor=instructor_id)
    catalog.enroll(section_id, student_id)
    return {"section": section_id, "instructor": instructor_id, "student": student_id}


def test_the_sections_instructor_and_admins_read_its_roster(database, taught):
    for actor in (as_instructor(taught["instructor"]), ADMIN):
        items, total = enrollment.roster(database, actor, taught["section"], 20, 0)

        assert total == 1
        assert [item["student"]["id"] for item in items] == [taught["student"]]


def test_other_instructors_and_students_may_not_read_a_roster(database, catalog, taught):
    for actor in (
        as_instructor(catalog.instructor()),
        as_student(taught["student"]),  # not even a student of the section
        as_student(taught["instructor"]),  # a student id equal to the instructor's id
    ):
        refused(database, Forbidden, enrollment.roster, actor, taught["section"], 20, 0)


def test_the_roster_of_a_section_that_does_not_exist_is_not_found(database, taught):
    refused(database, NotFound, enrollment.roster, ADMIN, 987654321, 20, 0)
    refused(
        database, NotFound, enrollment.roster, as_instructor(taught["instructor"]), 987654321, 20, 0
    )


def test_an_enrollment_is_shown_to_its_student_its_instructor_and_admins(database, taught):
    for actor in (as_student(taught["student"]), as_instructor(taught["instructor"]), ADMIN):
        found = enrollment.get_enrollment(database, actor, taught["section"], taught["student"])

        assert (found["section_id"], found["student_id"]) == (taught["section"], taught["student"])


def test_an_enrollment_is_hidden_from_other_students_and_instructors(database, catalog, taught):
    for actor in (as_student(catalog.student()), as_instructor(catalog.instructor())):
        refused(
            database,
            Forbidden,
            enrollment.get_enrollment,
            actor,
            taught["section"],
            taught["student"],
        )


def test_an_enrollment_that_does_not_exist_is_not_found(database, catalog, taught):
    stranger = catalog.student()

    refused(database, NotFound, enrollment.get_enrollment, ADMIN, taught["section"], stranger)
    refused(
        database,
        NotFound,
        enrollment.get_enrollment,
        as_student(stranger),
        taught["section"],
        stranger,
    )
    refused(database, NotFound, enrollment.get_enrollment, ADMIN, 987654321, taught["student"])


# --- student records and schedules ----------------------------------------------------------


def test_a_student_reads_their_own_record_and_schedule(database, taught):
    student_id = taught["student"]

    assert people.get_student(database, as_student(student_id), student_id)["id"] == student_id
    items, total = people.student_schedule(database, as_student(student_id), student_id, 20, 0)
    assert (total, [item["id"] for item in items]) == (1, [taught["section"]])


def test_a_student_may_not_read_another_students_record_or_schedule(database, catalog, taught):
    me = catalog.student()

    for other in (taught["student"], 987654321):  # whether or not the other exists
        refused(database, Forbidden, people.get_student, as_student(me), other)
        refused(database, Forbidden, people.student_schedule, as_student(me), other, 20, 0)
        refused(
            database, Forbidden, people.update_student, as_student(me), other, {"full_name": "X"}
        )


def test_instructors_may_not_read_student_records(database, taught):
    actor = as_instructor(taught["instructor"])

    refused(database, Forbidden, people.get_student, actor, taught["student"])
    refused(database, Forbidden, people.student_schedule, actor, taught["student"], 20, 0)


def test_an_admin_is_told_when_a_student_does_not_exist(database):
    refused(database, NotFound, people.get_student, ADMIN, 987654321)
    refused(database, NotFound, people.student_schedule, ADMIN, 987654321, 20, 0)
    refused(database, NotFound, people.update_student, ADMIN, 987654321, {"full_name": "X"})


def test_a_student_renames_themselves_but_may_not_change_their_email(database, db, catalog):
    student_id = catalog.student()

    renamed = people.update_student(
        database, as_student(student_id), student_id, {"full_name": "Ada Lovelace"}
    )
    refused(
        database,
        Forbidden,
        people.update_student,
        as_student(student_id),
        student_id,
        {"email": "ada@example.org"},
    )

    assert renamed["full_name"] == "Ada Lovelace"
    row = db.execute("SELECT full_name, email FROM students WHERE id = %s", (student_id,))
    assert row.fetchone() == {"full_name": "Ada Lovelace", "email": f"s{catalog.count}@example.edu"}


# --- authentication: failures that keep their writes -------------------------------------------


@pytest.fixture(scope="module")
def settings() -> auth.AuthSettings:
    """Authentication settings as the app has them, made without an app."""
    return auth.AuthSettings(
        secret_key=TEST_SECRET_KEY,
        bcrypt_rounds=4,
        access_token_lifetime=timedelta(minutes=15),
        refresh_token_lifetime=timedelta(days=14),
        verification_lifetime=timedelta(hours=24),
        login_window=timedelta(minutes=15),
        max_failures_per_account=3,
        max_failures_per_client=50,
        dummy_password_hash=auth.new_dummy_hash(4),
    )


def failures(db) -> int:
    return db.execute("SELECT count(*) AS n FROM failed_logins").fetchone()["n"]


def test_login_with_the_right_password_returns_tokens(database, make_user, settings):
    user = make_user("student")

    tokens = auth.login(database, user["email"], TEST_PASSWORD, "10.0.0.1", settings)

    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}


def test_a_failed_login_is_refused_and_still_recorded(database, db, make_user, settings):
    user = make_user("student")

    for email in (user["email"], "nobody@example.edu"):
        refused(
            database, InvalidCredentials, auth.login, email, "wrong password", "10.0.0.1", settings
        )

    assert failures(db) == 2


def test_recorded_failures_throttle_even_the_right_password(database, db, make_user, settings):
    user = make_user("student")
    for _ in range(settings.max_failures_per_account):
        refused(
            database, InvalidCredentials, auth.login, user["email"], "wrong", "10.0.0.1", settings
        )

    error = refused(
        database, TooManyRequests, auth.login, user["email"], TEST_PASSWORD, "10.0.0.1", settings
    )

    assert 0 < error.retry_after <= 15 * 60
    assert failures(db) == settings.max_failures_per_account


def test_a_reused_refresh_token_is_refused_and_its_family_stays_revoked(
    database, db, make_user, settings
):
    user = make_user("student")
    first = auth.login(database, user["email"], TEST_PASSWORD, "10.0.0.1", settings)
    second = auth.refresh(database, first["refresh_token"], settings)

    refused(database, TokenRejected, auth.refresh, first["refresh_token"], settings)

    refused(database, TokenRejected, auth.refresh, second["refresh_token"], settings)
    revoked = db.execute("SELECT bool_and(revoked_at IS NOT NULL) AS all FROM refresh_tokens")
    assert revoked.fetchone()["all"] is True


def test_an_unknown_refresh_token_is_refused(database, settings):
    refused(database, TokenRejected, auth.refresh, "not-a-token", settings)


def test_identity_of_reads_the_user_as_stored_now(database, db, make_user):
    user = make_user("student", verified=False)
    db.execute("UPDATE users SET is_verified = true WHERE id = %s", (user["id"],))

    identity = auth.identity_of(database, user["id"])

    assert identity == Identity(
        user_id=user["id"],
        role="student",
        is_verified=True,
        student_id=user["student_id"],
        instructor_id=None,
    )
    refused(database, TokenRejected, auth.identity_of, 987654321)


# --- the layer knows nothing of the web ----------------------------------------------------------

PACKAGE = Path(scheduler.__file__).parent
FRAMEWORK_FREE = ["scheduler.identity", "scheduler.unit_of_work"] + [
    f"scheduler.services.{path.stem}" for path in sorted((PACKAGE / "services").glob("*.py"))
]
# scheduler_common is the Flask-side plumbing (pool per app, CLI, fixtures): no service needs it.
WEB_PACKAGES = {
    "flask",
    "werkzeug",
    "scheduler_common",
    "scheduler.auth",
    "scheduler.errors",
    "scheduler.extensions",
}


def imports_of(module: str) -> set[str]:
    """The modules a scheduler module imports directly (by its source, not by running it)."""
    relative = Path(*module.split(".")[1:])
    path = PACKAGE / relative.with_suffix(".py")
    if not path.exists():
        path = PACKAGE / relative / "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", FRAMEWORK_FREE)
def test_services_identity_and_unit_of_work_never_reach_flask(module):
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        seen.add(current)
        for imported in imports_of(current):
            assert imported.split(".")[0] not in WEB_PACKAGES, (current, imported)
            assert imported not in WEB_PACKAGES, (current, imported)
            if imported.startswith("scheduler.") and imported not in seen:
                todo.append(imported)
