"""The enrollment path and the section move reach their rows by index, however big the catalog.

On a seeded catalog (statistics gathered, as autovacuum would), each test records every
statement one real request runs, then replays each under EXPLAIN (ANALYZE, BUFFERS) in a
transaction it rolls back: no statement may scan sections or enrollments sequentially, and none
may touch more buffers once 1,000 more sections meet at the very time it asks about. A plan that
walks the sections meeting at that time (an exclusion constraint's GiST index, say) reads every
one of them, while the student's own sections stay a handful. Buffers, not times: they do not
depend on the machine.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from scheduler_common.seed import seed_database

SCALE = 5  # 600 sections and 10,000 enrollments: enough for a bad plan to show
MORE_SECTIONS = 1000
TERM = "2027-fall"
# A time no seeded section meets (the seed's grid is Monday to Friday), to move a section to.
FREE_TIME = {"days": ["SAT"], "starts_at": "08:00", "ends_at": "09:15"}
# Index depth may grow by a level as the tables grow; a plan that walks the sections meeting
# at one time grows by hundreds of buffers.
BUFFER_SLACK = 3


@pytest.fixture
def seeded(db):
    """The test's database with the seeded catalog and MORE_SECTIONS spare rooms and
    instructors (so that only sections grow later), analyzed."""
    seed_database(db, SCALE)
    db.execute(
        "INSERT INTO rooms (name, capacity)"
        " SELECT 'Spare room ' || g, 40 FROM generate_series(1, %s) AS g",
        (MORE_SECTIONS,),
    )
    db.execute(
        "INSERT INTO instructors (full_name, email)"
        " SELECT 'Spare ' || g, 'spare' || g || '@example.edu' FROM generate_series(1, %s) AS g",
        (MORE_SECTIONS,),
    )
    db.execute("ANALYZE")
    return db


@contextmanager
def recording() -> Iterator[list[tuple]]:
    """Record every (query, params) psycopg runs inside the block, the pool's empty checks
    aside."""
    statements: list[tuple] = []
    original_execute = psycopg.Cursor.execute

    def recording_execute(cursor, query, params=None, **kwargs):
        if str(query.as_string(cursor) if hasattr(query, "as_string") else query).strip():
            statements.append((query, params))
        return original_execute(cursor, query, params, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", recording_execute)
        yield statements


def plan_nodes(node: dict) -> Iterator[dict]:
    """A plan node and every node below it."""
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def explain(database_url: str, statements: list[tuple]) -> list[dict]:
    """Replay the statements in order under EXPLAIN (ANALYZE, BUFFERS) in one transaction,
    rolled back; return each one's SQL, buffers and the tables it scans sequentially."""
    results = []
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        for query, params in statements:
            text = sql.SQL(query) if isinstance(query, str) else query
            row = conn.execute(
                sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + text, params
            ).fetchone()
            plan = row["QUERY PLAN"][0]["Plan"]
            results.append(
                {
                    "sql": " ".join(text.as_string(conn).split()),
                    "buffers": plan["Shared Hit Blocks"] + plan["Shared Read Blocks"],
                    "seq_scans": sorted(
                        node["Relation Name"]
                        for node in plan_nodes(plan)
                        if node["Node Type"] == "Seq Scan"
                    ),
                }
            )
        conn.rollback()
    return results


def crowd(db, days: list[str], starts_at: str, ends_at: str) -> None:
    """Add MORE_SECTIONS sections in TERM at this time, each in a spare room with a spare
    instructor (the exclusion constraints allow nothing else), then analyze."""
    db.execute(
        """
        INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,
                              starts_at, ends_at)
        SELECT (SELECT min(id) FROM courses), i.id, r.id, %(term)s, 30, %(days)s::weekday[],
               %(starts_at)s, %(ends_at)s
          FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM rooms
                 WHERE name LIKE 'Spare room %%') AS r
          JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM instructors
                 WHERE email LIKE 'spare%%') AS i USING (n)
        """,
        {"term": TERM, "days": days, "starts_at": starts_at, "ends_at": ends_at},
    )
    db.execute("ANALYZE")


def assert_index_look_ups(before: list[dict], after: list[dict]) -> None:
    """Neither run scans sections or enrollments, and no statement costs more buffers after."""
    assert [result["sql"] for result in after] == [result["sql"] for result in before]
    for old, new in zip(before, after, strict=True):
        assert not {"sections", "enrollments"} & {*old["seq_scans"], *new["seq_scans"]}, old
        assert new["buffers"] <= old["buffers"] + BUFFER_SLACK, (old, new)


def reads(results: list[dict]) -> list[dict]:
    """All but the UPDATE, whose cost is the exclusion constraints checking the new time in
    their GiST indexes: the database's guard against double-booking, not a query of ours."""
    return [result for result in results if not result["sql"].startswith("UPDATE")]


def busy_student_and_open_section(db) -> tuple[int, dict]:
    """The student with the most sections in TERM, and a section of TERM with seats left
    that they could take (no clash, at most 18 credits)."""
    student_id = db.execute(
        """
        SELECT e.student_id FROM enrollments AS e JOIN sections AS s ON s.id = e.section_id
         WHERE s.term = %s GROUP BY e.student_id ORDER BY count(*) DESC, e.student_id LIMIT 1
        """,
        (TERM,),
    ).fetchone()["student_id"]
    section = db.execute(
        """
        WITH mine AS (
            SELECT s.meets, c.credits FROM enrollments AS e
              JOIN sections AS s ON s.id = e.section_id JOIN courses AS c ON c.id = s.course_id
             WHERE e.student_id = %(student)s AND s.term = %(term)s)
        SELECT s.id, s.days::text[] AS days, to_char(s.starts_at, 'HH24:MI') AS starts_at,
               to_char(s.ends_at, 'HH24:MI') AS ends_at
          FROM sections AS s JOIN courses AS c ON c.id = s.course_id
         WHERE s.term = %(term)s
           AND s.capacity > (SELECT count(*) FROM enrollments WHERE section_id = s.id)
           AND NOT EXISTS (SELECT 1 FROM mine WHERE mine.meets && s.meets)
           AND c.credits + (SELECT coalesce(sum(credits), 0) FROM mine) <= 18
         ORDER BY s.id
         LIMIT 1
        """,
        {"student": student_id, "term": TERM},
    ).fetchone()
    return student_id, section


def statements_of(request: Callable[[], object], status: int) -> list[tuple]:
    """The statements one request runs; it must answer `status`."""
    with recording() as statements:
        response = request()
    assert response.status_code == status, response.get_json()
    return statements


def test_every_enrollment_statement_is_an_index_look_up(client, seeded, database_url):
    student_id, section = busy_student_and_open_section(seeded)
    path = f"/api/v1/sections/{section['id']}/enrollments"
    statements = statements_of(lambda: client.post(path, json={"student_id": student_id}), 201)
    seeded.execute(
        "DELETE FROM enrollments WHERE section_id = %s AND student_id = %s",
        (section["id"], student_id),
    )
    before = explain(database_url, statements)

    crowd(seeded, section["days"], section["starts_at"], section["ends_at"])

    assert_index_look_ups(before, explain(database_url, statements))


def test_moving_a_section_checks_its_students_by_index(client, seeded, database_url):
    section_id = seeded.execute(
        "SELECT e.section_id FROM enrollments AS e JOIN sections AS s ON s.id = e.section_id"
        " WHERE s.term = %s GROUP BY e.section_id ORDER BY count(*) DESC LIMIT 1",
        (TERM,),
    ).fetchone()["section_id"]
    statements = statements_of(
        lambda: client.patch(f"/api/v1/sections/{section_id}", json=FREE_TIME), 200
    )
    before = reads(explain(database_url, statements))

    crowd(seeded, **FREE_TIME)

    assert_index_look_ups(before, reads(explain(database_url, statements)))
