"""SQL for email verification tokens, stored only as hashes."""

from datetime import datetime, timedelta

from psycopg import Connection


def create(
    conn: Connection, user_id: int, token_hash: str, now: datetime, lifetime: timedelta
) -> None:
    """Store a new verification token's hash, made `now` and valid for `lifetime`."""
    conn.execute(
        "INSERT INTO email_verifications (user_id, token_hash, created_at, expires_at)"
        " VALUES (%s, %s, %s, %s)",
        (user_id, token_hash, now, now + lifetime),
    )


def count_since(conn: Connection, user_id: int, since: datetime) -> int:
    """Count the tokens made for the user after `since` (each was one mail)."""
    return conn.execute(
        "SELECT count(*) AS made FROM email_verifications WHERE user_id = %s AND created_at > %s",
        (user_id, since),
    ).fetchone()["made"]


def use(conn: Connection, token_hash: str, now: datetime) -> int | None:
    """Spend a token that is unused and unexpired, in one statement; return its user's id.

    A single UPDATE both checks and spends it, so two requests with the same token cannot
    both succeed.
    """
    row = conn.execute(
        """
        UPDATE email_verifications SET used_at = %(now)s
         WHERE token_hash = %(token_hash)s AND used_at IS NULL AND expires_at > %(now)s
        RETURNING user_id
        """,
        {"token_hash": token_hash, "now": now},
    ).fetchone()
    return row["user_id"] if row else None


# --8<-- [start:purge]
def purge(conn: Connection, now: datetime, counted_since: datetime, limit: int) -> int:
    """Delete up to `limit` tokens that can no longer be used (used, or expired by `now`) and
    no longer count towards the resend limit (made before `counted_since`); return how many."""
    return conn.execute(
        """
        DELETE FROM email_verifications
         WHERE id IN (SELECT id FROM email_verifications
                       WHERE (used_at IS NOT NULL OR expires_at <= %(now)s)
                         AND created_at <= %(counted_since)s
                       ORDER BY id
                       LIMIT %(limit)s)
        """,
        {"now": now, "counted_since": counted_since, "limit": limit},
    ).rowcount
    # --8<-- [end:purge]
