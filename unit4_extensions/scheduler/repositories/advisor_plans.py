"""SQL for the advisor's plans: the request, what was sent and answered, and the outcome."""

from datetime import datetime

from psycopg import Connection, sql
from psycopg.types.json import Jsonb

# What a plan's owner sees of it (the prompt and the raw answer stay in the database).
PUBLIC_COLUMNS = sql.SQL("""
    id, student_id, term, goals, status, provider, model, plan, removed, failure_reason,
    prompt_tokens, completion_tokens, latency_ms, created_at, finished_at, accepted_at,
    acceptance
""")


def create(conn: Connection, request: dict) -> dict:
    """Record a new, pending plan from the `request` (student_id, term, goals, provider, model
    and created_at, the time the quota counts from) and return it."""
    statement = sql.SQL("""
        INSERT INTO advisor_plans (student_id, term, goals, provider, model, created_at)
        VALUES (%(student_id)s, %(term)s, %(goals)s, %(provider)s, %(model)s, %(created_at)s)
        RETURNING {columns}
    """).format(columns=PUBLIC_COLUMNS)
    return conn.execute(statement, request).fetchone()


def get(conn: Connection, plan_id: int, *, lock: bool = False) -> dict | None:
    """Return a plan as its owner sees it, or None (`lock`: FOR UPDATE, until the end of the
    transaction)."""
    statement = sql.SQL("SELECT {columns} FROM advisor_plans WHERE id = %s{lock}").format(
        columns=PUBLIC_COLUMNS, lock=sql.SQL(" FOR UPDATE" if lock else "")
    )
    return conn.execute(statement, (plan_id,)).fetchone()


# --8<-- [start:quota]
def made_since(conn: Connection, student_id: int, start: datetime) -> dict:
    """Count the student's plans made after `start`, and say when the oldest of them was."""
    return conn.execute(
        """
        SELECT count(*) AS made, min(created_at) AS oldest
          FROM advisor_plans
         WHERE student_id = %s AND created_at > %s
        """,
        (student_id, start),
    ).fetchone()
    # --8<-- [end:quota]


def finish_ready(conn: Connection, plan_id: int, outcome: dict) -> None:
    """Store a usable answer: the prompt, the raw response, the checked plan, what was removed
    and why, the token counts and the latency."""
    conn.execute(
        """
        UPDATE advisor_plans
           SET status = 'ready', finished_at = now(), model = %(model)s,
               prompt = %(prompt)s, response = %(response)s, plan = %(plan)s,
               removed = %(removed)s, prompt_tokens = %(prompt_tokens)s,
               completion_tokens = %(completion_tokens)s, latency_ms = %(latency_ms)s
         WHERE id = %(id)s
        """,
        {
            **outcome,
            "id": plan_id,
            "prompt": Jsonb(outcome["prompt"]),
            "plan": Jsonb(outcome["plan"]),
            "removed": Jsonb(outcome["removed"]),
        },
    )


def finish_failed(conn: Connection, plan_id: int, reason: str, outcome: dict) -> None:
    """Store a failure and its reason, with whatever was sent and came back before it."""
    conn.execute(
        """
        UPDATE advisor_plans
           SET status = 'failed', finished_at = now(), failure_reason = %(reason)s,
               model = coalesce(%(model)s, model), prompt = %(prompt)s,
               response = %(response)s, prompt_tokens = %(prompt_tokens)s,
               completion_tokens = %(completion_tokens)s, latency_ms = %(latency_ms)s
         WHERE id = %(id)s
        """,
        {
            "model": None,
            "response": None,
            "prompt_tokens": None,
            "completion_tokens": None,
            "latency_ms": None,
            **outcome,
            "id": plan_id,
            "reason": reason,
            "prompt": Jsonb(outcome.get("prompt")),
        },
    )


def mark_accepted(conn: Connection, plan_id: int) -> None:
    """Record that the plan's student has accepted it."""
    conn.execute("UPDATE advisor_plans SET accepted_at = now() WHERE id = %s", (plan_id,))


def record_acceptance(conn: Connection, plan_id: int, results: list[dict]) -> None:
    """Keep what accepting the plan did, section by section."""
    conn.execute(
        "UPDATE advisor_plans SET acceptance = %s WHERE id = %s", (Jsonb(results), plan_id)
    )


# --8<-- [start:prompt-data]
def enrolled_sections(conn: Connection, student_id: int, term: str) -> list[dict]:
    """The student's sections in the term (seated or waiting: both count for clashes and
    credits), with their course and meetings."""
    return conn.execute(
        """
        SELECT s.id, c.code, c.title, c.credits, s.days::text[] AS days,
               s.starts_at, s.ends_at, e.status
          FROM enrollments AS e
          JOIN sections AS s ON s.id = e.section_id
          JOIN courses AS c ON c.id = s.course_id
         WHERE e.student_id = %s AND s.term = %s
         ORDER BY s.id
        """,
        (student_id, term),
    ).fetchall()


# A section as the advisor sees it: its term, course, meetings and seats left.
SECTIONS_WITH_SEATS = sql.SQL("""
    SELECT s.id, s.term, c.code, c.title, c.credits, s.days::text[] AS days,
           s.starts_at, s.ends_at, s.capacity - seats.enrolled AS seats_left
      FROM sections AS s
      JOIN courses AS c ON c.id = s.course_id
     CROSS JOIN LATERAL (
           SELECT count(*) AS enrolled FROM enrollments AS e
            WHERE e.section_id = s.id AND e.status = 'enrolled') AS seats
""")


def open_sections(conn: Connection, term: str, limit: int) -> list[dict]:
    """Up to `limit` sections of the term with a seat left, with course and meetings."""
    statement = sql.SQL(
        "{sections} WHERE s.term = %s AND seats.enrolled < s.capacity ORDER BY s.id LIMIT %s"
    ).format(sections=SECTIONS_WITH_SEATS)
    return conn.execute(statement, (term, limit)).fetchall()
    # --8<-- [end:prompt-data]


def sections_by_id(conn: Connection, section_ids: list[int]) -> dict[int, dict]:
    """The named sections that exist, by id, with their term, course, meetings and seats."""
    statement = sql.SQL("{sections} WHERE s.id = ANY(%s)").format(sections=SECTIONS_WITH_SEATS)
    rows = conn.execute(statement, (section_ids,)).fetchall()
    return {row["id"]: row for row in rows}


# --8<-- [start:slots]
# The advisory locks of the advisor's slots: (this number, slot) in PostgreSQL's two-key
# form, so that they cannot collide with the single-key locks taken elsewhere.
SLOT_LOCK_CLASS = 4_07


def try_take_slot(conn: Connection, slot: int) -> bool:
    """Take the slot for this connection's session if it is free; say whether it was."""
    return conn.execute(
        "SELECT pg_try_advisory_lock(%s, %s) AS taken", (SLOT_LOCK_CLASS, slot)
    ).fetchone()["taken"]


def free_slot(conn: Connection, slot: int) -> None:
    """Let go of a slot this connection holds."""
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (SLOT_LOCK_CLASS, slot))
    # --8<-- [end:slots]
