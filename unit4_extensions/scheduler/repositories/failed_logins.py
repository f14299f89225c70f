"""SQL for failed logins, the state behind throttling (shared by every server process)."""

from datetime import datetime

from psycopg import Connection


def lock_account(conn: Connection, email: str) -> None:
    """Serialize the throttle checks for one email until the transaction ends, so that
    concurrent attempts are counted one after another and cannot all slip under the limit."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(lower(%s)))", (email,))


def record(conn: Connection, email: str, client: str, now: datetime) -> int:
    """Remember one failed login for this email from this client, made `now`; return its id."""
    return conn.execute(
        "INSERT INTO failed_logins (email, client, attempted_at) VALUES (%s, %s, %s) RETURNING id",
        (email, client, now),
    ).fetchone()["id"]


def forget(conn: Connection, failure_id: int) -> None:
    """Take back a recorded failure: the attempt it stood for turned out to succeed."""
    conn.execute("DELETE FROM failed_logins WHERE id = %s", (failure_id,))


def since(conn: Connection, email: str, client: str, start: datetime) -> dict:
    """Count the failures after `start` for the email and the client, with the oldest of each."""
    return conn.execute(
        """
        SELECT count(*) FILTER (WHERE lower(email) = lower(%(email)s)) AS by_email,
               min(attempted_at) FILTER (WHERE lower(email) = lower(%(email)s)) AS email_oldest,
               count(*) FILTER (WHERE client = %(client)s) AS by_client,
               min(attempted_at) FILTER (WHERE client = %(client)s) AS client_oldest
          FROM failed_logins
         WHERE attempted_at > %(start)s
           AND (lower(email) = lower(%(email)s) OR client = %(client)s)
        """,
        {"email": email, "client": client, "start": start},
    ).fetchone()


def purge(conn: Connection, before: datetime, limit: int) -> int:
    """Delete up to `limit` failures made at or before `before` (older than every window a
    throttle counts in); return how many."""
    return conn.execute(
        """
        DELETE FROM failed_logins
         WHERE id IN (SELECT id FROM failed_logins
                       WHERE attempted_at <= %(before)s
                       ORDER BY id
                       LIMIT %(limit)s)
        """,
        {"before": before, "limit": limit},
    ).rowcount
