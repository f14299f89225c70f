"""SQL for enrollments: rosters, seats and timetable clashes."""

from psycopg import Connection

from scheduler.repositories.rows import nest


# --8<-- [start:roster]
def roster(conn: Connection, section_id: int, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of a section's students (joined, in enrollment order) and the count."""
    total = conn.execute(
        "SELECT count(*) AS total FROM enrollments WHERE section_id = %s", (section_id,)
    ).fetchone()["total"]
    rows = conn.execute(
        """
        SELECT st.id AS student__id, st.full_name AS student__full_name,
               st.email AS student__email, e.enrolled_at
          FROM enrollments AS e
          JOIN students AS st ON st.id = e.student_id
         WHERE e.section_id = %s
         ORDER BY e.enrolled_at, st.id
         LIMIT %s OFFSET %s
        """,
        (section_id, limit, offset),
    ).fetchall()
    return [nest(row) for row in rows], total
    # --8<-- [end:roster]


def count(conn: Connection, section_id: int) -> int:
    """Return how many students a section holds."""
    return conn.execute(
        "SELECT count(*) AS enrolled FROM enrollments WHERE section_id = %s", (section_id,)
    ).fetchone()["enrolled"]


def get(conn: Connection, section_id: int, student_id: int) -> dict | None:
    """Return the student's enrollment in the section, or None."""
    return conn.execute(
        "SELECT section_id, student_id, enrolled_at FROM enrollments"
        " WHERE section_id = %s AND student_id = %s",
        (section_id, student_id),
    ).fetchone()


# --8<-- [start:seat-and-timetable]
# Everything the enrollment rules ask, in one statement run while the section's row is locked:
# one round trip instead of four, and the lock held that much shorter. Every part is an index
# look-up, whatever the size of the catalog: the target by its id, its seats by section_id,
# and the student's own sections of that term from the student's enrollments (the primary key
# starts with student_id), a handful of rows. The LATERAL ... LIMIT 1 (one row at most anyway)
# keeps that a look-up by primary key per enrollment even where the planner would rather scan
# a small sections table. Joining sections to sections on `meets &&` instead let the planner
# walk an exclusion constraint's GiST index over every section of the term meeting at an
# overlapping time: 221-3,269 buffers at seed scale 20, where this reads about 70.
SEAT_AND_TIMETABLE = """
    WITH target AS (
        SELECT s.id, s.term, s.meets, c.credits
          FROM sections AS s
          JOIN courses AS c ON c.id = s.course_id
         WHERE s.id = %(section_id)s
    ), timetable AS (
        SELECT other.*
          FROM enrollments AS e
         CROSS JOIN LATERAL (
               SELECT s.id, s.term, s.meets, c.code, c.credits
                 FROM sections AS s
                 JOIN courses AS c ON c.id = s.course_id
                WHERE s.id = e.section_id
                LIMIT 1
               ) AS other
         WHERE e.student_id = %(student_id)s AND other.term = (SELECT term FROM target)
    )
    SELECT EXISTS (SELECT 1 FROM timetable WHERE timetable.id = target.id) AS already_enrolled,
           (SELECT count(*) FROM enrollments AS e WHERE e.section_id = target.id) AS enrolled,
           clash.id AS clash_id, clash.code AS clash_code,
           target.credits + (SELECT coalesce(sum(credits), 0) FROM timetable) AS credits
      FROM target
      LEFT JOIN LATERAL (
           SELECT * FROM timetable
            WHERE timetable.id <> target.id AND timetable.meets && target.meets
            ORDER BY timetable.id
            LIMIT 1
           ) AS clash ON true
"""
CLASH_COLUMNS = ("id", "code")


def seat_and_timetable(conn: Connection, section_id: int, student_id: int) -> dict:
    """Return what enrolling the student in the section would meet: `already_enrolled`, the
    seats taken (`enrolled`), the first of their sections in that term it `clash`es with
    (id and code; None if none), and their `credits` that term with it."""
    row = conn.execute(
        SEAT_AND_TIMETABLE, {"section_id": section_id, "student_id": student_id}
    ).fetchone()
    clash = {name: row.pop(f"clash_{name}") for name in CLASH_COLUMNS}
    return {**row, "clash": clash if clash["id"] is not None else None}
    # --8<-- [end:seat-and-timetable]


def create(conn: Connection, section_id: int, student_id: int) -> dict:
    """Enroll the student and return the enrollment."""
    return conn.execute(
        """
        INSERT INTO enrollments (section_id, student_id) VALUES (%s, %s)
        RETURNING section_id, student_id, enrolled_at
        """,
        (section_id, student_id),
    ).fetchone()


def delete(conn: Connection, section_id: int, student_id: int) -> bool:
    """Drop the student from the section; say whether they were enrolled."""
    cursor = conn.execute(
        "DELETE FROM enrollments WHERE section_id = %s AND student_id = %s",
        (section_id, student_id),
    )
    return cursor.rowcount == 1
