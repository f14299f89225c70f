"""Shared arrangement helpers for Unit 2's tests: create records through the API, check problems.

Each `make_*` helper POSTs a valid body (unique by default; keyword overrides replace fields),
asserts the 201 and returns the created object as JSON. `make_section` creates the course,
instructor and room it needs unless their ids are given.
"""

import itertools

from problems import assert_problem as assert_problem  # noqa: PLC0414 (re-exported: one helper)
from psycopg import sql
from psycopg.types.json import Jsonb

TABLES = ("courses", "instructors", "rooms", "students", "sections", "enrollments")

_numbers = itertools.count()


def _next() -> int:
    """A number from 1000 to 9999, unique across thousands of calls, for codes, names and emails
    (each test has a fresh database, so they only need to be unique within one test). Four
    digits: never one of the three-digit codes tests write by hand (CS101), however many
    numbers a test process has drawn before."""
    return 1000 + next(_numbers) % 9000


def _post(client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 201, (path, body, response.get_json())
    return response.get_json()


def course_body(**overrides) -> dict:
    """A valid course create body with a unique code."""
    n = _next()
    body = {
        "code": f"CS{n}",
        "title": f"Course {n}",
        "description": "An introduction.",
        "credits": 3,
    }
    return {**body, **overrides}


def instructor_body(**overrides) -> dict:
    """A valid instructor create body with a unique email."""
    n = _next()
    return {"full_name": f"Instructor {n}", "email": f"instructor{n}@example.edu", **overrides}


def room_body(**overrides) -> dict:
    """A valid room create body with a unique name (capacity 30)."""
    n = _next()
    return {"name": f"Room {n}", "capacity": 30, **overrides}


def student_body(**overrides) -> dict:
    """A valid student create body with a unique email."""
    n = _next()
    return {"full_name": f"Student {n}", "email": f"student{n}@example.edu", **overrides}


def make_course(client, **overrides) -> dict:
    """Create a course through the API and return it."""
    return _post(client, "/api/v1/courses", course_body(**overrides))


def make_instructor(client, **overrides) -> dict:
    """Create an instructor through the API and return it."""
    return _post(client, "/api/v1/instructors", instructor_body(**overrides))


def make_room(client, **overrides) -> dict:
    """Create a room through the API and return it."""
    return _post(client, "/api/v1/rooms", room_body(**overrides))


def make_student(client, **overrides) -> dict:
    """Create a student through the API and return it."""
    return _post(client, "/api/v1/students", student_body(**overrides))


# A section's fields unless a test says otherwise: MON/WED 09:00–10:15 in 2027-spring.
SECTION_DEFAULTS = {
    "term": "2027-spring",
    "capacity": 10,
    "days": ["MON", "WED"],
    "starts_at": "09:00",
    "ends_at": "10:15",
}


def section_body(client, **overrides) -> dict:
    """A valid section create body; creates the course, instructor and room unless given."""
    body = {**SECTION_DEFAULTS, **overrides}
    if "course_id" not in body:
        body["course_id"] = make_course(client)["id"]
    if "instructor_id" not in body:
        body["instructor_id"] = make_instructor(client)["id"]
    if "room_id" not in body:
        body["room_id"] = make_room(client, capacity=max(30, body["capacity"]))["id"]
    return body


def make_section(client, **overrides) -> dict:
    """Create a section through the API and return it (term 2027-spring, MON/WED 09:00–10:15,
    capacity 10), creating its course, instructor and room unless their ids are given."""
    return _post(client, "/api/v1/sections", section_body(client, **overrides))


def count_rows(db, table: str) -> int:
    """How many rows `table` holds (read through the test's `db` connection)."""
    query = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
    return db.execute(query).fetchone()["n"]


def fetch_row(db, table: str, row_id: int) -> dict | None:
    """One row of `table` by id, as stored, or None."""
    query = sql.SQL("SELECT * FROM {} WHERE id = %s").format(sql.Identifier(table))
    return db.execute(query, (row_id,)).fetchone()


def db_snapshot(db) -> dict[str, list[dict]]:
    """Every row of every Unit 1 table, in a stable order: compare before and after a failed
    write to show it changed nothing."""
    return {
        table: db.execute(
            sql.SQL("SELECT * FROM {} ORDER BY 1, 2").format(sql.Identifier(table))
        ).fetchall()
        for table in TABLES
    }


# --8<-- [start:held]
NOTHING_HELD = {"idle_in_transaction": 0, "advisory_locks": 0, "connections_lent": 0}


def held(db, pool) -> dict[str, int]:
    """What the app holds of the test's database right now: sessions idle in a transaction,
    advisory locks, and pooled connections lent out. Read through `db`, the test's own
    autocommit connection, which is never in a transaction itself."""
    row = db.execute(
        """
        SELECT (SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database()
                   AND state IN ('idle in transaction', 'idle in transaction (aborted)')
               ) AS idle_in_transaction,
               (SELECT count(*) FROM pg_locks JOIN pg_database ON pg_database.oid = database
                 WHERE locktype = 'advisory' AND datname = current_database()
               ) AS advisory_locks
        """
    ).fetchone()
    stats = pool.get_stats()
    return {**row, "connections_lent": stats["pool_size"] - stats["pool_available"]}


def watch_calls(monkeypatch, module, name: str, db, pool) -> list[dict[str, int]]:
    """Make every call of `module.name` first record what is `held` (then run as before);
    return the records, one per call. The pool is filled first, so that a connection it is
    still opening is not taken for one lent out."""
    pool.wait()
    seen: list[dict[str, int]] = []
    real = getattr(module, name)

    def watched(*args, **kwargs):
        seen.append(held(db, pool))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, watched)
    return seen
    # --8<-- [end:held]


def insert_ready_plan(db, student_id: int, sections: list[dict], term: str = "2027-spring") -> int:
    """Store a ready advisor plan of these planned sections (as the worker would) and return
    its id: for tests of reading and accepting that need no model."""
    return db.execute(
        """
        INSERT INTO advisor_plans (student_id, term, goals, status, provider, model, plan,
                                   removed, finished_at)
        VALUES (%s, %s, 'Anything.', 'ready', 'offline', 'offline-planner', %s, '[]', now())
        RETURNING id
        """,
        (student_id, term, Jsonb(sections)),
    ).fetchone()["id"]


# Enrolling, dropping and the line, as the waitlist tests do them.
def enrollments_url(section_id: int) -> str:
    """The path of a section's enrollments."""
    return f"/api/v1/sections/{section_id}/enrollments"


def enroll(client, section_id: int, student_id: int) -> dict:
    """Enroll (or waitlist) a student through the API and return the enrollment."""
    response = client.post(enrollments_url(section_id), json={"student_id": student_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def drop(client, section_id: int, student_id: int) -> None:
    """Drop a student's seat or place in line through the API."""
    assert client.delete(f"{enrollments_url(section_id)}/{student_id}").status_code == 204


def positions(client, section_id: int) -> dict[int, tuple[str, int | None]]:
    """Each student of the section's roster: (status, position)."""
    roster = client.get(f"{enrollments_url(section_id)}?limit=100").get_json()["items"]
    return {item["student"]["id"]: (item["status"], item["position"]) for item in roster}
