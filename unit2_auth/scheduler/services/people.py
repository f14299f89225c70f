"""Student and instructor records: a person's email is also their account's login."""

from psycopg import Connection

from scheduler.auth import Identity
from scheduler.errors import Forbidden, NotFound
from scheduler.repositories import users
from scheduler.repositories.instructors import instructors
from scheduler.repositories.students import students
from scheduler.services.access import ensure_student_or_admin


def update_student(conn: Connection, actor: Identity, student_id: int, fields: dict) -> dict:
    """Change a student record (one's own, or anyone's for an admin). An admin's change of
    the email moves the account's login with it, so the two never drift apart."""
    ensure_student_or_admin(actor, student_id)
    if "email" in fields and not actor.is_admin:
        raise Forbidden("Your email is also your login; ask an admin to change it.")
    student = students.update(conn, student_id, fields)
    if student is None:
        raise NotFound(f"No student with id {student_id}.")
    if "email" in fields:
        users.change_student_email(conn, student_id, fields["email"])
    return student


def update_instructor(conn: Connection, instructor_id: int, fields: dict) -> dict:
    """Change an instructor record (admins); a new email moves the account's login with it."""
    instructor = instructors.update(conn, instructor_id, fields)
    if instructor is None:
        raise NotFound(f"No instructor with id {instructor_id}.")
    if "email" in fields:
        users.change_instructor_email(conn, instructor_id, fields["email"])
    return instructor
