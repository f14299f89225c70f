"""The section list's query plans: its work grows with the page, never with the table.

psycopg prepares a statement on its fifth run, and PostgreSQL may then plan it once for any
values (a *generic plan*) rather than for each run's own. These tests record the statements
`sections.page` really runs, run each again as a prepared statement with its plan forced
generic (the plan any run may get from then on) or custom, and read what EXPLAIN ANALYZE
counted: the section rows a plan read, and the enrollments it read to count seats. They
count rows, never time, on a catalog of 10,000 sections.
"""

import itertools
import os
import re
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from scheduler.repositories import sections
from scheduler_common.testing import conninfo

SECTIONS = 10_000  # as CATALOG makes them
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
PLAN_MODES = ["force_generic_plan", "force_custom_plan"]
PAGE_SIZE = 20
FILTERS = ["term", "course_id", "instructor_id", "room_id", "student_id"]

# Section k (0-based) is in term k % 8, in room and with instructor (k / 8) % 200, of course
# k % 2000, and meets on Mondays at hour 8 + k / 1600, so no room or instructor is booked
# twice. That is 1,250 sections a term, 50 a room or an instructor, 5 a course; 5 students
# in every section and 5 sections for every student, like a seeded database.
CATALOG = (
    """
    INSERT INTO courses (code, title, credits)
    SELECT 'QP' || (1000 + g), 'Course ' || g, 3 FROM generate_series(0, 1999) AS g
    """,
    "INSERT INTO rooms (name, capacity) SELECT 'Room ' || g, 100 FROM generate_series(0, 199) AS g",
    """
    INSERT INTO instructors (full_name, email)
    SELECT 'Instructor ' || g, 'qp' || g || '@example.edu' FROM generate_series(0, 199) AS g
    """,
    """
    INSERT INTO students (full_name, email)
    SELECT 'Student ' || g, 'qp' || g || '@example.edu' FROM generate_series(0, 9999) AS g
    """,
    """
    INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,
                          starts_at, ends_at)
    SELECT (SELECT min(id) FROM courses) + k % 2000,
           (SELECT min(id) FROM instructors) + k / 8 % 200,
           (SELECT min(id) FROM rooms) + k / 8 % 200,
           (2020 + k % 8)::text || '-fall',
           10, '{MON}',
           time '08:00' + k / 1600 * interval '1 hour',
           time '08:50' + k / 1600 * interval '1 hour'
      FROM generate_series(0, 9999) AS k
    """,
    """
    INSERT INTO enrollments (section_id, student_id)
    SELECT s.id, st.id FROM sections AS s JOIN students AS st ON st.id % 2000 = s.id % 2000
    """,
)
_databases = itertools.count(1)


@pytest.fixture(scope="module")
def catalog_url(admin_connection, template_database: str, postgresql_server) -> Iterator[str]:
    """A database of this module's own, cloned from the template and filled once with the
    catalog above, then analyzed as a seeded database is (the tests only read it)."""
    name = f"query_plans_{os.getpid()}_{next(_databases)}"
    admin_connection.execute(
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template_database)
        )
    )
    url = conninfo(postgresql_server, name)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in CATALOG:
            conn.execute(statement)
        conn.execute("ANALYZE")
    yield url
    admin_connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def catalog(catalog_url: str) -> dict:
    """A value for each filter: those of the first section and of its first student."""
    with psycopg.connect(catalog_url, row_factory=dict_row) as conn:
        return conn.execute(
            """
            SELECT s.term, s.course_id, s.instructor_id, s.room_id, e.student_id
              FROM sections AS s JOIN enrollments AS e ON e.section_id = s.id
             ORDER BY s.id, e.student_id LIMIT 1
            """
        ).fetchone()


@pytest.fixture
def conn(catalog_url: str) -> Iterator[psycopg.Connection]:
    """A connection like the pool's (dict rows) to the catalog."""
    with psycopg.connect(catalog_url, row_factory=dict_row, autocommit=True) as connection:
        yield connection


def recorded(monkeypatch, conn, call: Callable) -> tuple[object, list[tuple[str, dict]]]:
    """Run `call(conn)`; return its result and each statement it ran, with its parameters."""
    statements = []
    original_execute = psycopg.Cursor.execute

    def recording_execute(cursor, query, params=None, **kwargs):
        statements.append((query.as_string(cursor), params))
        return original_execute(cursor, query, params, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", recording_execute)
        result = call(conn)
    return result, statements


def explained(conn, text: str, params: dict, mode: str) -> dict:
    """EXPLAIN ANALYZE a recorded statement, prepared, with its plan forced generic or
    custom (`mode` is a plan_cache_mode); return the plan tree."""
    names = list(dict.fromkeys(PLACEHOLDER.findall(text)))
    numbered = PLACEHOLDER.sub(lambda match: f"${names.index(match[1]) + 1}", text)
    values = sql.SQL(", ").join(sql.Literal(params[name]) for name in names)
    arguments = sql.SQL("({})").format(values) if names else sql.SQL("")
    conn.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.SQL(mode)))
    conn.execute(sql.SQL("PREPARE recorded AS {}").format(sql.SQL(numbered)))
    try:
        (plan,) = (
            conn.execute(
                sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE recorded {}").format(arguments)
            )
            .fetchone()
            .values()
        )
    finally:
        conn.execute("DEALLOCATE recorded")
        conn.execute("RESET plan_cache_mode")
    return plan[0]["Plan"]


def nodes(plan: dict) -> Iterator[dict]:
    """Every node of a plan tree."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def scans(plan: dict, relation: str, alias: str | None = None) -> list[dict]:
    """The plan's scans of a table (under that alias, when given)."""
    return [
        node
        for node in nodes(plan)
        if node.get("Relation Name") == relation and alias in (None, node.get("Alias"))
    ]


def rows_read(scan: dict) -> int:
    """How many rows a scan read in all its loops, kept or thrown away by its filter."""
    read = scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0)
    return (read + scan.get("Rows Removed by Index Recheck", 0)) * scan["Actual Loops"]


def page_and_plans(monkeypatch, conn, filters: dict, offset: int, mode: str) -> dict:
    """Run `sections.page` and read the plans of its two statements (the total, then the
    page): the section rows each read; for the page, how many times it counted a section's
    seats and how many enrollments it read to do so (the `e` scan of SELECT_SECTIONS)."""
    (items, total), statements = recorded(
        monkeypatch, conn, lambda c: sections.page(c, filters, PAGE_SIZE, offset)
    )
    total_plan, page_plan = (explained(conn, text, params, mode) for text, params in statements)
    seat_scans = scans(page_plan, "enrollments", "e")
    return {
        "items": items,
        "total": total,
        "total read": sum(map(rows_read, scans(total_plan, "sections"))),
        "page read": sum(map(rows_read, scans(page_plan, "sections"))),
        "seat counts": sum(scan["Actual Loops"] for scan in seat_scans),
        "seated read": sum(map(rows_read, seat_scans)),
    }


def assert_bounded_by_the_page(conn, filters: dict, found: dict) -> None:
    """A page's work is the page's: the total reads the matching sections only (through an
    index); the page reads at most the sections in id order up to its last one, or the
    matching ones; seats are counted once for each section shown, from its enrollments.
    A catch-all WHERE read every section; counting before paging counted skipped ones."""
    items = found["items"]
    walked = conn.execute(
        "SELECT count(*) AS n FROM sections WHERE id <= %s", (items[-1]["id"],)
    ).fetchone()["n"]
    assert found["total read"] <= found["total"], found
    assert found["page read"] <= max(walked, found["total"] if filters else 0), found
    assert found["seat counts"] == len(items), found
    assert found["seated read"] == sum(item["enrolled"] for item in items), found


@pytest.mark.parametrize("mode", PLAN_MODES)
@pytest.mark.parametrize("names", [[], *([name] for name in FILTERS), ["term", "room_id"]], ids=str)
def test_the_first_page_reads_what_it_shows_whatever_the_plan(
    monkeypatch, catalog, conn, names, mode
):
    filters = {name: catalog[name] for name in names}

    found = page_and_plans(monkeypatch, conn, filters, 0, mode)

    assert found["items"]
    assert_bounded_by_the_page(conn, filters, found)


@pytest.mark.parametrize("mode", PLAN_MODES)
@pytest.mark.parametrize(("names", "offset"), [([], SECTIONS - 30), (["term"], 400)], ids=str)
def test_a_deep_page_counts_seats_for_its_own_sections_only(
    monkeypatch, catalog, conn, names, offset, mode
):
    filters = {name: catalog[name] for name in names}

    found = page_and_plans(monkeypatch, conn, filters, offset, mode)

    assert len(found["items"]) == PAGE_SIZE
    assert_bounded_by_the_page(conn, filters, found)
