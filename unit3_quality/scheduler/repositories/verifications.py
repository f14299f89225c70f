"""SQL for email verification tokens, stored only as hashes."""

from datetime import timedelta

from psycopg import Connection


def create(conn: Connection, user_id: int, token_hash: str, lifetime: timedelta) -> None:
    """Store a new verification token's hash, valid for `lifetime`."""
    conn.execute(
        "INSERT INTO email_verifications (user_id, token_hash, expires_at)"
        " VALUES (%s, %s, now() + %s)",
        (user_id, token_hash, lifetime),
    )


def count_recent(conn: Connection, user_id: int, window: timedelta) -> int:
    """Count the tokens made for the user within `window` (each was one mail)."""
    return conn.execute(
        "SELECT count(*) AS made FROM email_verifications"
        " WHERE user_id = %s AND created_at > now() - %s",
        (user_id, window),
    ).fetchone()["made"]


def use(conn: Connection, token_hash: str) -> int | None:
    """Spend a token that is unused and unexpired, in one statement; return its user's id.

    A single UPDATE both checks and spends it, so two requests with the same token cannot
    both succeed.
    """
    row = conn.execute(
        """
        UPDATE email_verifications SET used_at = now()
         WHERE token_hash = %s AND used_at IS NULL AND expires_at > now()
        RETURNING user_id
        """,
        (token_hash,),
    ).fetchone()
    return row["user_id"] if row else None
