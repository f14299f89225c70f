"""SQL for refresh tokens: hashed, grouped in families, spent on use."""

from datetime import datetime, timedelta
from uuid import UUID

from psycopg import Connection


# One argument per column the row is made of: grouping them would only hide that.
def create(  # noqa: PLR0913, PLR0917
    conn: Connection,
    user_id: int,
    family_id: UUID,
    token_hash: str,
    now: datetime,
    lifetime: timedelta,
) -> None:
    """Store a new refresh token's hash in the family, made `now` and valid for `lifetime`."""
    conn.execute(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, created_at, expires_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (user_id, family_id, token_hash, now, now + lifetime),
    )


def lock(conn: Connection, token_hash: str, now: datetime) -> dict | None:
    """Return a refresh token by hash, locked, with whether it is still usable `now`."""
    return conn.execute(
        """
        SELECT id, user_id, family_id, used_at, revoked_at,
               used_at IS NULL AND revoked_at IS NULL AND expires_at > %(now)s AS usable
          FROM refresh_tokens
         WHERE token_hash = %(token_hash)s
           FOR UPDATE
        """,
        {"token_hash": token_hash, "now": now},
    ).fetchone()


def mark_used(conn: Connection, token_id: int) -> None:
    """Spend a refresh token (it was exchanged for a new one)."""
    conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = %s", (token_id,))


def revoke_family(conn: Connection, family_id: UUID) -> None:
    """Revoke every token of a login session (logout, or a reused token)."""
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = %s AND revoked_at IS NULL",
        (family_id,),
    )


# --8<-- [start:purge]
# A used token is the evidence of a theft: presented again, it revokes its family (see
# services.auth.refresh). It must stay while that family still has a token that works, or a
# thief replaying it would be refused without the family being revoked, and keep its live
# token. A family with no usable token left (all used, expired or revoked) can do no harm:
# its rows go together.
def purge(conn: Connection, now: datetime, limit: int) -> int:
    """Delete up to `limit` tokens of families that have no usable token left `now`; return
    how many."""
    return conn.execute(
        """
        DELETE FROM refresh_tokens
         WHERE id IN (SELECT spent.id FROM refresh_tokens AS spent
                       WHERE NOT EXISTS (
                             SELECT FROM refresh_tokens AS live
                              WHERE live.family_id = spent.family_id
                                AND live.used_at IS NULL AND live.revoked_at IS NULL
                                AND live.expires_at > %(now)s)
                       ORDER BY spent.id
                       LIMIT %(limit)s)
        """,
        {"now": now, "limit": limit},
    ).rowcount
    # --8<-- [end:purge]
