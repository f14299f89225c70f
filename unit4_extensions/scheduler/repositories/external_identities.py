"""SQL for external identities: which of our users an (issuer, subject) pair is."""

from psycopg import Connection


def find_user(conn: Connection, issuer: str, subject: str) -> dict | None:
    """Return the public fields of the user an issuer's subject is linked to, or None."""
    return conn.execute(
        """
        SELECT u.id, u.email, u.role, u.is_verified, u.student_id, u.instructor_id
          FROM external_identities AS e JOIN users AS u ON u.id = e.user_id
         WHERE e.issuer = %s AND e.subject = %s
        """,
        (issuer, subject),
    ).fetchone()


def link(conn: Connection, issuer: str, subject: str, user_id: int) -> None:
    """Record that the issuer's subject is this user."""
    conn.execute(
        "INSERT INTO external_identities (issuer, subject, user_id) VALUES (%s, %s, %s)",
        (issuer, subject, user_id),
    )
