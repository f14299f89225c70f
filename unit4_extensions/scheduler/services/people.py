"""Student and instructor records: who may see a student's record and schedule, and a
person's email is also their account's login."""

from scheduler.identity import Identity
from scheduler.repositories import sections, users
from scheduler.repositories.instructors import instructors
from scheduler.repositories.students import students
from scheduler.services.access import ensure_student_or_admin
from scheduler.services.errors import Forbidden, NotFound
from scheduler.unit_of_work import Database


def student_not_found(student_id: int) -> NotFound:
    """The error for a student id that does not exist."""
    return NotFound(f"No student with id {student_id}.")


# --8<-- [start:own-record]
def get_student(database: Database, actor: Identity, student_id: int) -> dict:
    """A student record, for that student and admins."""
    ensure_student_or_admin(actor, student_id)
    with database.connection() as conn:
        student = students.get(conn, student_id)
    if student is None:
        raise student_not_found(student_id)
    return student


def update_student(database: Database, actor: Identity, student_id: int, fields: dict) -> dict:
    """Change a student record (one's own, or anyone's for an admin). An admin's change of
    the email moves the account's login with it, so the two never drift apart."""
    ensure_student_or_admin(actor, student_id)
    if "email" in fields and not actor.is_admin:
        raise Forbidden("Your email is also your login; ask an admin to change it.")
    with database.transaction() as conn:
        student = students.update(conn, student_id, fields)
        if student is None:
            raise student_not_found(student_id)
        if "email" in fields:
            users.change_student_email(conn, student_id, fields["email"])
        return student


def student_schedule(
    database: Database, actor: Identity, student_id: int, limit: int, offset: int
) -> tuple[list[dict], int]:
    """A page of the sections a student is enrolled in or waiting for (each with the
    student's status there), for that student and admins."""
    ensure_student_or_admin(actor, student_id)
    with database.connection() as conn:
        if students.get(conn, student_id) is None:
            raise student_not_found(student_id)
        return sections.schedule(conn, student_id, limit, offset)
        # --8<-- [end:own-record]


def update_instructor(database: Database, instructor_id: int, fields: dict) -> dict:
    """Change an instructor record (admins); a new email moves the account's login with it."""
    with database.transaction() as conn:
        instructor = instructors.update(conn, instructor_id, fields)
        if instructor is None:
            raise NotFound(f"No instructor with id {instructor_id}.")
        if "email" in fields:
            users.change_instructor_email(conn, instructor_id, fields["email"])
        return instructor
