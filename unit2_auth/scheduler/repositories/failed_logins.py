"""SQL for failed logins, the state behind throttling (shared by every server process)."""

from datetime import timedelta

from psycopg import Connection


def lock_account(conn: Connection, email: str) -> None:
    """Serialize the throttle checks for one email until the transaction ends, so that
    concurrent attempts are counted one after another and cannot all slip under the limit."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(lower(%s)))", (email,))


def record(conn: Connection, email: str, client: str) -> int:
    """Remember one failed login for this email from this client; return its id."""
    return conn.execute(
        "INSERT INTO failed_logins (email, client) VALUES (%s, %s) RETURNING id", (email, client)
    ).fetchone()["id"]


def forget(conn: Connection, failure_id: int) -> None:
    """Take back a recorded failure: the attempt it stood for turned out to succeed."""
    conn.execute("DELETE FROM failed_logins WHERE id = %s", (failure_id,))


def recent(conn: Connection, email: str, client: str, window: timedelta) -> dict:
    """Count the recent failures for the email and for the client, with the oldest of each."""
    return conn.execute(
        """
        SELECT count(*) FILTER (WHERE lower(email) = lower(%(email)s)) AS by_email,
               min(attempted_at) FILTER (WHERE lower(email) = lower(%(email)s)) AS email_oldest,
               count(*) FILTER (WHERE client = %(client)s) AS by_client,
               min(attempted_at) FILTER (WHERE client = %(client)s) AS client_oldest,
               now() AS now
          FROM failed_logins
         WHERE attempted_at > now() - %(window)s
           AND (lower(email) = lower(%(email)s) OR client = %(client)s)
        """,
        {"email": email, "client": client, "window": window},
    ).fetchone()
