"""SQL for sections: served with their course, instructor, room and seat counts in one query."""

from psycopg import Connection, sql

from scheduler.repositories.table import TableRepository

sections = TableRepository(
    "sections",
    (
        "id",
        "course_id",
        "instructor_id",
        "room_id",
        "term",
        "capacity",
        "days",
        "starts_at",
        "ends_at",
        "notes",
    ),
)

# --8<-- [start:select]
# One statement for any number of sections: relations are JOINed, never fetched one by one.
# Every filter is a parameter; a filter left out is NULL and matches everything.
SELECT_SECTIONS = sql.SQL("""
    SELECT s.id, s.term, s.capacity, s.days::text[] AS days,
           to_char(s.starts_at, 'HH24:MI') AS starts_at,
           to_char(s.ends_at, 'HH24:MI') AS ends_at,
           s.notes,
           json_build_object('id', c.id, 'code', c.code, 'title', c.title) AS course,
           json_build_object('id', i.id, 'full_name', i.full_name) AS instructor,
           json_build_object('id', r.id, 'name', r.name) AS room,
           seats.enrolled,
           s.capacity - seats.enrolled AS seats_left,
           seats.waitlisted
      FROM sections AS s
      JOIN courses AS c ON c.id = s.course_id
      JOIN instructors AS i ON i.id = s.instructor_id
      JOIN rooms AS r ON r.id = s.room_id
     CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE e.status = 'enrolled')::int AS enrolled,
                  count(*) FILTER (WHERE e.status = 'waitlisted')::int AS waitlisted
             FROM enrollments AS e WHERE e.section_id = s.id
           ) AS seats
""")

FILTERS = sql.SQL("""
     WHERE (%(term)s::text IS NULL OR s.term = %(term)s)
       AND (%(course_id)s::bigint IS NULL OR s.course_id = %(course_id)s)
       AND (%(instructor_id)s::bigint IS NULL OR s.instructor_id = %(instructor_id)s)
       AND (%(room_id)s::bigint IS NULL OR s.room_id = %(room_id)s)
       AND (%(student_id)s::bigint IS NULL OR s.id IN (
               SELECT section_id FROM enrollments WHERE student_id = %(student_id)s))
""")

FILTER_NAMES = ("term", "course_id", "instructor_id", "room_id", "student_id")
# --8<-- [end:select]


# --8<-- [start:read]
def page(conn: Connection, filters: dict, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of sections matching the filters, and how many match in all."""
    params = {name: filters.get(name) for name in FILTER_NAMES}
    total = conn.execute(
        sql.SQL("SELECT count(*) AS total FROM sections AS s") + FILTERS, params
    ).fetchone()["total"]
    rows = conn.execute(
        SELECT_SECTIONS + FILTERS + sql.SQL(" ORDER BY s.id LIMIT %(limit)s OFFSET %(offset)s"),
        {**params, "limit": limit, "offset": offset},
    ).fetchall()
    return rows, total


# --8<-- [start:schedule]
# A student's sections, each with the student's own enrollment in it (seated or waiting).
SCHEDULE = sql.SQL("""
    SELECT listed.*,
           json_build_object(
               'status', mine.status,
               'position', waitlist_position(mine.section_id, mine.waitlist_ticket)
           ) AS enrollment
      FROM ({sections}) AS listed
      JOIN enrollments AS mine ON mine.section_id = listed.id AND mine.student_id = %(student_id)s
     ORDER BY listed.id
     LIMIT %(limit)s OFFSET %(offset)s
""")


def schedule(conn: Connection, student_id: int, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of a student's sections with their enrollment, and how many in all."""
    params = {**dict.fromkeys(FILTER_NAMES), "student_id": student_id}
    total = conn.execute(
        sql.SQL("SELECT count(*) AS total FROM sections AS s") + FILTERS, params
    ).fetchone()["total"]
    rows = conn.execute(
        SCHEDULE.format(sections=SELECT_SECTIONS + FILTERS),
        {**params, "limit": limit, "offset": offset},
    ).fetchall()
    return rows, total
    # --8<-- [end:schedule]


def get(conn: Connection, section_id: int) -> dict | None:
    """Return one section with its relations, or None."""
    return conn.execute(SELECT_SECTIONS + sql.SQL(" WHERE s.id = %s"), (section_id,)).fetchone()
    # --8<-- [end:read]


# --8<-- [start:lock]
def lock(conn: Connection, section_id: int) -> dict | None:
    """Lock a section's row until the transaction ends, so seat counts cannot race."""
    return sections.get(conn, section_id, lock=True)
    # --8<-- [end:lock]


def enrolled_students_clash(conn: Connection, section_id: int, days, starts_at, ends_at) -> bool:
    """Say whether moving the section to these times would clash with its students' timetables."""
    return conn.execute(
        """
        SELECT EXISTS (
            SELECT 1
              FROM enrollments AS mine
              JOIN enrollments AS theirs
                ON theirs.student_id = mine.student_id AND theirs.section_id <> mine.section_id
              JOIN sections AS s ON s.id = mine.section_id
              JOIN sections AS other ON other.id = theirs.section_id AND other.term = s.term
             WHERE mine.section_id = %(section_id)s
               AND other.meets && meeting_minutes(
                       %(days)s::weekday[], %(starts_at)s::time, %(ends_at)s::time)
        ) AS clash
        """,
        {"section_id": section_id, "days": days, "starts_at": starts_at, "ends_at": ends_at},
    ).fetchone()["clash"]
