"""SQL for enrollments: rosters, seats, the waitlist and timetable clashes."""

from psycopg import Connection

from scheduler.repositories.rows import nest


# --8<-- [start:roster]
def roster(conn: Connection, section_id: int, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of a section's students (joined; the seated in enrollment order, then
    the waiting in line order) and the count of both."""
    total = conn.execute(
        "SELECT count(*) AS total FROM enrollments WHERE section_id = %s", (section_id,)
    ).fetchone()["total"]
    rows = conn.execute(
        """
        SELECT st.id AS student__id, st.full_name AS student__full_name,
               st.email AS student__email, e.enrolled_at, e.status,
               waitlist_position(e.section_id, e.waitlist_ticket) AS position
          FROM enrollments AS e
          JOIN students AS st ON st.id = e.student_id
         WHERE e.section_id = %s
         ORDER BY e.status = 'waitlisted', e.waitlist_ticket, e.enrolled_at, st.id
         LIMIT %s OFFSET %s
        """,
        (section_id, limit, offset),
    ).fetchall()
    return [nest(row) for row in rows], total
    # --8<-- [end:roster]


def count(conn: Connection, section_id: int) -> int:
    """Return how many seats of a section are taken (waiting students hold none)."""
    return conn.execute(
        "SELECT count(*) AS enrolled FROM enrollments"
        " WHERE section_id = %s AND status = 'enrolled'",
        (section_id,),
    ).fetchone()["enrolled"]


def has_waitlist(conn: Connection, section_id: int) -> bool:
    """Say whether anyone waits for a seat in the section."""
    return conn.execute(
        "SELECT EXISTS (SELECT FROM enrollments"
        " WHERE section_id = %s AND status = 'waitlisted') AS waiting",
        (section_id,),
    ).fetchone()["waiting"]


def get(conn: Connection, section_id: int, student_id: int) -> dict | None:
    """Return the student's enrollment in the section (seated or waiting), or None. A waiting
    student's position is computed, never stored."""
    return conn.execute(
        """
        SELECT section_id, student_id, enrolled_at, status,
               waitlist_position(section_id, waitlist_ticket) AS position
          FROM enrollments
         WHERE section_id = %s AND student_id = %s
        """,
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
        SELECT other.*, e.status
          FROM enrollments AS e
         CROSS JOIN LATERAL (
               SELECT s.id, s.term, s.meets, s.days::text[] AS days, s.starts_at, s.ends_at,
                      c.code, c.credits
                 FROM sections AS s
                 JOIN courses AS c ON c.id = s.course_id
                WHERE s.id = e.section_id
                LIMIT 1
               ) AS other
         WHERE e.student_id = %(student_id)s AND other.term = (SELECT term FROM target)
    )
    SELECT EXISTS (SELECT 1 FROM timetable WHERE timetable.id = target.id) AS already_enrolled,
           EXISTS (SELECT 1 FROM timetable
                    WHERE timetable.id = target.id AND timetable.status = 'waitlisted'
                  ) AS already_waiting,
           (SELECT count(*) FROM enrollments AS e
             WHERE e.section_id = target.id AND e.status = 'enrolled') AS enrolled,
           (SELECT count(*) FROM enrollments AS e
             WHERE e.section_id = target.id AND e.status = 'waitlisted') AS waiting,
           clash.id AS clash_id, clash.code AS clash_code, clash.days AS clash_days,
           clash.starts_at AS clash_starts_at, clash.ends_at AS clash_ends_at,
           target.credits + (SELECT coalesce(sum(credits), 0) FROM timetable) AS credits
      FROM target
      LEFT JOIN LATERAL (
           SELECT * FROM timetable
            WHERE timetable.id <> target.id AND timetable.meets && target.meets
            ORDER BY timetable.id
            LIMIT 1
           ) AS clash ON true
"""
CLASH_COLUMNS = ("id", "code", "days", "starts_at", "ends_at")


def seat_and_timetable(conn: Connection, section_id: int, student_id: int) -> dict:
    """Return what enrolling the student in the section would meet: `already_enrolled` (seated
    or waiting) and `already_waiting`, the seats taken (`enrolled`), how many are `waiting`,
    the first of their sections in that term it `clash`es with (id, code and meeting; None if
    none), and their `credits` that term with it. Sections they wait for count as theirs."""
    row = conn.execute(
        SEAT_AND_TIMETABLE, {"section_id": section_id, "student_id": student_id}
    ).fetchone()
    clash = {name: row.pop(f"clash_{name}") for name in CLASH_COLUMNS}
    return {**row, "clash": clash if clash["id"] is not None else None}
    # --8<-- [end:seat-and-timetable]


# --8<-- [start:create]
def create(
    conn: Connection, section_id: int, student_id: int, *, position: int | None = None
) -> dict:
    """Seat the student, or, given the `position` they join the line at, put them at its end
    with a new ticket. The caller holds the section's lock, so tickets are drawn in the order
    students join and nobody joins in between: the new ticket's place is that position."""
    return conn.execute(
        """
        INSERT INTO enrollments (section_id, student_id, status, waitlist_ticket)
        VALUES (%(section_id)s, %(student_id)s, %(status)s,
                CASE WHEN %(status)s::text = 'waitlisted'
                     THEN nextval('enrollments_waitlist_ticket_seq') END)
        RETURNING section_id, student_id, enrolled_at, status, %(position)s::int AS position
        """,
        {
            "section_id": section_id,
            "student_id": student_id,
            "status": "enrolled" if position is None else "waitlisted",
            "position": position,
        },
    ).fetchone()
    # --8<-- [end:create]


# --8<-- [start:promote-next]
def promote_next(conn: Connection, section_id: int) -> dict | None:
    """Give the next in the section's line a seat and return their enrollment, or None if
    nobody waits (the caller holds the section's lock and has checked that a seat is free)."""
    return conn.execute(
        """
        UPDATE enrollments
           SET status = 'enrolled', waitlist_ticket = NULL, enrolled_at = now()
         WHERE (section_id, student_id) = (
                   SELECT section_id, student_id FROM enrollments
                    WHERE section_id = %(section_id)s AND status = 'waitlisted'
                    ORDER BY waitlist_ticket
                    LIMIT 1)
        RETURNING section_id, student_id, enrolled_at, status, NULL::integer AS position
        """,
        {"section_id": section_id},
    ).fetchone()
    # --8<-- [end:promote-next]


def delete(conn: Connection, section_id: int, student_id: int) -> str | None:
    """Drop the student from the section; return the status they had ('enrolled' or
    'waitlisted'), or None if they were neither."""
    row = conn.execute(
        "DELETE FROM enrollments WHERE section_id = %s AND student_id = %s RETURNING status",
        (section_id, student_id),
    ).fetchone()
    return row["status"] if row else None
