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
