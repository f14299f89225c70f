"""SQL for enrollments: rosters, seats, the waitlist and timetable clashes."""

from psycopg import Connection


# --8<-- [start:roster]
def roster(conn: Connection, section_id: int, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of a section's students (joined; the seated in enrollment order, then
    the waiting in line order) and the count of both."""
    total = conn.execute(
        "SELECT count(*) AS total FROM enrollments WHERE section_id = %s", (section_id,)
    ).fetchone()["total"]
    rows = conn.execute(
        """
        SELECT json_build_object('id', st.id, 'full_name', st.full_name, 'email', st.email)
                   AS student,
               e.enrolled_at, e.status,
               waitlist_position(e.section_id, e.waitlist_ticket) AS position
          FROM enrollments AS e
          JOIN students AS st ON st.id = e.student_id
         WHERE e.section_id = %s
         ORDER BY e.status = 'waitlisted', e.waitlist_ticket, e.enrolled_at, st.id
         LIMIT %s OFFSET %s
        """,
        (section_id, limit, offset),
    ).fetchall()
    return rows, total
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


# --8<-- [start:clashing-section]
def clashing_section(conn: Connection, section_id: int, student_id: int) -> dict | None:
    """Return a section of the student's in the same term that meets at an overlapping time."""
    return conn.execute(
        """
        SELECT other.id, c.code, other.days::text[] AS days, other.starts_at, other.ends_at
          FROM sections AS target
          JOIN sections AS other ON other.term = target.term AND other.meets && target.meets
          JOIN enrollments AS e ON e.section_id = other.id AND e.student_id = %(student_id)s
          JOIN courses AS c ON c.id = other.course_id
         WHERE target.id = %(section_id)s
         LIMIT 1
        """,
        {"section_id": section_id, "student_id": student_id},
    ).fetchone()
    # --8<-- [end:clashing-section]


# --8<-- [start:credits-with]
def credits_with(conn: Connection, section_id: int, student_id: int) -> int:
    """Return the student's credits in the section's term if they also took this section."""
    return conn.execute(
        """
        SELECT c.credits + coalesce((
                   SELECT sum(other_course.credits)
                     FROM enrollments AS e
                     JOIN sections AS other ON other.id = e.section_id
                     JOIN courses AS other_course ON other_course.id = other.course_id
                    WHERE e.student_id = %(student_id)s AND other.term = s.term
               ), 0) AS credits
          FROM sections AS s
          JOIN courses AS c ON c.id = s.course_id
         WHERE s.id = %(section_id)s
        """,
        {"section_id": section_id, "student_id": student_id},
    ).fetchone()["credits"]
    # --8<-- [end:credits-with]


# --8<-- [start:create]
def create(conn: Connection, section_id: int, student_id: int, *, waitlisted: bool = False) -> dict:
    """Seat the student, or put them at the end of the section's line with a new ticket (the
    caller holds the section's lock, so tickets are drawn in the order students join)."""
    conn.execute(
        """
        INSERT INTO enrollments (section_id, student_id, status, waitlist_ticket)
        VALUES (%(section_id)s, %(student_id)s, %(status)s,
                CASE WHEN %(status)s::text = 'waitlisted'
                     THEN nextval('enrollments_waitlist_ticket_seq') END)
        """,
        {
            "section_id": section_id,
            "student_id": student_id,
            "status": "waitlisted" if waitlisted else "enrolled",
        },
    )
    return get(conn, section_id, student_id)
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


def delete(conn: Connection, section_id: int, student_id: int) -> bool:
    """Drop the student from the section (seat or place in line); say whether they had one."""
    cursor = conn.execute(
        "DELETE FROM enrollments WHERE section_id = %s AND student_id = %s",
        (section_id, student_id),
    )
    return cursor.rowcount == 1
