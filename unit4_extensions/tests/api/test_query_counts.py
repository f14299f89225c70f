"""No N+1: every list endpoint runs the same number of SQL statements for a page of 10 rows
as for a page of 100 rows out of 1,000 (relations are JOINed, never fetched one by one).
An enrollment runs a fixed few, all but one of them while the section's row is locked.
The requests carry an admin's token, so each also loads that user (one statement more)."""

from collections.abc import Callable

import pytest
from helpers import make_section, make_student
from psycopg import sql

# Bulk rows are numbered g = first … last, so a case can grow from 10 rows to 1,000.
INSERT_COURSES = """
    INSERT INTO courses (code, title, credits)
    SELECT 'QC' || lpad(g::text, 4, '0'), 'Course ' || g, 3
      FROM generate_series(%(first)s::int, %(last)s::int) AS g
"""
INSERT_INSTRUCTORS = """
    INSERT INTO instructors (full_name, email)
    SELECT 'Instructor ' || g, 'instructor' || g || '@example.edu'
      FROM generate_series(%(first)s::int, %(last)s::int) AS g
"""
INSERT_ROOMS = """
    INSERT INTO rooms (name, capacity)
    SELECT 'Room ' || g, 10000 FROM generate_series(%(first)s::int, %(last)s::int) AS g
"""
INSERT_STUDENTS = """
    INSERT INTO students (full_name, email)
    SELECT 'Student ' || g, 'student' || g || '@example.edu'
      FROM generate_series(%(first)s::int, %(last)s::int) AS g
"""
# Section g meets on Mondays in term 2000 + (g-1) % 100, in room and with instructor
# number (g-1) % 10 (fixed by the term), at hour 8 + (g-1) / 100: no two sections share a
# room or an instructor at the same time in the same term, and no two sections of one term
# clash, so one student may hold them all.
INSERT_SECTIONS = """
    INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,
                          starts_at, ends_at)
    SELECT (SELECT min(id) FROM courses),
           (SELECT array_agg(id ORDER BY id) FROM instructors)[(g - 1) %% 10 + 1],
           (SELECT array_agg(id ORDER BY id) FROM rooms)[(g - 1) %% 10 + 1],
           (2000 + (g - 1) %% 100)::text || '-fall',
           10000,
           '{MON}',
           time '08:00' + ((g - 1) / 100) * interval '1 hour',
           time '08:50' + ((g - 1) / 100) * interval '1 hour'
      FROM generate_series(%(first)s::int, %(last)s::int) AS g
"""
COUNTS = {
    INSERT_COURSES: "SELECT count(*) AS n FROM courses",
    INSERT_INSTRUCTORS: "SELECT count(*) AS n FROM instructors",
    INSERT_ROOMS: "SELECT count(*) AS n FROM rooms",
    INSERT_STUDENTS: "SELECT count(*) AS n FROM students",
    INSERT_SECTIONS: "SELECT count(*) AS n FROM sections",
}


def fill(db, insert: str, rows: int) -> None:
    """Insert rows until the table holds `rows` of them."""
    have = db.execute(COUNTS[insert]).fetchone()["n"]
    if rows > have:
        db.execute(insert, {"first": have + 1, "last": rows})


def first_id(db, table: str) -> int:
    """The smallest id in a table."""
    query = sql.SQL("SELECT min(id) AS id FROM {}").format(sql.Identifier(table))
    return db.execute(query).fetchone()["id"]


def fill_sections(db, rows: int) -> None:
    """The course, ten rooms and ten instructors sections need, then the sections."""
    fill(db, INSERT_COURSES, 1)
    fill(db, INSERT_ROOMS, 10)
    fill(db, INSERT_INSTRUCTORS, 10)
    fill(db, INSERT_SECTIONS, rows)


# Each case grows the data to `rows` and returns the URL to request and the total expected.
Case = Callable[[object, int], tuple[str, int]]


def plain_table(name: str, insert: str) -> Case:
    def case(db, rows):
        fill(db, insert, rows)
        return f"/api/v1/{name}?limit=100", rows

    return case


def all_sections(db, rows):
    fill_sections(db, rows)
    return "/api/v1/sections?limit=100", rows


def sections_of_a_course(db, rows):
    fill_sections(db, rows)
    return f"/api/v1/sections?course_id={first_id(db, 'courses')}&limit=100", rows


def sections_in_a_room_with_an_instructor(db, rows):
    fill_sections(db, rows)
    room, instructor = first_id(db, "rooms"), first_id(db, "instructors")
    return f"/api/v1/sections?room_id={room}&instructor_id={instructor}&limit=100", rows // 10


def sections_of_a_term_and_course(db, rows):
    fill_sections(db, rows)
    course = first_id(db, "courses")
    return f"/api/v1/sections?term=2000-fall&course_id={course}&limit=100&offset=0", (
        rows + 99
    ) // 100


def roster(db, rows):
    fill_sections(db, 1)
    fill(db, INSERT_STUDENTS, rows)
    section = first_id(db, "sections")
    db.execute(
        "INSERT INTO enrollments (student_id, section_id) SELECT id, %s FROM students"
        " ON CONFLICT DO NOTHING",
        (section,),
    )
    return f"/api/v1/sections/{section}/enrollments?limit=100", rows


def schedule(db, rows):
    fill_sections(db, rows)
    fill(db, INSERT_STUDENTS, 1)
    student = first_id(db, "students")
    db.execute(
        "INSERT INTO enrollments (student_id, section_id) SELECT %s, id FROM sections"
        " ON CONFLICT DO NOTHING",
        (student,),
    )
    return f"/api/v1/students/{student}/schedule?limit=100", rows


CASES = {
    "courses": plain_table("courses", INSERT_COURSES),
    "instructors": plain_table("instructors", INSERT_INSTRUCTORS),
    "rooms": plain_table("rooms", INSERT_ROOMS),
    "students": plain_table("students", INSERT_STUDENTS),
    "sections": all_sections,
    "sections?course_id": sections_of_a_course,
    "sections?room_id&instructor_id": sections_in_a_room_with_an_instructor,
    "sections?term&course_id": sections_of_a_term_and_course,
    "sections/{id}/enrollments": roster,
    "students/{id}/schedule": schedule,
}


def statements_for(client, sql_statements: list[str], url: str, total: int) -> list[str]:
    """Request one page and return the SQL it ran (the pool's empty health checks aside)."""
    sql_statements.clear()
    response = client.get(url)
    statements = [statement for statement in sql_statements if statement.strip()]
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == total
    assert len(body["items"]) == min(total, 100)
    return statements


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_statement_count_does_not_grow_with_the_rows(client, db, sql_statements, case):
    few = statements_for(client, sql_statements, *case(db, 10))
    many = statements_for(client, sql_statements, *case(db, 1000))

    assert len(many) == len(few), (few, many)
    # Unit 1's three at most, plus loading the user of the token the request carries.
    assert 1 <= len(few) <= 4, few


def test_an_enrollment_runs_four_statements_after_loading_the_user(client, sql_statements):
    section, student = make_section(client), make_student(client)
    sql_statements.clear()

    response = client.post(
        f"/api/v1/sections/{section['id']}/enrollments", json={"student_id": student["id"]}
    )

    assert response.status_code == 201, response.get_json()
    # The token's user; then the section's lock, the student's lock, one look-up that
    # answers every rule, and the INSERT (BEGIN and COMMIT are not statements psycopg runs).
    assert len(sql_statements) == 5, sql_statements
