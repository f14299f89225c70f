"""SQL for the outbox: mail written in the same transaction as the change it reports."""

from psycopg import Connection


def add(conn: Connection, to_address: str, subject: str, body: str) -> None:
    """Queue a mail; Unit 4's worker sends it."""
    conn.execute(
        "INSERT INTO outbox (to_address, subject, body) VALUES (%s, %s, %s)",
        (to_address, subject, body),
    )
