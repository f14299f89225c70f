"""SQL for the outbox: mail written in the same transaction as the change it reports."""

from psycopg import Connection


def add(conn: Connection, to_address: str, subject: str, body: str) -> int:
    """Keep a mail to send; return its id."""
    return conn.execute(
        "INSERT INTO outbox (to_address, subject, body) VALUES (%s, %s, %s) RETURNING id",
        (to_address, subject, body),
    ).fetchone()["id"]


def newest(conn: Connection, to_address: str | None, limit: int) -> list[dict]:
    """The newest mails first, all of them or those to one address (in any letter case)."""
    return conn.execute(
        """
        SELECT to_address, subject, created_at, body
        FROM outbox
        WHERE %(to)s::text IS NULL OR lower(to_address) = lower(%(to)s::text)
        ORDER BY created_at DESC, id DESC
        LIMIT %(limit)s
        """,
        {"to": to_address, "limit": limit},
    ).fetchall()
