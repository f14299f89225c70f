"""SQL for sections: served with their course, instructor, room and seat counts in one query."""

from psycopg import Connection, sql

from scheduler.repositories.rows import nest
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
# `{sections}` chooses the rows first (a page of the list, or one section); the JOINs and the
# seat count then run for those rows only, however deep the page. `nest` turns the
# `course__…`, `instructor__…` and `room__…` columns into the embedded objects.
SELECT_SECTIONS = sql.SQL("""
    SELECT s.id, s.term, s.capacity, s.days::text[] AS days,
           to_char(s.starts_at, 'HH24:MI') AS starts_at,
           to_char(s.ends_at, 'HH24:MI') AS ends_at,
           s.notes,
           c.id AS course__id, c.code AS course__code, c.title AS course__title,
           i.id AS instructor__id, i.full_name AS instructor__full_name,
           r.id AS room__id, r.name AS room__name,
           seats.enrolled,
           s.capacity - seats.enrolled AS seats_left,
           seats.waitlisted
      FROM ({sections}) AS s
      JOIN courses AS c ON c.id = s.course_id
      JOIN instructors AS i ON i.id = s.instructor_id
      JOIN rooms AS r ON r.id = s.room_id
     CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE e.status = 'enrolled')::int AS enrolled,
                  count(*) FILTER (WHERE e.status = 'waitlisted')::int AS waitlisted
             FROM enrollments AS e WHERE e.section_id = s.id
           ) AS seats
     ORDER BY s.id
""")

# What each filter means, fixed here: a request only picks which of these apply, and its
# values only ever fill their placeholders.
CONDITIONS = {
    "term": sql.SQL("s.term = %(term)s"),
    "course_id": sql.SQL("s.course_id = %(course_id)s"),
    "instructor_id": sql.SQL("s.instructor_id = %(instructor_id)s"),
    "room_id": sql.SQL("s.room_id = %(room_id)s"),
    "student_id": sql.SQL(
        "s.id IN (SELECT section_id FROM enrollments WHERE student_id = %(student_id)s)"
    ),
}
# --8<-- [end:select]


# --8<-- [start:read]
def page(conn: Connection, filters: dict, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of sections matching the filters, and how many match in all."""
    given = {name: filters[name] for name in CONDITIONS if filters.get(name) is not None}
    # Only the filters given become conditions. A catch-all `(x IS NULL OR col = x)` would
    # keep one text for every request, but once psycopg prepares it, PostgreSQL may reuse
    # one generic plan that fits no filter: it scans and counts every section (lesson 1.6).
    where = sql.SQL(" AND ").join([CONDITIONS[name] for name in given] or [sql.SQL("true")])
    return listed(conn, where, {**given, "limit": limit, "offset": offset})


def listed(
    conn: Connection, where: sql.Composable, params: dict, *, with_enrollment: bool = False
) -> tuple[list[dict], int]:
    """Return the page (`params` holds `limit` and `offset`) of the sections matching `where`,
    with their relations (and, `with_enrollment`, the student's enrollment in each, as the
    schedule shows), and how many match in all."""
    total = conn.execute(
        sql.SQL("SELECT count(*) AS total FROM sections AS s WHERE {}").format(where), params
    ).fetchone()["total"]
    chosen = sql.SQL(
        "SELECT * FROM sections AS s WHERE {} ORDER BY s.id LIMIT %(limit)s OFFSET %(offset)s"
    ).format(where)
    query = SELECT_SECTIONS.format(sections=chosen)
    if with_enrollment:
        query = SCHEDULE.format(sections=query)
    rows = conn.execute(query, params).fetchall()
    return [nest(row) for row in rows], total


# --8<-- [start:schedule]
# A student's sections, each with the student's own enrollment in it (seated or waiting).
SCHEDULE = sql.SQL("""
    SELECT listed.*,
           mine.status AS enrollment__status,
           waitlist_position(mine.section_id, mine.waitlist_ticket) AS enrollment__position
      FROM ({sections}) AS listed
      JOIN enrollments AS mine ON mine.section_id = listed.id AND mine.student_id = %(student_id)s
     ORDER BY listed.id
""")


def schedule(conn: Connection, student_id: int, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of a student's sections with their enrollment, and how many in all."""
    return listed(
        conn,
        CONDITIONS["student_id"],
        {"student_id": student_id, "limit": limit, "offset": offset},
        with_enrollment=True,
    )
    # --8<-- [end:schedule]


def get(conn: Connection, section_id: int) -> dict | None:
    """Return one section with its relations, or None."""
    chosen = sql.SQL("SELECT * FROM sections WHERE id = %(id)s")
    row = conn.execute(SELECT_SECTIONS.format(sections=chosen), {"id": section_id}).fetchone()
    return nest(row) if row else None
    # --8<-- [end:read]


# --8<-- [start:lock]
def lock(conn: Connection, section_id: int) -> dict | None:
    """Lock a section's row until the transaction ends, so seat counts cannot race. Its days
    come as a list of names, as a Meeting needs them (a bare weekday[] arrives as text)."""
    return conn.execute(
        "SELECT id, course_id, instructor_id, room_id, term, capacity, days::text[] AS days,"
        " starts_at, ends_at, notes FROM sections WHERE id = %s FOR UPDATE",
        (section_id,),
    ).fetchone()
    # --8<-- [end:lock]


# --8<-- [start:enrolled-students-clash]
# Driven from the section's students (its roster, by section_id) to their other enrollments
# (the primary key starts with student_id), each section then looked up by id: a cost that
# grows with the roster, not with the catalog (about 740 buffers for 50 students at seed scale
# 20 when nothing clashes). The LATERAL ... LIMIT 1 (one row at most anyway) keeps the planner
# from starting instead at every section meeting at the new time, through an exclusion
# constraint's GiST index: cheaper for a quiet time, but it reads every section meeting then.
def enrolled_students_clash(conn: Connection, section_id: int, days, starts_at, ends_at) -> bool:
    """Say whether moving the section to these times would clash with its students' timetables."""
    return conn.execute(
        """
        SELECT EXISTS (
            SELECT 1
              FROM enrollments AS mine
              JOIN enrollments AS theirs
                ON theirs.student_id = mine.student_id AND theirs.section_id <> mine.section_id
             CROSS JOIN LATERAL (
                   SELECT other.term, other.meets FROM sections AS other
                    WHERE other.id = theirs.section_id
                    LIMIT 1
                   ) AS other
             WHERE mine.section_id = %(section_id)s
               AND other.term = (SELECT term FROM sections WHERE id = %(section_id)s)
               AND other.meets && meeting_minutes(
                       %(days)s::weekday[], %(starts_at)s::time, %(ends_at)s::time)
        ) AS clash
        """,
        {"section_id": section_id, "days": days, "starts_at": starts_at, "ends_at": ends_at},
    ).fetchone()["clash"]
    # --8<-- [end:enrolled-students-clash]
