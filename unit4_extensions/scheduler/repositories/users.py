"""SQL for users. Only `credentials` reads the password hash; nothing serves it."""

from psycopg import Connection


def get(conn: Connection, user_id: int) -> dict | None:
    """Return a user's public fields by id, or None."""
    return conn.execute(
        "SELECT id, email, role, is_verified, student_id, instructor_id FROM users WHERE id = %s",
        (user_id,),
    ).fetchone()


def get_by_email(conn: Connection, email: str) -> dict | None:
    """Return a user's public fields by email, whatever its case, or None."""
    return conn.execute(
        "SELECT id, email, role, is_verified, student_id, instructor_id FROM users"
        " WHERE lower(email) = lower(%s)",
        (email,),
    ).fetchone()


def lock(conn: Connection, user_id: int) -> None:
    """Hold the user's row until the transaction ends, to serialize work on the account."""
    conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))


def credentials(conn: Connection, email: str) -> dict | None:
    """Return the id and password hash for an email, for checking a login, or None."""
    return conn.execute(
        "SELECT id, password_hash FROM users WHERE lower(email) = lower(%s)", (email,)
    ).fetchone()


def create(conn: Connection, fields: dict) -> dict:
    """Insert a user (email, password_hash, role, is_verified, student_id, instructor_id)."""
    return conn.execute(
        """
        INSERT INTO users (email, password_hash, role, is_verified, student_id, instructor_id)
        VALUES (%(email)s, %(password_hash)s, %(role)s, %(is_verified)s,
                %(student_id)s, %(instructor_id)s)
        RETURNING id, email, role, is_verified, student_id, instructor_id
        """,
        fields,
    ).fetchone()


def change_student_email(conn: Connection, student_id: int, email: str) -> None:
    """Move the login of the student's account (if they have one) to a new email."""
    conn.execute("UPDATE users SET email = %s WHERE student_id = %s", (email, student_id))


def change_instructor_email(conn: Connection, instructor_id: int, email: str) -> None:
    """Move the login of the instructor's account (if they have one) to a new email."""
    conn.execute("UPDATE users SET email = %s WHERE instructor_id = %s", (email, instructor_id))


def mark_verified(conn: Connection, user_id: int) -> dict:
    """Record that the user proved they own their email address; return the user."""
    return conn.execute(
        "UPDATE users SET is_verified = true WHERE id = %s"
        " RETURNING id, email, role, is_verified, student_id, instructor_id",
        (user_id,),
    ).fetchone()
