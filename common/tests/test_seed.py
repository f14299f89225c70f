"""The seed data against a real PostgreSQL: counts, determinism, and every scheduling rule."""

import re
from dataclasses import astuple, fields
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from scheduler_common.seed import SeedCounts, SeedError, seed_database

AT_SCALE_1 = SeedCounts(
    courses=40, rooms=15, instructors=20, students=500, sections=120, enrollments=2000
)
TABLES = [f.name for f in fields(SeedCounts) if f.name != "accounts"]
# The columns that order each table's rows, for a digest of the whole database.
ORDER = {
    "courses": ["id"],
    "rooms": ["id"],
    "instructors": ["id"],
    "students": ["id"],
    "sections": ["id"],
    "enrollments": ["student_id", "section_id"],
}


def table_counts(conn: psycopg.Connection) -> SeedCounts:
    """Count the rows of every seeded table (on any connection, whatever its row factory)."""
    counts = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for table in TABLES:
            cur.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table)))
            counts[table] = cur.fetchone()["n"]
    return SeedCounts(**counts)


def digest(conn: psycopg.Connection) -> dict[str, str]:
    """An md5 of every table's rows in key order: equal digests mean equal data."""
    result = {}
    for table in TABLES:
        query = sql.SQL(
            "SELECT md5(string_agg(t::text, E'\\n' ORDER BY {})) AS d FROM {} t"
        ).format(sql.SQL(", ").join(map(sql.Identifier, ORDER[table])), sql.Identifier(table))
        result[table] = conn.execute(query).fetchone()["d"]
    return result


def violations(conn: psycopg.Connection, query: str) -> list[dict]:
    """Rows of a query that lists rule violations (so the expected answer is [])."""
    return conn.execute(query).fetchall()


def test_scale_1_has_the_documented_counts(schema_connection):
    counts = seed_database(schema_connection)

    assert counts == AT_SCALE_1
    assert table_counts(schema_connection) == AT_SCALE_1
    per_term = schema_connection.execute(
        "SELECT term, count(*) AS n FROM sections GROUP BY term ORDER BY term"
    ).fetchall()
    assert per_term == [{"term": "2027-fall", "n": 60}, {"term": "2027-spring", "n": 60}]


def test_scale_2_doubles_every_count(schema_connection):
    counts = seed_database(schema_connection, scale=2)

    assert counts == SeedCounts(*(2 * n for n in astuple(AT_SCALE_1)))
    assert table_counts(schema_connection) == counts
    per_term = schema_connection.execute(
        "SELECT term, count(*) AS n FROM sections GROUP BY term ORDER BY term"
    ).fetchall()
    assert [row["n"] for row in per_term] == [120, 120]


def test_the_same_seed_gives_the_same_data(schema_connection):
    seed_database(schema_connection, scale=2)
    first = digest(schema_connection)
    schema_connection.rollback()
    assert table_counts(schema_connection) == SeedCounts(0, 0, 0, 0, 0, 0)

    seed_database(schema_connection, scale=2)
    assert digest(schema_connection) == first
    schema_connection.rollback()

    seed_database(schema_connection, scale=2, random_seed=7)
    other = digest(schema_connection)
    assert other["courses"] == first["courses"]  # the catalog is fixed ...
    assert other["students"] != first["students"]  # ... the people and schedule are not
    assert other["sections"] != first["sections"]
    assert other["enrollments"] != first["enrollments"]


@pytest.mark.parametrize("scale", [1, 3])
def test_the_data_obeys_every_rule(schema_connection, scale):
    conn = schema_connection
    seed_database(conn, scale=scale)

    # A section fits in its room.
    assert not violations(
        conn,
        """SELECT s.id FROM sections s JOIN rooms r ON r.id = s.room_id
           WHERE s.capacity > r.capacity""",
    )
    # No room and no instructor is double-booked in a term (the database also refuses it).
    for column in ("room_id", "instructor_id"):
        query = sql.SQL(
            """SELECT a.id, b.id FROM sections a JOIN sections b
               ON a.{col} = b.{col} AND a.term = b.term AND a.id < b.id AND a.meets && b.meets"""
        ).format(col=sql.Identifier(column))
        assert not conn.execute(query).fetchall()
    # No section is over-full.
    assert not violations(
        conn,
        """SELECT s.id FROM sections s JOIN enrollments e ON e.section_id = s.id
           GROUP BY s.id HAVING count(*) > s.capacity""",
    )
    # No student has two sections of one term whose meetings overlap.
    assert not violations(
        conn,
        """SELECT e1.student_id, s1.id, s2.id
           FROM enrollments e1 JOIN sections s1 ON s1.id = e1.section_id
           JOIN enrollments e2 ON e2.student_id = e1.student_id AND e2.section_id > e1.section_id
           JOIN sections s2 ON s2.id = e2.section_id
           WHERE s2.term = s1.term AND s2.meets && s1.meets""",
    )
    # No student is in two sections of one course in a term.
    assert not violations(
        conn,
        """SELECT e.student_id, s.term, s.course_id
           FROM enrollments e JOIN sections s ON s.id = e.section_id
           GROUP BY e.student_id, s.term, s.course_id HAVING count(*) > 1""",
    )
    # At most 18 credits per student per term.
    assert not violations(
        conn,
        """SELECT e.student_id, s.term, sum(c.credits)
           FROM enrollments e JOIN sections s ON s.id = e.section_id
           JOIN courses c ON c.id = s.course_id
           GROUP BY e.student_id, s.term HAVING sum(c.credits) > 18""",
    )
    # Enrollments happen in the weeks before each term starts.
    assert not violations(
        conn,
        """SELECT e.student_id, e.section_id, s.term, e.enrolled_at
           FROM enrollments e JOIN sections s ON s.id = e.section_id
           WHERE NOT CASE s.term
               WHEN '2027-spring' THEN e.enrolled_at BETWEEN '2026-11-01Z' AND '2027-01-18Z'
               WHEN '2027-fall' THEN e.enrolled_at BETWEEN '2027-06-01Z' AND '2027-08-30Z'
           END""",
    )
    enrolled_at = conn.execute("SELECT enrolled_at FROM enrollments LIMIT 1").fetchone()
    assert enrolled_at["enrolled_at"].utcoffset().total_seconds() == 0
    assert enrolled_at["enrolled_at"] > datetime(2026, 1, 1, tzinfo=UTC)

    # Realistic shapes: the two terms, meeting patterns, credits, capacities, emails.
    terms = conn.execute("SELECT DISTINCT term FROM sections ORDER BY term").fetchall()
    assert [row["term"] for row in terms] == ["2027-fall", "2027-spring"]
    days = conn.execute("SELECT DISTINCT days::text AS days FROM sections ORDER BY 1").fetchall()
    assert [row["days"] for row in days] == ["{FRI}", "{MON,WED}", "{TUE,THU}"]
    assert not violations(conn, "SELECT id FROM sections WHERE ends_at - starts_at <> '75 min'")
    credits = conn.execute(
        """SELECT min(credits) AS lo, max(credits) AS hi,
                  count(*) FILTER (WHERE credits IN (3, 4)) AS common, count(*) AS n
           FROM courses"""
    ).fetchone()
    assert credits["lo"] >= 1
    assert credits["hi"] <= 6
    assert credits["common"] > credits["n"] / 2
    rooms = conn.execute("SELECT min(capacity) AS lo, max(capacity) AS hi FROM rooms").fetchone()
    assert rooms["lo"] >= 20
    assert rooms["hi"] <= 150
    for table, domain in (("instructors", "example.edu"), ("students", "students.example.edu")):
        rows = conn.execute(sql.SQL("SELECT email FROM {}").format(sql.Identifier(table)))
        emails = [row["email"] for row in rows]
        assert all(re.fullmatch(rf"[a-z]+\.[a-z]+[0-9]*@{re.escape(domain)}", e) for e in emails)
        assert len({e.lower() for e in emails}) == len(emails)
    codes = [row["code"] for row in conn.execute("SELECT code FROM courses")]
    assert {"CS101", "MATH210", "PHYS150", "HIST120", "BIO110"} <= set(codes)
    assert all(re.fullmatch(r"[A-Z]{2,6}[0-9]{3,4}[A-Z]?", code) for code in codes)
    # Every section has students.
    assert not violations(
        conn,
        """SELECT s.id FROM sections s
           WHERE NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.section_id = s.id)""",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO courses (code, title, credits) VALUES ('ZZ100', 'Already here', 3)",
        "INSERT INTO rooms (name, capacity) VALUES ('Old Hall 1', 10)",
        "INSERT INTO students (full_name, email) VALUES ('Ada Lovelace', 'ada@example.edu')",
    ],
)
def test_seeding_a_database_with_data_raises_and_writes_nothing(schema_connection, statement):
    schema_connection.execute(statement)
    schema_connection.commit()
    before = table_counts(schema_connection)

    with pytest.raises(SeedError, match="seed an empty database"):
        seed_database(schema_connection)

    assert table_counts(schema_connection) == before  # the transaction is still usable
    schema_connection.commit()
    assert table_counts(schema_connection) == before


def test_later_inserts_get_fresh_ids(schema_connection):
    conn = schema_connection
    seed_database(conn)
    conn.commit()

    course = conn.execute(
        "INSERT INTO courses (code, title, credits) VALUES ('NEW101', 'New Course', 3) RETURNING id"
    ).fetchone()
    room = conn.execute(
        "INSERT INTO rooms (name, capacity) VALUES ('New Annex 1', 30) RETURNING id"
    ).fetchone()
    instructor = conn.execute(
        "INSERT INTO instructors (full_name, email) VALUES ('New Person', 'new@example.edu')"
        " RETURNING id"
    ).fetchone()
    student = conn.execute(
        "INSERT INTO students (full_name, email) VALUES ('New Student', 'new@example.edu')"
        " RETURNING id"
    ).fetchone()
    section = conn.execute(
        """INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,
                                 starts_at, ends_at)
           VALUES (%s, %s, %s, '2027-spring', 20, '{SAT}', '09:00', '12:00') RETURNING id""",
        (course["id"], instructor["id"], room["id"]),
    ).fetchone()
    conn.execute(
        "INSERT INTO enrollments (student_id, section_id) VALUES (%s, %s)",
        (student["id"], section["id"]),
    )
    conn.commit()

    assert course["id"] == AT_SCALE_1.courses + 1
    assert room["id"] == AT_SCALE_1.rooms + 1
    assert instructor["id"] == AT_SCALE_1.instructors + 1
    assert student["id"] == AT_SCALE_1.students + 1
    assert section["id"] == AT_SCALE_1.sections + 1


def test_seeding_leaves_the_commit_to_the_caller(schema_connection):
    seed_database(schema_connection)
    with psycopg.connect(schema_connection.info.dsn, autocommit=True) as other:
        assert other.execute("SELECT count(*) FROM courses").fetchone() == (0,)
        schema_connection.commit()
        assert other.execute("SELECT count(*) FROM courses").fetchone() == (40,)


def test_seeding_analyzes_what_it_loaded(schema_connection):
    seed_database(schema_connection)
    schema_connection.commit()

    # reltuples is what the planner estimates from: -1 until a table is first analyzed.
    planner_rows = {
        row["relname"]: row["reltuples"]
        for row in schema_connection.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            (TABLES,),
        )
    }
    assert planner_rows == {table: getattr(AT_SCALE_1, table) for table in TABLES}


@pytest.mark.parametrize("scale", [0, -1, 10_000, 1.5, True, "2"])
def test_a_bad_scale_is_refused_before_anything_is_written(schema_connection, scale):
    with pytest.raises(ValueError, match="scale must be an integer"):
        seed_database(schema_connection, scale=scale)
    assert table_counts(schema_connection) == SeedCounts(0, 0, 0, 0, 0, 0)


def test_an_autocommit_connection_gets_all_the_data_in_one_transaction(schema_connection):
    schema_connection.autocommit = True
    assert seed_database(schema_connection) == AT_SCALE_1
    with psycopg.connect(schema_connection.info.dsn) as other:
        assert table_counts(other) == AT_SCALE_1
    with pytest.raises(SeedError):
        seed_database(schema_connection)
    assert table_counts(schema_connection) == AT_SCALE_1


def test_with_the_unit2_schema_every_person_gets_a_verified_account_and_there_is_an_admin(
    admin_connection, postgresql_server, unit2_schema_creator
):
    from psycopg import sql as psql

    from scheduler_common.seed import DEV_ADMIN_EMAIL, DEV_PASSWORD, DEV_PASSWORD_HASH
    from scheduler_common.testing import conninfo

    name = psql.Identifier("seed_accounts")
    admin_connection.execute(psql.SQL("CREATE DATABASE {}").format(name))
    try:
        with psycopg.connect(conninfo(postgresql_server, "seed_accounts")) as conn:
            unit2_schema_creator(conn)
            counts = seed_database(conn, dev_accounts=True)
            roles = dict(conn.execute("SELECT role, count(*) FROM users GROUP BY role").fetchall())
            unverified = conn.execute("SELECT count(*) FROM users WHERE NOT is_verified").fetchone()
            admin = conn.execute(
                "SELECT password_hash FROM users WHERE email = %s", (DEV_ADMIN_EMAIL,)
            ).fetchone()
    finally:
        admin_connection.execute(psql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))

    assert counts.accounts == 1 + 20 + 500
    assert roles == {"admin": 1, "instructor": 20, "student": 500}
    assert unverified == (0,)
    assert admin == (DEV_PASSWORD_HASH,)
    assert DEV_PASSWORD == "scheduler-dev"  # the password the guide and `serve` print


def test_with_the_unit2_schema_no_account_is_made_unless_asked(
    admin_connection, postgresql_server, unit2_schema_creator
):
    from psycopg import sql as psql

    from scheduler_common.testing import conninfo

    name = psql.Identifier("seed_no_accounts")
    admin_connection.execute(psql.SQL("CREATE DATABASE {}").format(name))
    try:
        with psycopg.connect(conninfo(postgresql_server, "seed_no_accounts")) as conn:
            unit2_schema_creator(conn)
            counts = seed_database(conn)
            users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    finally:
        admin_connection.execute(psql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))

    assert counts.accounts == 0
    assert users == 0
    assert counts.students == 500
